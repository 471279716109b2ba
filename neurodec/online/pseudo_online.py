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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from neurodec.errors import InvalidInputError

__all__ = [
    "ONLINE_METRICS",
    "RunSignal",
    "check_paradigm",
    "run_signal",
    "check_signal",
    "replay_run",
    "score_fold",
    "replay_array",
    "match_trials",
    "score_decisions",
    "pseudo_online_scores",
    "plot_pseudo_online",
]

log = logging.getLogger(__name__)

#: metrics a run's decisions can be scored with
ONLINE_METRICS = ("roc_auc", "accuracy", "balanced_accuracy")


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


@dataclass(frozen=True)
class RunSignal:
    """The continuous signal of one run and where its trials end.

    Attributes
    ----------
    data : ndarray, shape (n_channels, n_times)
        The paradigm's channels, in volts (as the file holds them).
    trial_ends : ndarray of int
        Sample (into ``data``) just after the end of each trial's offline epoch.
    labels : ndarray
        Each trial's label.
    ch_names : list of str
    sfreq : float
    n_times : int
        Samples per epoch (the decoder's window).
    """

    data: np.ndarray
    trial_ends: np.ndarray
    labels: np.ndarray
    ch_names: list
    sfreq: float
    n_times: int


def check_paradigm(paradigm: Any, dataset: Any) -> Any:
    """The paradigm's epoching spec for ``dataset``, refusing what a stream cannot replay
    (a resampled paradigm, a baseline, a filter bank)."""
    if getattr(paradigm, "resample", None) is not None:
        raise InvalidInputError("pseudo-online replays the recorded rate: use a paradigm without resample")
    if not hasattr(paradigm, "epoching_spec"):
        raise InvalidInputError(
            f"pseudo-online needs a neurodec paradigm (LeftRightImagery...), got {type(paradigm).__name__}"
        )
    spec = paradigm.epoching_spec(dataset)
    if spec.baseline is not None or spec.window_tmin != spec.tmin or spec.window_tmax != spec.tmax:
        raise InvalidInputError("pseudo-online decodes plain windows: use a paradigm without baseline")
    return spec


def run_signal(raws: Mapping, session: str, run: str, spec: Any) -> RunSignal:
    """The continuous picked signal (volts) of one run, with its trials' ends and labels.

    ``raws``: one subject's ``{session: {run: Raw}}`` (``dataset.get_data``).
    """
    from neurodec.online.causal import run_events
    from neurodec.paradigms.epoching import epoch_window

    raw = {str(k): v for k, v in raws.items()}[session]
    raw = {str(k): v for k, v in raw.items()}[run]
    data, onsets, labels, ch_names, sfreq, n_times = run_events(raw, spec)
    ends = onsets + epoch_window(spec.tmin, spec.tmax, sfreq).start + n_times
    return RunSignal(data, ends, np.asarray(labels), ch_names, sfreq, n_times)


def check_signal(signal: RunSignal, X: np.ndarray, where: str) -> None:
    """Refuse a run whose windows would not match the paradigm's epochs ``X``."""
    if signal.n_times != X.shape[-1] or len(signal.ch_names) != X.shape[1]:
        raise InvalidInputError(
            f"{where}: windows of {len(signal.ch_names)} x {signal.n_times} samples do not match the "
            f"paradigm's epochs {X.shape[1:]}"
        )


def replay_run(
    estimator: Any,
    signal: RunSignal,
    *,
    fmin: float | None,
    fmax: float | None,
    scale: float,
    step: float,
    chunk_size: int,
    metric: str,
) -> dict:
    """Replay one run through a :class:`StreamingDecoder` of the fitted ``estimator`` and
    score its decisions against the run's trials.

    Each trial is scored with the first decision whose window ends at or after the end
    of its offline epoch; trials whose decision is flagged (the filter's start-up) count
    as missing.

    Returns
    -------
    dict
        ``online`` (the score), ``n_online``, ``n_missing``, ``samples_file``,
        ``samples_decoded``, ``dropped``, ``decisions``, ``flagged``, ``replay_time``
        (seconds) and ``decode_ms`` (per decision).
    """
    from neurodec.online.decoder import StreamingDecoder

    dec = StreamingDecoder(
        estimator,
        window=signal.n_times / signal.sfreq,
        step=step,
        sfreq=signal.sfreq,
        ch_names=signal.ch_names,
        fmin=fmin,
        fmax=fmax,
        scale=scale,
    )
    t0 = time.perf_counter()
    decisions = replay_array(dec, signal.data, chunk_size)
    elapsed = time.perf_counter() - t0
    idx = match_trials(decisions, signal.trial_ends)
    usable = np.array([i >= 0 and decisions[i].ok for i in idx], dtype=bool)
    picked = [decisions[i] for i in idx[usable]]
    return {
        "online": score_decisions(metric, signal.labels[usable], picked, dec.classes_),
        "n_online": int(usable.sum()),
        "n_missing": int((~usable).sum()),
        "samples_file": int(signal.data.shape[1]),
        "samples_decoded": int(dec.n_accepted),
        "dropped": int(dec.n_dropped),
        "decisions": len(decisions),
        "flagged": int(dec.n_flagged),
        "replay_time": elapsed,
        "decode_ms": 1e3 * elapsed / max(len(decisions), 1),
    }


