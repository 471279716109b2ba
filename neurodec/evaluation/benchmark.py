"""A whole benchmark: pipelines x datasets x evaluations into one results folder.

This is what ``neurodec benchmark`` and ``neurodec demo`` run. The folder gets
``results.sqlite`` (the durable store; re-running resumes), ``results.csv``
(every fold row of the store, not only this run's) and the PNG plots of
:mod:`neurodec.evaluation.plots` (also of the whole store, one panel per run
where runs differ: :func:`neurodec.evaluation.summary.label_runs`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.base import clone

from neurodec.errors import ConfigError, DataNotFoundError, InvalidInputError, UnknownNameError
from neurodec.evaluation.evaluations import EVALUATIONS
from neurodec.evaluation.pipelines import PipelineSpec, build_pipelines, read_pipeline_specs
from neurodec.evaluation.procs import terminate_gracefully
from neurodec.evaluation.python_pipelines import runnable_specs
from neurodec.evaluation.store import ResultsStore
from neurodec.evaluation.summary import per_session_scores, summary_table

__all__ = ["resolve_evaluations", "paradigm_for", "run_benchmark", "BenchmarkResult"]

log = logging.getLogger(__name__)

_ALIASES = {
    "withinsession": "within-session",
    "within_session": "within-session",
    "crosssession": "cross-session",
    "cross_session": "cross-session",
    "crosssubject": "cross-subject",
    "cross_subject": "cross-subject",
    "pseudoonline": "pseudo-online",
    "pseudo_online": "pseudo-online",
}


def resolve_evaluations(names: Sequence[str]) -> list[str]:
    """Canonical evaluation names (``within-session``, ``cross-session``,
    ``cross-subject``, ``pseudo-online``); MOABB's class-like spellings are accepted."""
    out = []
    for n in names:
        key = _ALIASES.get(n.lower().replace("evaluation", ""), n.lower())
        if key not in EVALUATIONS:
            raise UnknownNameError(f"unknown evaluation {n!r}; choose from {', '.join(EVALUATIONS)}")
        if key not in out:
            out.append(key)
    if not out:
        raise InvalidInputError(f"give at least one evaluation ({', '.join(EVALUATIONS)})")
    return out


def _paradigm_classes() -> dict[str, Any]:
    from neurodec.paradigms.registry import paradigm_classes

    return paradigm_classes()


def paradigm_for(dataset: Any, name: str | None = None) -> Any:
    """The paradigm to evaluate ``dataset`` with: ``name`` if given, else
    left/right imagery for imagery datasets with left/right hand events, n-class
    motor imagery for other imagery datasets, P300 for ERP datasets."""
    classes = _paradigm_classes()
    if name is not None:
        if name not in classes:
            raise UnknownNameError(f"unknown paradigm {name!r}; choose from {', '.join(classes)}")
        return classes[name]()
    kind = str(getattr(dataset, "paradigm", "")).lower()
    if kind == "imagery":
        events = set(getattr(dataset, "event_id", {}) or {})
        return (
            classes["LeftRightImagery"]()
            if {"left_hand", "right_hand"} <= events
            else classes["MotorImagery"]()
        )
    if kind == "p300":
        return classes["P300"]()
    if kind == "ssvep":
        return classes["SSVEP"]()
    raise InvalidInputError(f"{dataset.code}: no default paradigm for a {kind!r} dataset; pass --paradigm")


class BenchmarkResult:
    """What a benchmark produced: this run's fold rows, per-session scores and
    summary; the files written; ``n_stored``, the rows of the whole store."""

    def __init__(
        self, folds: pd.DataFrame, folder: Path | None, files: list[Path], n_stored: int = 0
    ) -> None:
        self.folds = folds
        self.scores = per_session_scores(folds)
        self.summary = summary_table(self.scores)
        self.folder = folder
        self.files = files
        self.n_stored = n_stored


def _paradigm_runs(
    dataset: Any, specs: list[PipelineSpec], source: Any, paradigm: str | None
) -> list[tuple[Any, list[PipelineSpec]]]:
    """``(paradigm, specs)`` to run on ``dataset``, as MOABB's benchmark does: each
    pipeline under the dataset's default paradigm if it lists it, else under the first
    paradigm it lists that fits the dataset (e.g. ``FilterBankMotorImagery`` for
    MOABB's FBCSP on an imagery dataset). ``paradigm`` forces one paradigm."""
    if paradigm is not None:
        par = paradigm_for(dataset, paradigm)
        groups = {type(par).__name__: (par, [s for s in specs if type(par).__name__ in s.paradigms])}
    else:
        classes = _paradigm_classes()
        try:
            default = paradigm_for(dataset)
        except InvalidInputError:
            default = None
        groups: dict[str, tuple[Any, list[PipelineSpec]]] = {}
        if default is not None:
            groups[type(default).__name__] = (default, [])
        for spec in specs:
            if default is not None and type(default).__name__ in spec.paradigms:
                groups[type(default).__name__][1].append(spec)
                continue
            for name in spec.paradigms:
                if name in groups or (name in classes and classes[name]().is_valid(dataset)):
                    groups.setdefault(name, (classes[name](), []))[1].append(spec)
                    break
            else:
                log.info(
                    "%s: no paradigm of pipeline %r fits it (%s)", dataset.code, spec.name, spec.paradigms
                )
    runs = [(par, chosen) for par, chosen in groups.values() if chosen]
    if not runs:
        wanted = type(default).__name__ if paradigm is None and default is not None else paradigm
        raise ConfigError(
            f"no pipeline in {source} lists paradigm {wanted} (needed by {dataset.code}) or another "
            f"paradigm that fits it; their paradigms: { {s.name: list(s.paradigms) for s in specs} }"
        )
    return runs


