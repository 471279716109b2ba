"""MOABB-like evaluation classes over neurodec's engine.

>>> from neurodec.evaluation import WithinSessionEvaluation
>>> ev = WithinSessionEvaluation(paradigm, [dataset], random_state=42, results="out/")
>>> table = ev.process({"TS+SVM": make_pipeline(Covariances("oas"), TangentSpace(), SVC())})

``process`` returns one row per (dataset, subject, session, pipeline) — folds
averaged for within-session, exactly as MOABB reports — and the per-fold rows
stay in the results store (:attr:`BaseEvaluation.store`).
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from neurodec.errors import InvalidInputError
from neurodec.evaluation.backends import BACKENDS
from neurodec.evaluation.engine import check_pipelines, run_protocol
from neurodec.evaluation.metrics import METRICS
from neurodec.evaluation.splitters import (
    CalibratedCrossSubjectSplitter,
    CrossSessionSplitter,
    CrossSubjectSplitter,
    WithinSessionSplitter,
)
from neurodec.evaluation.store import ResultsStore
from neurodec.evaluation.summary import per_session_scores

__all__ = [
    "BaseEvaluation",
    "WithinSessionEvaluation",
    "CrossSessionEvaluation",
    "CrossSubjectEvaluation",
    "EVALUATIONS",
]

log = logging.getLogger(__name__)


class BaseEvaluation:
    """Shared constructor and ``process`` of the evaluation protocols.

    Parameters
    ----------
    paradigm : paradigm
        An object with ``get_data(dataset, subjects) -> X, y, metadata``
        (neurodec's or MOABB's paradigms).
    datasets : dataset or list of datasets
        MOABB-compatible datasets; those the protocol cannot use (e.g. one
        session for cross-session) are dropped with a warning.
    random_state : int | None
        Seed of the fold shuffles; the same seed gives the same folds to every
        pipeline (and the same folds as MOABB).
    n_jobs : int
        Parallel tasks (``-1``: all cores).
    results : str | Path | ResultsStore | None
        Folder (or ``.sqlite`` file) of the durable results store, or an open
        :class:`ResultsStore` (shared, left open); ``None`` keeps results in memory.
    overwrite : bool
        Recompute the given pipelines instead of reusing stored results.
    metric : str | None
        ``None`` for MOABB's default (ROC-AUC for 2 classes, else accuracy), or
        one of ``roc_auc, accuracy, balanced_accuracy, kappa, log_loss, ece``.
    backend : {"loky", "threading", "sequential", "dask"}
        joblib backend for the folds.
    scheduler : str | distributed.Client | None
        Dask scheduler address or client (``backend="dask"`` only).
    progress : bool
        Show a tqdm progress bar.
    """

    #: protocol name written in the ``evaluation`` column
    name = ""
    #: metrics the protocol can score (``None``: every one of :data:`METRICS`)
    metrics: tuple[str, ...] | None = None
    _per_subject = True

    def __init__(
        self,
        paradigm: Any,
        datasets: Any,
        random_state: int | None = None,
        n_jobs: int = 1,
        results: str | os.PathLike | ResultsStore | None = None,
        overwrite: bool = False,
        metric: str | None = None,
        backend: str = "loky",
        scheduler: Any = None,
        progress: bool = True,
    ) -> None:
        if not hasattr(paradigm, "get_data"):
            raise InvalidInputError(
                f"paradigm must have get_data(dataset, subjects), got {type(paradigm).__name__}"
            )
        if datasets is None:
            raise InvalidInputError("give at least one dataset")
        if not isinstance(datasets, (list, tuple)):
            datasets = [datasets]
        for d in datasets:
            if not (hasattr(d, "subject_list") and hasattr(d, "code")):
                raise InvalidInputError(
                    f"{d!r} is not a dataset (needs .code and .subject_list); use "
                    "neurodec.datasets.get_dataset(name)"
                )
        if metric is not None and metric not in METRICS:
            raise InvalidInputError(f"unknown metric {metric!r}; choose one of {', '.join(sorted(METRICS))}")
        if backend not in BACKENDS:
            raise InvalidInputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
            raise InvalidInputError(f"n_jobs must be a positive int or -1, got {n_jobs!r}")
        kept = []
        for d in datasets:
            reason = self._incompatible(d)
            if reason:
                log.warning("%s dropped from %s: %s", d.code, type(self).__name__, reason)
            else:
                kept.append(d)
        if not kept:
            raise InvalidInputError(
                f"no dataset fits {type(self).__name__}: "
                + "; ".join(f"{d.code}: {self._incompatible(d)}" for d in datasets)
            )
        self.paradigm = paradigm
        self.datasets = kept
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.results = results
        self.overwrite = overwrite
        self.metric = metric
        self.backend = backend
        self.scheduler = scheduler
        self.progress = progress
        self.store = results if isinstance(results, ResultsStore) else ResultsStore(results)

    def _incompatible(self, dataset: Any) -> str:
        return ""

    def splitter(self):
        """The protocol's splitter (override)."""
        raise NotImplementedError

    def process(
        self,
        pipelines: Mapping[str, Any],
        param_grid: Mapping[str, dict] | None = None,
    ) -> pd.DataFrame:
        """Evaluate every pipeline on every dataset.

        Parameters
        ----------
        pipelines : dict of str -> estimator
            scikit-learn estimators (pipelines, braindecode's ``EEGClassifier``...).
        param_grid : dict of str -> dict, optional
            Per-pipeline grids (MOABB's ``param_grid``): a nested 3-fold
            ``GridSearchCV`` inside each training fold.

        Returns
        -------
        DataFrame
            One row per (dataset, subject, session, pipeline): ``score``,
            ``time`` (fit seconds), ``n_samples``, ``n_samples_test``,
            ``n_channels``, ``evaluation``, ``metric``, ``pipeline_key``, ``n_folds``,
            ``context`` and ``data_version`` (the store's keys of these rows).
        """
        folds = self.process_folds(pipelines, param_grid)
        return per_session_scores(folds)

    def process_folds(
        self,
        pipelines: Mapping[str, Any],
        param_grid: Mapping[str, dict] | None = None,
    ) -> pd.DataFrame:
        """As :meth:`process`, but one row per fold (the store's rows)."""
        check_pipelines(pipelines, param_grid)
        return self._run_protocol(pipelines, param_grid)

    def _run_protocol(
        self, pipelines: Mapping[str, Any], param_grid: Mapping[str, dict] | None, **extra: Any
    ) -> pd.DataFrame:
        """:func:`~neurodec.evaluation.engine.run_protocol` with this evaluation's settings
        (``extra``: its ``options`` and ``runner``)."""
        return run_protocol(
            evaluation=self.name,
            splitter=self.splitter(),
            per_subject=self._per_subject,
            paradigm=self.paradigm,
            datasets=self.datasets,
            pipelines=pipelines,
            store=self.store,
            metric=self.metric,
            param_grid=param_grid,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            backend=self.backend,
            scheduler=self.scheduler,
            overwrite=self.overwrite,
            progress=self.progress,
            **extra,
        )


