"""Pseudo-online evaluation: a recorded run replayed through the StreamingDecoder.

Protocol (one fold per run): the pipeline is fitted on the offline epochs of
every other run of the subject's session (of the other sessions when the
session has one run), then the held-out run is scored twice with the same
fitted model:

* **offline**: on the run's epochs from the paradigm (zero-phase filtered over
  the whole run, cut at the events), as the other protocols score;
* **pseudo-online**: the run's continuous signal is pushed, chunk by chunk,
  through the :class:`~neurodec.online.StreamingDecoder` a live session uses
  (causal filter, sliding windows every ``step``); each trial is scored with
  the first decision whose window ends at or after the end of the trial's
  offline epoch (at most one step later). Trials whose decision is flagged
  (the start-up transient) count as missing.

Why runs rather than MOABB's proposed window splitters: a run is the unit a
lab records continuously, so it can be replayed as it was acquired, and
holding out whole runs keeps overlapping sliding windows of one stretch of
signal out of both training and test. Splitting the continuous signal into
windows and cross-validating over them would leak (neighbouring windows share
samples) and would never exercise the streaming state (filter, buffer, faults)
that this evaluation is about.

The replay is done in memory (chunks pushed straight into the decoder) rather
than through LSL: it is deterministic, runs faster than real time, and the
transport is tested on its own (an LSL replay delivers the file's samples
bit-exact, and the decisions equal those of the in-memory path).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from neurodec.errors import InvalidInputError

__all__ = [
    "replay_array",
    "match_trials",
    "score_decisions",
    "pseudo_online_scores",
    "store_rows",
    "plot_pseudo_online",
]

log = logging.getLogger(__name__)


def replay_array(decoder: Any, data: np.ndarray, chunk_size: int = 16) -> list:
    """Push ``data`` (n_channels, n_times) into ``decoder`` in chunks; all decisions."""
    out: list = []
    for start in range(0, data.shape[1], int(chunk_size)):
        out.extend(decoder.push(data[:, start : start + int(chunk_size)]))
    return out


def match_trials(decisions: Sequence[Any], trial_ends: np.ndarray) -> np.ndarray:
    """Index of the first decision whose window ends at or after each trial end
    (``-1`` when none does)."""
    ends = np.array([d.sample for d in decisions], dtype=np.int64)
    idx = np.searchsorted(ends, np.asarray(trial_ends, dtype=np.int64), side="left")
    return np.where(idx < len(ends), idx, -1)


def _positive_scores(
    classes: np.ndarray, proba: np.ndarray | None, scores: np.ndarray | None
) -> np.ndarray | None:
    if proba is not None:
        return proba[:, 1]
    if scores is not None:
        return scores.reshape(len(scores), -1)[:, -1]
    return None


def score_decisions(metric: str, y: np.ndarray, decisions: Sequence[Any], classes: np.ndarray) -> float:
    """Score one decision per trial (``roc_auc``, ``accuracy`` or ``balanced_accuracy``)."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

    if not len(decisions):
        return float("nan")
    pred = np.array([d.prediction for d in decisions])
    if metric == "accuracy":
        return float(accuracy_score(y, pred))
    if metric == "balanced_accuracy":
        return float(balanced_accuracy_score(y, pred))
    if metric == "roc_auc":
        if len(np.unique(y)) < 2:
            return float("nan")
        proba = None if decisions[0].probabilities is None else np.stack([d.probabilities for d in decisions])
        scores = None if decisions[0].scores is None else np.stack([d.scores for d in decisions])
        pos = _positive_scores(classes, proba, scores)
        if pos is None:
            raise InvalidInputError("roc_auc needs predict_proba or decision_function; use --metric accuracy")
        return float(roc_auc_score(y == classes[1], pos))
    raise InvalidInputError(f"pseudo-online scores roc_auc, accuracy or balanced_accuracy, not {metric!r}")