def _check_local(dataset: Any, subjects: Sequence[int]) -> None:
    check = getattr(dataset, "check_local", None)
    if callable(check):
        for s in subjects:
            check(s)


@terminate_gracefully()  # SIGTERM/SIGHUP (Slurm, timeout, a closed terminal) stop it as Ctrl-C does
def run_benchmark(
    pipelines: Mapping[str, Any] | str | os.PathLike,
    datasets: Sequence[Any],
    evaluations: Sequence[str] = ("within-session",),
    results: str | os.PathLike | None = None,
    *,
    paradigm: str | None = None,
    n_jobs: int = 1,
    random_state: int | None = 42,
    backend: str = "loky",
    scheduler: Any = None,
    metric: str | None = None,
    overwrite: bool = False,
    plots: bool = True,
    progress: bool = True,
    trust_modules: Sequence[str] | None = None,
    allow_python: bool = False,
    evaluation_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> BenchmarkResult:
    """Evaluate pipelines on datasets with the given protocols.

    Parameters
    ----------
    pipelines : dict of name -> estimator, a pipeline file / folder, or a list of specs
        From files (or :class:`~neurodec.evaluation.pipelines.PipelineSpec` s from
        :func:`~neurodec.evaluation.pipelines.read_pipeline_specs`), each dataset gets
        each pipeline under its default paradigm when the pipeline lists it, else under
        the first paradigm the pipeline lists that fits the dataset; with their
        ``param_grid``. Python pipeline files that were not executed are left out.
    datasets : list of datasets
        MOABB-compatible dataset objects (``neurodec.datasets.get_dataset``).
    evaluations : list of str
        ``within-session``, ``cross-session``, ``cross-subject``; a protocol a
        dataset cannot support (one session for cross-session) is skipped for it.
    results : folder | None
        Where the store, ``results.csv`` and plots go (``None``: memory only).
        Checked up front: a read-only or corrupt store fails before any work.
    paradigm : str | None
        Force a paradigm (one of :func:`neurodec.paradigms.list_paradigms`).
    trust_modules : list of str | None
        Modules outside the allow-list whose estimator classes the YAML files may use
        (see :func:`neurodec.evaluation.load_pipelines`).
    allow_python : bool
        Execute the Python pipeline files of a folder (they are code; see
        :mod:`neurodec.evaluation.python_pipelines`).
    evaluation_options : dict of str -> dict | None
        Options of one protocol's class, by evaluation name, e.g.
        ``{"pseudo-online": {"step": 0.25, "chunk_size": 32}}``.

    Raises
    ------
    ConfigError
        A pipeline file is invalid: every file is read and every pipeline built (its
        parameter names and values checked) before anything runs, and the error lists
        each invalid pipeline on its own line.

    Notes
    -----
    SIGTERM and SIGHUP stop the run as Ctrl-C does: the stored folds are kept
    (re-running resumes), workers and temporary files are removed, and
    :class:`neurodec.errors.Terminated` (exit status 143 for SIGTERM) is raised.
    """
    evaluations = resolve_evaluations(evaluations)
    extra = {resolve_evaluations([k])[0]: dict(v) for k, v in (evaluation_options or {}).items()}
    for ev in evaluations:
        allowed = EVALUATIONS[ev].metrics
        if metric is not None and allowed is not None and metric not in allowed:
            raise InvalidInputError(f"{ev} scores {', '.join(allowed)}, not {metric!r}; pass one of them")
    specs: list[PipelineSpec] | None = None
    built: dict[str, Any] = {}
    if isinstance(pipelines, (str, os.PathLike)):
        specs = read_pipeline_specs(pipelines, trust_modules=trust_modules, allow_python=allow_python)
    elif (
        isinstance(pipelines, (list, tuple))
        and pipelines
        and all(isinstance(s, PipelineSpec) for s in pipelines)
    ):
        specs = list(pipelines)
        pipelines = ", ".join(sorted({str(s.path.parent) for s in specs if s.path})) or "the given specs"
    elif not isinstance(pipelines, Mapping) or not pipelines:
        raise InvalidInputError(
            "pipelines must be a pipeline file/folder, a list of specs or a non-empty dict"
        )
    if specs is not None:
        specs = runnable_specs(specs)
        if not specs:
            raise ConfigError(
                f"no pipeline to run in {pipelines} (Python files run only with --allow-python)"
            )
        built = build_pipelines(specs)  # all checked up front: a bad one stops nothing half-way
    folder = Path(results) if results is not None else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise InvalidInputError(f"--results {folder} is a file; give a folder")
    options = dict(
        random_state=random_state,
        n_jobs=n_jobs,
        overwrite=overwrite,
        metric=metric,
        backend=backend,
        scheduler=scheduler,
        progress=progress,
    )
    store = ResultsStore(folder)  # one store for every evaluation, opened (and checked) first
    try:
        folds = _evaluate(store, pipelines, specs, built, datasets, evaluations, paradigm, options, extra)
        files: list[Path] = []
        if folder is not None:  # views of the whole store, not only of this run
            files.append(store.export_csv(folder / "results.csv"))
            if plots:
                from neurodec.evaluation.plots import write_plots

                files += write_plots(per_session_scores(store.view()), folder)
        return BenchmarkResult(folds, folder, files, n_stored=len(store))
    finally:
        store.close()


def _evaluate(
    store: ResultsStore,
    pipelines: Any,
    specs: list[PipelineSpec] | None,
    built: dict[str, Any],
    datasets: Sequence[Any],
    evaluations: list[str],
    paradigm: str | None,
    options: dict,
    extra: Mapping[str, dict] | None = None,
) -> pd.DataFrame:
    """Every (dataset, evaluation) into ``store``; this run's fold rows."""
    all_folds = []
    for dataset in datasets:
        if specs is not None:
            runs = [
                (
                    par,
                    {s.name: clone(built[s.name]) for s in chosen},
                    {s.name: s.param_grid for s in chosen if s.param_grid},
                )
                for par, chosen in _paradigm_runs(dataset, specs, pipelines, paradigm)
            ]
        else:
            runs = [(paradigm_for(dataset, paradigm), dict(pipelines), {})]
        _check_local(dataset, list(dataset.subject_list))
        for (par, pipes, grid), ev in ((run, ev) for run in runs for ev in evaluations):
            cls = EVALUATIONS[ev]
            probe = cls.__new__(cls)
            reason = probe._incompatible(dataset)
            if reason:
                log.warning("skipping %s for %s: %s", ev, dataset.code, reason)
                continue
            evaluation = cls(par, [dataset], results=store, **options, **(extra or {}).get(ev, {}))
            all_folds.append(evaluation.process_folds(pipes, param_grid=grid or None))
    if not all_folds:
        raise InvalidInputError("nothing to evaluate: no dataset fits the chosen evaluations")
    return pd.concat(all_folds, ignore_index=True)


def load_datasets(
    names: Sequence[str],
    data_root: str | os.PathLike | None = None,
    subjects: Sequence[int] | None = None,
    allow_missing_runs: bool = False,
    dataset_options: Mapping[str, Any] | None = None,
) -> list[Any]:
    """Registry datasets by name, optionally restricted to ``subjects``.

    With ``allow_missing_runs``, datasets that accept that option read the runs that are
    present (a warning, an ``incomplete_session`` metadata column); for the others a
    missing file stays an error. ``dataset_options`` are passed to every dataset's class
    (e.g. ``{"frequencies": [9, 11, 13, 15, 17]}`` for ``SimulatedSSVEP``); an option a
    class does not take raises :class:`InvalidInputError`.
    """
    import inspect

    from neurodec.datasets import get_dataset
    from neurodec.datasets.registry import dataset_class

    if data_root is not None and not Path(data_root).expanduser().is_dir():
        raise DataNotFoundError(
            f"data root {data_root} does not exist; pass the folder holding one subfolder per dataset "
            "(--data-root or NEURODEC_DATA)"
        )
    out = []
    for name in names:
        options = dict(dataset_options or {})
        if allow_missing_runs:
            if "allow_missing_runs" in inspect.signature(dataset_class(name)).parameters:
                options["allow_missing_runs"] = True
            else:
                log.warning("%s reads every run or none: --allow-missing-runs does not apply", name)
        ds = get_dataset(name, data_root=data_root, **options)
        if subjects:
            bad = [s for s in subjects if s not in ds.subject_list]
            if bad:
                raise InvalidInputError(
                    f"{ds.code} has no subject(s) {bad}; its subjects are {list(ds.subject_list)}"
                )
            ds.subject_list = [s for s in ds.subject_list if s in set(subjects)]
        out.append(ds)
    return out


def parse_dataset_options(items: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` strings (``--dataset-option``) as a dict, each value read as YAML.

    ``"frequencies=[9, 11, 13, 15, 17]"`` gives ``{"frequencies": [9, 11, 13, 15, 17]}``;
    ``"modality=meg"`` gives ``{"modality": "meg"}``.

    Raises
    ------
    InvalidInputError
        An item without ``=`` or a name, a repeated name, or a value that is not YAML.
    """
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise InvalidInputError(
                f"cannot read dataset option {item!r}: write NAME=VALUE (e.g. n_subjects=2)"
            )
        if name in out:
            raise InvalidInputError(f"dataset option {name!r} is given twice")
        try:
            out[name] = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            first = " ".join(str(exc).split())
            raise InvalidInputError(f"dataset option {name}: {text!r} is not a YAML value ({first})") from exc
    return out