class WithinSessionEvaluation(BaseEvaluation):
    """Stratified 5-fold cross-validation inside each session of each subject.

    Extra parameter: ``n_folds`` (default 5). Scores are averaged over folds
    per (subject, session), as MOABB reports them.
    """

    name = "WithinSession"

    def __init__(self, paradigm: Any, datasets: Any, *args: Any, n_folds: int = 5, **kwargs: Any) -> None:
        if not isinstance(n_folds, int) or n_folds < 2:
            raise InvalidInputError(f"n_folds must be an int >= 2, got {n_folds!r}")
        self.n_folds = n_folds
        super().__init__(paradigm, datasets, *args, **kwargs)

    def splitter(self) -> WithinSessionSplitter:
        return WithinSessionSplitter(self.n_folds, self.random_state)


class CrossSessionEvaluation(BaseEvaluation):
    """Leave one session out, per subject (datasets with one session are dropped)."""

    name = "CrossSession"

    def _incompatible(self, dataset: Any) -> str:
        n = getattr(dataset, "n_sessions", 2)
        return f"it has {n} session(s); cross-session needs at least 2" if n < 2 else ""

    def splitter(self) -> CrossSessionSplitter:
        return CrossSessionSplitter()


class CrossSubjectEvaluation(BaseEvaluation):
    """Leave one subject out (or group k-fold over subjects), scored per test
    subject and session.

    Extra parameters: ``n_splits`` (``None``: leave one subject out; an int:
    ``GroupKFold``), ``n_calibration`` (``None``, or trials per test
    subject-session moved to training: cross-subject with target calibration).
    """

    name = "CrossSubject"
    _per_subject = False

    def __init__(
        self,
        paradigm: Any,
        datasets: Any,
        *args: Any,
        n_splits: int | None = None,
        n_calibration: int | float | None = None,
        **kwargs: Any,
    ) -> None:
        self.n_splits = n_splits
        self.n_calibration = n_calibration
        super().__init__(paradigm, datasets, *args, **kwargs)
        if n_calibration is not None:
            self.name = "CrossSubjectCalibrated"

    def _incompatible(self, dataset: Any) -> str:
        n = len(dataset.subject_list)
        return f"it has {n} subject(s); cross-subject needs at least 2" if n < 2 else ""

    def splitter(self) -> CrossSubjectSplitter:
        if self.n_calibration is not None:
            return CalibratedCrossSubjectSplitter(self.n_calibration, self.n_splits, self.random_state)
        return CrossSubjectSplitter(self.n_splits)


class _Registry(Mapping):
    """CLI name -> evaluation class; an entry given as ``"module:Class"`` is imported
    on first use (the pseudo-online protocol lives in :mod:`neurodec.online`, a layer
    below this one, and needs nothing this layer does not have)."""

    def __init__(self, entries: dict[str, type[BaseEvaluation] | str]) -> None:
        self._entries = entries

    def __getitem__(self, name: str) -> type[BaseEvaluation]:
        entry = self._entries[name]
        if isinstance(entry, str):
            module, attr = entry.split(":")
            entry = self._entries[name] = getattr(importlib.import_module(module), attr)
        return entry

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


#: CLI names -> evaluation classes
EVALUATIONS: Mapping[str, type[BaseEvaluation]] = _Registry(
    {
        "within-session": WithinSessionEvaluation,
        "cross-session": CrossSessionEvaluation,
        "cross-subject": CrossSubjectEvaluation,
        "pseudo-online": "neurodec.online.evaluation:PseudoOnlineEvaluation",
    }
)


def __getattr__(name: str) -> Any:
    if name == "PseudoOnlineEvaluation":  # implemented in neurodec.online (see _Registry)
        return EVALUATIONS["pseudo-online"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
