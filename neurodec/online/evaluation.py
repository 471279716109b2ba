"""Pseudo-online evaluation as a protocol of the evaluation engine.

:class:`PseudoOnlineEvaluation` (``neurodec benchmark --evaluations pseudo-online``)
holds out one run at a time (:class:`~neurodec.evaluation.splitters.LeaveOneRunOutSplitter`:
the other runs of the session train the model, the subject's other sessions when
the session is a single run), fits each pipeline once on the training epochs, and
scores the held-out run twice with that fitted model:

- ``<pipeline>``: its continuous signal replayed, chunk by chunk, through the
  :class:`~neurodec.online.StreamingDecoder` a live session uses (causal filter,
  a decision every ``step``), each trial scored with the first decision whose
  window ends at or after the end of its offline epoch
  (:func:`neurodec.online.pseudo_online.replay_run`);
- ``<pipeline> (offline)``: its epochs from the paradigm, as every other protocol
  scores them.

Pipelines with steps that take per-trial domains (``requires_domains``, e.g.
:class:`~neurodec.riemann.Recentering`) are fitted with one domain per subject and
session, as the engine fits them; offline, the held-out run is re-centred on its own
epochs (:class:`~neurodec.evaluation.engine.DomainwisePredictor`); online, the stream
adapts as a live session does by default (:class:`~neurodec.online.adapt.OnlineRecentering`:
the running mean of the windows decoded so far, no labels).

Both rows go to the results store in one transaction per fold, under the
evaluation ``PseudoOnline``, so ``neurodec results show|compare|plot`` report
online and offline side by side (and ``compare`` tests them paired per subject),
and the engine's bookkeeping applies as for the other protocols: the run
context (here also the step and chunk size), each subject's data version,
resuming (folds already stored are skipped), ``overwrite`` and MOABB's export.

Why leave-one-run-out rather than MOABB's proposed window splitters: see
:mod:`neurodec.online.pseudo_online`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from neurodec.errors import InvalidInputError
from neurodec.evaluation.backends import parallel_backend
from neurodec.evaluation.data import load_epochs
from neurodec.evaluation.engine import (
    check_pipelines,
    stored_tasks,
    task_id,
    trial_domains,
)
from neurodec.evaluation.evaluations import BaseEvaluation
from neurodec.evaluation.procs import terminate_gracefully
from neurodec.evaluation.splitters import LeaveOneRunOutSplitter
from neurodec.online.pseudo_online import (
    ONLINE_METRICS,
    check_paradigm,
    check_signal,
    run_signal,
    score_fold,
)

__all__ = ["PseudoOnlineEvaluation", "OFFLINE_SUFFIX", "online_offline_table"]

log = logging.getLogger(__name__)

#: suffix of the pipeline name under which the offline score of the same model is stored
OFFLINE_SUFFIX = " (offline)"


class PseudoOnlineEvaluation(BaseEvaluation):
    """Held-out runs replayed through the streaming decoder, beside their offline score.

    Parameters
    ----------
    paradigm, datasets, random_state, n_jobs, results, overwrite, backend, scheduler, progress
        As in :class:`neurodec.evaluation.WithinSessionEvaluation`. ``n_jobs``
        runs the folds of one subject side by side.
    metric : str | None
        ``roc_auc`` (default for two classes), ``accuracy`` (default otherwise) or
        ``balanced_accuracy``: the metrics one decision per trial can be scored with.
    step : float
        Seconds between two decisions of the streaming decoder.
    chunk_size : int
        Samples per chunk pushed into the decoder.

    Notes
    -----
    Each fold gives two rows: the pipeline's own name (its online score) and
    ``<name> (offline)`` (the offline score of the same fitted model on the same
    held-out run). Pipelines with a step that needs per-trial domains
    (``requires_domains``, e.g. ``Recentering``) are fitted with one domain per
    subject/session; offline the held-out run is re-centred on its own epochs, online
    by the running mean of the stream's decoded windows (``OnlineRecentering``, the
    streaming decoder's default adaptation).
    """

    name = "PseudoOnline"
    metrics = ONLINE_METRICS

    def __init__(
        self,
        paradigm: Any,
        datasets: Any,
        *args: Any,
        step: float = 0.1,
        chunk_size: int = 16,
        **kwargs: Any,
    ) -> None:
        metric = kwargs.get("metric")
        if metric is not None and metric not in ONLINE_METRICS:
            raise InvalidInputError(
                f"pseudo-online scores {', '.join(ONLINE_METRICS)}, not {metric!r}; pass one of them"
            )
        if getattr(paradigm, "resample", None) is not None:
            raise InvalidInputError(
                "pseudo-online replays the recorded rate: use a paradigm without resample"
            )
        try:
            step = float(step)
        except (TypeError, ValueError):
            step = float("nan")
        if not np.isfinite(step) or step <= 0:
            raise InvalidInputError(f"step must be a positive number of seconds, got {step!r}")
        if not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
            raise InvalidInputError(f"chunk_size must be a positive number of samples, got {chunk_size!r}")
        self.step = step
        self.chunk_size = int(chunk_size)
        super().__init__(paradigm, datasets, *args, **kwargs)

    def splitter(self) -> LeaveOneRunOutSplitter:
        return LeaveOneRunOutSplitter()

    def process_folds(
        self,
        pipelines: Mapping[str, Any],
        param_grid: Mapping[str, dict] | None = None,
    ) -> pd.DataFrame:
        """One row per (pipeline, held-out run) and scoring (online, ``(offline)``)."""
        param_grid = dict(param_grid or {})
        check_pipelines(pipelines, param_grid)
        kept: dict[str, Any] = {}
        for name, est in pipelines.items():
            if name.endswith(OFFLINE_SUFFIX):
                raise InvalidInputError(f"pipeline names may not end with {OFFLINE_SUFFIX!r}: {name!r}")
            kept[name] = est
        # every pipeline twice: its online rows under its name, its offline rows beside them
        both = {n: e for name, est in kept.items() for n, e in ((name, est), (name + OFFLINE_SUFFIX, est))}
        grids = {
            n: g for name, g in param_grid.items() if name in kept for n in (name, name + OFFLINE_SUFFIX)
        }
        options = {"step": self.step, "chunk_size": self.chunk_size}

        def runner(**kw: Any) -> None:
            _run_dataset(**kw, **options)

        return self._run_protocol(both, grids, options=options, runner=runner)


def _run_dataset(
    *,
    dataset,
    code,
    evaluation,
    context,
    versions,
    splitter,
    per_subject,
    paradigm,
    subjects,
    pipelines,
    keys,
    store,
    metric_name,
    param_grid,
    random_state,
    n_jobs,
    backend,
    scheduler,
    progress,
    step,
    chunk_size,
) -> None:
    """The engine's runner for the pseudo-online protocol (see :func:`run_protocol`)."""
    if metric_name not in ONLINE_METRICS:
        raise InvalidInputError(
            f"pseudo-online scores {', '.join(ONLINE_METRICS)}, not {metric_name!r}; pass --metric"
        )
    spec = check_paradigm(paradigm, dataset)
    scale = float(getattr(dataset, "unit_factor", 1e6))
    data = load_epochs(paradigm, dataset, subjects)
    if data.X.ndim != 3:
        raise InvalidInputError(
            f"pseudo-online decodes (channels, times) windows; {type(paradigm).__name__} gives "
            f"{data.X.ndim}-D epochs (a filter bank?)"
        )
    done = stored_tasks(store, code, evaluation, context, versions, per_subject)
    online = [n for n in pipelines if not n.endswith(OFFLINE_SUFFIX)]
    work = []  # (subject, its epochs, [(fold, pending pipelines)]): tasks ship one subject's data only
    remaining: dict[tuple[str, int], int] = defaultdict(int)
    for subject in subjects:
        sub = data.subset([subject])
        tasks = []
        for fold in splitter.iter_folds(sub.y, sub.metadata):
            t = task_id(fold)
            pending = [n for n in online if {(keys[n], t), (keys[n + OFFLINE_SUFFIX], t)} - done]
            if pending:
                tasks.append((fold, pending))
                for n in pending:
                    remaining[(n, subject)] += 1
        if tasks:
            work.append((subject, sub, tasks))
        for n in online:
            if not remaining[(n, subject)]:
                _complete(store, code, evaluation, context, keys, n, subject, versions)
    n_fits = sum(len(p) for _, _, tasks in work for _, p in tasks)
    if not n_fits:
        return
    n_channels = int(data.X.shape[1])
    with (
        terminate_gracefully(),
        parallel_backend(backend, n_jobs, scheduler) as jobs,
        tqdm(total=n_fits, desc=f"{code} {evaluation}", disable=not progress, unit="fold") as bar,
    ):
        for subject, sub, tasks in work:
            meta = sub.metadata
            domains = trial_domains(meta)  # for the steps that take them (Recentering)
            raws = dataset.get_data(subjects=[subject])[subject]
            signals = {}
            for fold, _ in tasks:
                run = str(meta["run"].iloc[fold.test[0]])
                signals[task_id(fold)] = signal = run_signal(raws, fold.session, run, spec)
                check_signal(signal, sub.X, f"{code} subject {subject} run {run}")
            del raws
            calls = (
                delayed(_tagged)(
                    (fold, name),
                    pipelines[name],
                    param_grid.get(name),
                    sub.X,
                    sub.y,
                    domains,
                    fold.train,
                    fold.test,
                    signals[task_id(fold)],
                    spec,
                    scale,
                    metric_name,
                    step,
                    chunk_size,
                    random_state,
                )
                for fold, names in tasks
                for name in names
            )
            for (fold, name), out in Parallel(n_jobs=jobs, return_as="generator_unordered")(calls):
                store.add(
                    _rows(
                        fold,
                        name,
                        out,
                        meta,
                        sub.y,
                        code,
                        evaluation,
                        context,
                        versions,
                        keys,
                        paradigm,
                        random_state,
                        metric_name,
                        n_channels,
                    )
                )
                remaining[(name, subject)] -= 1
                if not remaining[(name, subject)]:
                    _complete(store, code, evaluation, context, keys, name, subject, versions)
                bar.update(1)