def _folds(meta: pd.DataFrame) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(session, run, train mask, test mask): leave one run out within its session,
    across sessions when the session has a single run."""
    out = []
    for (session, run), _ in meta.groupby(["session", "run"], sort=True):
        test = ((meta["session"] == session) & (meta["run"] == run)).to_numpy()
        same = (meta["session"] == session).to_numpy()
        train = same & ~test if (same & ~test).any() else ~same
        if train.any():
            out.append((str(session), str(run), train, test))
    return out


def _run_signal(raws: Mapping, session: str, run: str, spec: Any) -> tuple:
    """Continuous picked data (volts), trial end samples, labels and names of one run."""
    from neurodec.paradigms import epoching
    from neurodec.paradigms.raw_to_epochs import find_run_events, pick_run_channels

    raw = {str(k): v for k, v in raws.items()}[session]
    raw = {str(k): v for k, v in raw.items()}[run]
    picks = pick_run_channels(raw, spec)
    data = raw.get_data(picks=picks)
    sfreq = float(raw.info["sfreq"])
    events = find_run_events(raw, spec.event_id)
    window = epoching.epoch_window(spec.tmin, spec.tmax, sfreq)
    starts = epoching.epoch_starts(events[:, 0], window, sfreq, raw.first_samp)
    keep = epoching.keep_mask(starts, window.n_samples, data.shape[1])
    labels = epoching.labels_from_codes(events[keep, 2], spec.event_id)
    return (
        data,
        starts[keep] + window.n_samples,
        labels,
        [raw.ch_names[i] for i in picks],
        sfreq,
        window.n_samples,
    )


def pseudo_online_scores(
    pipelines: Mapping[str, Any],
    dataset: Any,
    paradigm: Any,
    subjects: Sequence[int] | None = None,
    *,
    step: float = 0.1,
    chunk_size: int = 16,
    metric: str | None = None,
) -> pd.DataFrame:
    """Offline and pseudo-online scores of each pipeline, one row per held-out run.

    Parameters
    ----------
    pipelines : dict of name -> unfitted estimator
    dataset : dataset
    paradigm : paradigm
        A neurodec paradigm (``LeftRightImagery``...); its band is the online filter.
    subjects : list of int | None
    step : float
        Seconds between online decisions.
    chunk_size : int
        Samples per pushed chunk.
    metric : str | None
        ``roc_auc`` (default for two classes), ``accuracy`` (default otherwise)
        or ``balanced_accuracy``.

    Returns
    -------
    DataFrame
        ``dataset, subject, session, run, pipeline, metric, offline, online,
        n_trials, n_online, n_missing, samples_file, samples_decoded, dropped,
        decisions, flagged, decode_ms`` (mean time of one ``push`` that
        produced decisions, per decision).
    """
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from neurodec.evaluation.metrics import get_metric
    from neurodec.online.decoder import StreamingDecoder

    if metric not in (None, "roc_auc", "accuracy", "balanced_accuracy"):
        raise InvalidInputError(
            f"pseudo-online scores roc_auc, accuracy or balanced_accuracy, not {metric!r}"
        )
    if getattr(paradigm, "resample", None) is not None:
        raise InvalidInputError("pseudo-online replays the recorded rate: use a paradigm without resample")
    spec = paradigm.epoching_spec(dataset)
    if spec.baseline is not None or spec.window_tmin != spec.tmin or spec.window_tmax != spec.tmax:
        raise InvalidInputError("pseudo-online decodes plain windows: use a paradigm without baseline")
    subjects = list(subjects) if subjects else list(dataset.subject_list)
    factor = float(getattr(dataset, "unit_factor", 1e6))
    rows = []
    for subject in subjects:
        X, y, meta = paradigm.get_data(dataset, [subject])
        raws = dataset.get_data(subjects=[subject])[subject]
        classes = np.unique(y)
        name = metric or ("roc_auc" if len(classes) == 2 else "accuracy")
        scorer = get_metric(name)
        for session, run, train, test in _folds(meta):
            if len(np.unique(y[test])) < 2 or len(np.unique(y[train])) < 2:
                continue
            data, trial_ends, labels, ch_names, sfreq, n_times = _run_signal(raws, session, run, spec)
            if n_times != X.shape[-1] or len(ch_names) != X.shape[1]:
                raise InvalidInputError(
                    f"{dataset.code} subject {subject} run {run}: windows of {len(ch_names)} x {n_times} "
                    f"samples do not match the paradigm's epochs {X.shape[1:]}"
                )
            for pname, pipe in pipelines.items():
                est = clone(pipe)
                with threadpool_limits(limits=1):
                    est.fit(X[train], y[train])
                    offline = float(scorer(est, X[test], y[test]))
                dec = StreamingDecoder(
                    est,
                    window=n_times / sfreq,
                    step=step,
                    sfreq=sfreq,
                    ch_names=ch_names,
                    fmin=spec.fmin,
                    fmax=spec.fmax,
                    scale=factor,
                )
                t0 = time.perf_counter()
                decisions = replay_array(dec, data, chunk_size)
                elapsed = time.perf_counter() - t0
                idx = match_trials(decisions, trial_ends)
                usable = np.array([i >= 0 and decisions[i].ok for i in idx], dtype=bool)
                picked = [decisions[i] for i in idx[usable]]
                online = score_decisions(name, labels[usable], picked, est.classes_)
                rows.append(
                    {
                        "dataset": dataset.code,
                        "subject": int(subject),
                        "session": session,
                        "run": run,
                        "pipeline": pname,
                        "metric": name,
                        "offline": offline,
                        "online": online,
                        "n_trials": int(test.sum()),
                        "n_online": int(usable.sum()),
                        "n_missing": int((~usable).sum()),
                        "samples_file": int(data.shape[1]),
                        "samples_decoded": int(dec.n_accepted),
                        "dropped": int(dec.n_dropped),
                        "decisions": len(decisions),
                        "flagged": int(dec.n_flagged),
                        "decode_ms": 1e3 * elapsed / max(len(decisions), 1),
                    }
                )
                log.info(
                    "%s s%s %s/%s %s: offline %.3f online %.3f (%d/%d trials)",
                    dataset.code,
                    subject,
                    session,
                    run,
                    pname,
                    offline,
                    online,
                    usable.sum(),
                    len(usable),
                )
    return pd.DataFrame(rows)


def store_rows(table: pd.DataFrame, pipelines: Mapping[str, Any], context: Mapping[str, Any]) -> list[dict]:
    """Rows for :class:`~neurodec.evaluation.store.ResultsStore`: per held-out run, one
    ``offline-run`` row (the offline score) and one ``pseudo-online`` row; the fold is
    the run's rank in its session."""
    from neurodec.evaluation.identity import content_hash, pipeline_key

    ctx = content_hash(dict(context))
    keys = {name: pipeline_key(name, est) for name, est in pipelines.items()}
    folds = table.groupby(["dataset", "subject", "session", "pipeline"]).cumcount()
    rows = []
    for fold, r in zip(folds, table.itertuples(index=False)):
        for evaluation, score, n_test in (
            ("offline-run", r.offline, r.n_trials),
            ("pseudo-online", r.online, r.n_online),
        ):
            rows.append(
                {
                    "dataset": r.dataset,
                    "subject": int(r.subject),
                    "session": str(r.session),
                    "pipeline": r.pipeline,
                    "pipeline_key": keys[r.pipeline],
                    "evaluation": evaluation,
                    "context": ctx,
                    "fold": int(fold),
                    "task": f"run-{r.run}",
                    "metric": r.metric,
                    "score": float(score),
                    "n_test": int(n_test),
                }
            )
    return rows


def plot_pseudo_online(table: pd.DataFrame, path: Any) -> Any:
    """Scatter of online vs offline score per held-out run, one colour per pipeline (PNG)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name, part in table.groupby("pipeline"):
        ax.scatter(part["offline"], part["online"], s=18, alpha=0.7, label=f"{name} (n={len(part)})")
    lo = float(np.nanmin(table[["offline", "online"]].to_numpy(dtype=float))) if len(table) else 0.0
    lo = min(lo, 0.5)
    ax.plot([lo, 1], [lo, 1], color="grey", lw=0.8)
    ax.set_xlabel(f"offline {table['metric'].iloc[0] if len(table) else ''} (held-out run)")
    ax.set_ylabel("pseudo-online (same model, causal stream)")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