def score_fold(
    estimator: Any,
    grid: dict | None,
    X: np.ndarray,
    y: np.ndarray,
    domains: np.ndarray,
    train: np.ndarray,
    test: np.ndarray,
    signal: Any,
    spec: Any,
    scale: float,
    metric: str,
    step: float,
    chunk_size: int,
    random_state: int | None,
) -> dict:
    """Fit once on ``train``; score ``test`` offline and the run's signal replayed.

    ``domains``: each trial's ``subject/session``, given at fit to the steps that take
    domains (and used to re-centre the test run by itself offline).
    """
    from sklearn.base import clone
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from threadpoolctl import threadpool_limits

    from neurodec.evaluation.engine import DomainwisePredictor, domain_fit_params, domain_steps
    from neurodec.evaluation.metrics import get_metric

    scorer = get_metric(metric)
    with threadpool_limits(limits=1):
        model = clone(estimator)
        if grid:
            inner = StratifiedKFold(3, shuffle=True, random_state=random_state)
            model = GridSearchCV(model, grid, cv=inner, scoring=scorer, refit=True, n_jobs=1)
        names = domain_steps(model)
        t0 = time.perf_counter()
        model.fit(X[train], y[train], **domain_fit_params(names, domains[train]))
        fit_time = time.perf_counter() - t0
        scored = DomainwisePredictor(model, domains[test]) if names else model
        t0 = time.perf_counter()
        offline = float(scorer(scored, X[test], y[test]))
        offline_time = time.perf_counter() - t0
    fitted = model.best_estimator_ if grid else model
    online = replay_run(
        fitted,
        signal,
        fmin=spec.fmin,
        fmax=spec.fmax,
        scale=scale,
        step=step,
        chunk_size=chunk_size,
        metric=metric,
    )
    return {"fit_time": fit_time, "offline": offline, "offline_time": offline_time, **online}


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

    The same protocol as :class:`neurodec.online.evaluation.PseudoOnlineEvaluation`
    (``neurodec benchmark --evaluations pseudo-online``), which stores its folds in a
    results store; this function returns the replay details of every run in memory.

    Parameters
    ----------
    pipelines : dict of name -> unfitted estimator
        Steps that take domains (``Recentering``) get one per subject/session at fit;
        the held-out run is re-centred on itself offline and by the stream's running
        mean online (the streaming decoder's default adaptation).
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

    from neurodec.evaluation.engine import trial_domains
    from neurodec.evaluation.splitters import LeaveOneRunOutSplitter

    if metric not in (None, *ONLINE_METRICS):
        raise InvalidInputError(
            f"pseudo-online scores roc_auc, accuracy or balanced_accuracy, not {metric!r}"
        )
    spec = check_paradigm(paradigm, dataset)
    subjects = list(subjects) if subjects else list(dataset.subject_list)
    factor = float(getattr(dataset, "unit_factor", 1e6))
    rows = []
    for subject in subjects:
        X, y, meta = paradigm.get_data(dataset, [subject])
        domains = trial_domains(meta)
        raws = dataset.get_data(subjects=[subject])[subject]
        classes = np.unique(y)
        name = metric or ("roc_auc" if len(classes) == 2 else "accuracy")
        for fold in LeaveOneRunOutSplitter().iter_folds(y, meta):
            train, test, session = fold.train, fold.test, fold.session
            run = str(meta["run"].iloc[test[0]])
            signal = run_signal(raws, session, run, spec)
            check_signal(signal, X, f"{dataset.code} subject {subject} run {run}")
            for pname, pipe in pipelines.items():
                out = score_fold(
                    pipe, None, X, y, domains, train, test, signal, spec, factor, name, step, chunk_size, None
                )
                for timing in ("fit_time", "offline_time", "replay_time"):
                    out.pop(timing)
                offline = out.pop("offline")
                rows.append(
                    {
                        "dataset": dataset.code,
                        "subject": int(subject),
                        "session": session,
                        "run": run,
                        "pipeline": pname,
                        "metric": name,
                        "offline": offline,
                        "online": out.pop("online"),
                        "n_trials": len(test),
                        **out,
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
                    rows[-1]["online"],
                    out["n_online"],
                    len(test),
                )
    return pd.DataFrame(rows)


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