def _tagged(tag, *args):
    return tag, score_fold(*args)


def _complete(store, code, evaluation, context, keys, name, subject, versions) -> None:
    for n in (name, name + OFFLINE_SUFFIX):
        store.mark_complete(code, evaluation, context, keys[n], subject, versions[subject])


def _rows(
    fold, name, out, meta, y, code, evaluation, context, versions, keys, paradigm, seed, metric, n_channels
) -> list[dict]:
    """The online and the offline row of one (fold, pipeline)."""
    run = str(meta["run"].iloc[fold.test[0]])
    common = {
        "dataset": code,
        "subject": int(fold.subject),
        "session": str(fold.session),
        "evaluation": evaluation,
        "context": context,
        "data_version": versions[int(fold.subject)],
        "seed": seed,
        "paradigm": type(paradigm).__name__,
        "fold": int(fold.fold),
        "task": task_id(fold),
        "metric": metric,
        "time": out["fit_time"],
        "n_train": int(len(fold.train)),
        "n_classes": int(len(np.unique(y[fold.test]))),
        "n_channels": n_channels,
    }
    log.info(
        "%s s%s %s/%s %s: offline %.3f online %.3f (%d/%d trials; %d of %d samples decoded)",
        code,
        fold.subject,
        fold.session,
        run,
        name,
        out["offline"],
        out["online"],
        out["n_online"],
        len(fold.test),
        out["samples_decoded"],
        out["samples_file"],
    )
    return [
        {
            **common,
            "pipeline": name,
            "pipeline_key": keys[name],
            "score": out["online"],
            "predict_time": out["replay_time"],
            "n_test": out["n_online"],
        },
        {
            **common,
            "pipeline": name + OFFLINE_SUFFIX,
            "pipeline_key": keys[name + OFFLINE_SUFFIX],
            "score": out["offline"],
            "predict_time": out["offline_time"],
            "n_test": int(len(fold.test)),
        },
    ]


def online_offline_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Pseudo-online store rows side by side: one row per (dataset, subject, session, fold,
    pipeline) with ``offline`` and ``online`` scores (``n_trials``: the run's trials,
    ``n_online``: those scored online)."""
    rows = rows[rows["evaluation"] == PseudoOnlineEvaluation.name]
    is_off = rows["pipeline"].str.endswith(OFFLINE_SUFFIX)
    keys = ["dataset", "subject", "session", "fold", "task", "metric", "context"]
    on = rows[~is_off][[*keys, "pipeline", "score", "n_test"]]
    off = rows[is_off].assign(pipeline=rows["pipeline"][is_off].str[: -len(OFFLINE_SUFFIX)])
    off = off[[*keys, "pipeline", "score", "n_test"]]
    table = on.merge(off, on=[*keys, "pipeline"], suffixes=("_online", "_offline"))
    return table.rename(
        columns={
            "score_online": "online",
            "score_offline": "offline",
            "n_test_online": "n_online",
            "n_test_offline": "n_trials",
        }
    )[[*keys, "pipeline", "offline", "online", "n_trials", "n_online"]]
