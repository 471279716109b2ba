"""The results store in MOABB's results format, for ``moabb.analysis`` and MOABB users.

MOABB's evaluations report one row per (dataset, subject, session, pipeline) — within
a session the folds averaged (score and fit time by mean, ``samples`` = the session's
trials, ``samples_test`` the mean test size, ``n_classes`` the largest) — with
``Results.to_dataframe()``'s columns::

    score, time, samples, samples_test, n_classes, subject (str), session (str),
    channels, n_sessions, dataset, pipeline

plus ``evaluation`` (``WithinSession``...) and ``paradigm`` as ``moabb.benchmark``
adds them. :func:`moabb_results_frame` builds that table from the store's fold rows
(read through :meth:`~neurodec.evaluation.store.ResultsStore.to_frame`); it is what
``moabb.analysis.meta_analysis.compute_dataset_statistics`` and
``moabb.analysis.plotting.score_plot`` take. :func:`write_moabb_hdf5` writes it as
MOABB's own HDF5 files (``<folder>/results/<Paradigm>/<Evaluation>Evaluation/results_.hdf5``,
one group per pipeline, one table per dataset), which
``moabb.analysis.results.Results(evaluation_class, paradigm_class, hdf5_path=folder)``
reads back.

The paradigm comes from the caller (``paradigm=``) or, when the store's rows carry a
non-empty ``paradigm`` column (stores that record the paradigm class of each run), from
the rows themselves, one HDF5 tree per paradigm. A store holding one pipeline name
under several versions or run contexts (another seed, paradigm or metric) would mix
them in MOABB's table: that is refused, naming the contexts to choose from
(``contexts=``).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from neurodec.atomic import atomic_write
from neurodec.errors import DataNotFoundError, InvalidInputError

__all__ = [
    "MOABB_COLUMNS",
    "MOABB_EVALUATION_CLASSES",
    "moabb_results_frame",
    "read_moabb_frame",
    "write_moabb_hdf5",
    "write_moabb",
    "export_moabb",
]

#: columns of MOABB's ``Results.to_dataframe()``, then ``evaluation`` (and ``paradigm``)
MOABB_COLUMNS = [
    "score",
    "time",
    "samples",
    "samples_test",
    "n_classes",
    "subject",
    "session",
    "channels",
    "n_sessions",
    "dataset",
    "pipeline",
    "evaluation",
]

#: neurodec's ``evaluation`` column -> MOABB's evaluation class name
MOABB_EVALUATION_CLASSES = {
    "WithinSession": "WithinSessionEvaluation",
    "CrossSession": "CrossSessionEvaluation",
    "CrossSubject": "CrossSubjectEvaluation",
    "CrossSubjectCalibrated": "CrossSubjectEvaluation",
    # neurodec's own protocol (MOABB's pull request for it is not merged): read it back with
    # moabb.analysis.results.Results and any evaluation class of that name
    "PseudoOnline": "PseudoOnlineEvaluation",
}

_GROUP = ["dataset", "evaluation", "context", "pipeline", "pipeline_key", "subject", "session"]
_H5_COLUMNS = ["score", "time", "samples", "samples_test", "n_classes"]


def _check_unambiguous(folds: pd.DataFrame) -> None:
    versions = folds.groupby(["dataset", "evaluation", "pipeline"])[["context", "pipeline_key"]].nunique()
    bad = versions[(versions["context"] > 1) | (versions["pipeline_key"] > 1)]
    if bad.empty:
        return
    dataset, evaluation, pipeline = bad.index[0]
    sel = folds[
        (folds["dataset"] == dataset) & (folds["evaluation"] == evaluation) & (folds["pipeline"] == pipeline)
    ]
    pairs = sorted(set(zip(sel["context"], sel["pipeline_key"])))
    raise InvalidInputError(
        f"pipeline {pipeline!r} ({evaluation} on {dataset}) has results from {len(pairs)} runs "
        f"(context, pipeline key: {pairs}); MOABB's table holds one. Choose the runs with "
        "contexts=[...] (--context)"
    )


def moabb_results_frame(
    folds: pd.DataFrame, paradigm: str | None = None, contexts: Iterable[str] | None = None
) -> pd.DataFrame:
    """MOABB's per-session results table from the store's fold rows.

    Parameters
    ----------
    folds : DataFrame
        Rows of :meth:`ResultsStore.to_frame` (or ``results.csv``).
    paradigm : str | None
        Paradigm name written in a ``paradigm`` column (as ``moabb.benchmark`` does);
        ``None``: the rows' own ``paradigm`` column when they all have one, else no column.
    contexts : list of str | None
        Keep only these run contexts (the store's ``context`` column).

    Returns
    -------
    DataFrame
        :data:`MOABB_COLUMNS` (+ ``paradigm``), one row per (dataset, evaluation,
        pipeline, subject, session), sorted.

    Raises
    ------
    InvalidInputError
        No rows, a missing column, or a pipeline with results from several runs.
    """
    need = set(_GROUP) | {"score", "time", "n_train", "n_test", "n_classes", "n_channels", "fold"}
    missing = sorted(need - set(folds.columns))
    if missing:
        raise InvalidInputError(f"the results rows lack column(s) {missing}; pass the store's fold rows")
    if contexts is not None:
        contexts = list(contexts)
        unknown = sorted(set(contexts) - set(folds["context"]))
        if unknown:
            raise InvalidInputError(
                f"no results with context(s) {unknown}; the store holds {sorted(set(folds['context']))}"
            )
        folds = folds[folds["context"].isin(contexts)]
    if folds.empty:
        raise InvalidInputError("no results to export: the store is empty")
    _check_unambiguous(folds)
    from_rows = (
        paradigm is None
        and "paradigm" in folds.columns
        and folds["paradigm"].notna().all()
        and (folds["paradigm"].astype(str) != "").all()
    )
    g = folds.groupby(_GROUP + (["paradigm"] if from_rows else []), sort=True)
    out = g.agg(
        score=("score", "mean"),
        time=("time", "mean"),
        samples_test=("n_test", "mean"),
        n_classes=("n_classes", "max"),
        channels=("n_channels", "first"),
        first_train=("n_train", "first"),
        first_test=("n_test", "first"),
        mean_train=("n_train", "mean"),
    ).reset_index()
    within = out["evaluation"] == "WithinSession"  # MOABB: the session's trials, not a fold's
    out["samples"] = np.where(within, out["first_train"] + out["first_test"], out["mean_train"].round())
    out["samples_test"] = out["samples_test"].round()
    sessions = folds.groupby(["dataset", "subject"])["session"].nunique().groupby("dataset").max()
    out["n_sessions"] = out["dataset"].map(sessions)
    out["subject"] = out["subject"].astype(int).astype(str)
    out["session"] = out["session"].astype(str)
    for col in ("samples", "samples_test", "n_classes"):
        out[col] = out[col].astype(np.float64)  # MOABB's data table is all floats
    out["channels"] = out["channels"].astype(np.int64)
    out["n_sessions"] = out["n_sessions"].astype(np.int64)
    columns = list(MOABB_COLUMNS)
    if paradigm is not None:
        out["paradigm"] = str(paradigm)
    if paradigm is not None or from_rows:
        columns.append("paradigm")
    return out[columns].reset_index(drop=True)


def read_moabb_frame(
    results: str | os.PathLike, paradigm: str | None = None, contexts: Iterable[str] | None = None
) -> pd.DataFrame:
    """:func:`moabb_results_frame` of a results folder (or ``.sqlite`` store)."""
    from neurodec.evaluation.store import ResultsStore, resolve_store_path

    path = resolve_store_path(results)
    if not path.exists():
        raise DataNotFoundError(
            f"no results store at {path}; run `neurodec benchmark --results {results}` first"
        )
    store = ResultsStore(path)
    try:
        folds = store.to_frame()
    finally:
        store.close()
    return moabb_results_frame(folds, paradigm=paradigm, contexts=contexts)


def _digest(pipeline: str) -> str:
    """The group name of a pipeline (MOABB: a hash of the pipeline; here of its name)."""
    return hashlib.sha256(pipeline.encode()).hexdigest()[:32]


def write_moabb_hdf5(
    frame: pd.DataFrame, folder: str | os.PathLike, paradigm: str | None = None
) -> list[Path]:
    """Write a :func:`moabb_results_frame` table as MOABB's HDF5 results files.

    One file per paradigm and evaluation,
    ``<folder>/results/<paradigm>/<Evaluation>Evaluation/results_.hdf5``
    (MOABB's ``Results`` path for ``suffix=""``); in it one group per pipeline
    (``attrs["name"]``) holding one dataset group per dataset code, with MOABB's
    ``id`` (subject, session) and ``data`` (score, time, samples, samples_test,
    n_classes) tables.

    Returns
    -------
    list of Path
        The files written (each replaced atomically).
    """

    if paradigm is None and "paradigm" not in frame.columns:
        raise InvalidInputError(
            "MOABB's HDF5 layout is results/<Paradigm>/<Evaluation>/; pass the paradigm the runs "
            "used (--paradigm LeftRightImagery)"
        )
    names = frame["paradigm"] if paradigm is None else pd.Series(paradigm, index=frame.index)
    for name in set(names):
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidInputError(
                f"paradigm must be a paradigm class name (e.g. LeftRightImagery), got {name!r}"
            )
    unknown = sorted(set(frame["evaluation"]) - set(MOABB_EVALUATION_CLASSES))
    if unknown:
        raise InvalidInputError(f"evaluation(s) {unknown} have no MOABB evaluation class")
    files = []
    groups = frame.groupby([names, frame["evaluation"].map(MOABB_EVALUATION_CLASSES)], sort=True)
    for (par, evaluation), rows in groups:
        path = Path(folder) / "results" / par / evaluation / "results_.hdf5"
        atomic_write(path, lambda tmp, rows=rows: _write_hdf5(tmp, rows))
        files.append(path)
    return files


def _write_hdf5(tmp: Path, rows: pd.DataFrame) -> None:
    """One MOABB ``results_.hdf5`` file: a group per pipeline, a sub-group per dataset."""
    import h5py

    text = h5py.special_dtype(vlen=str)
    with h5py.File(tmp, "w") as f:
        f.attrs["create_time"] = np.bytes_(pd.Timestamp.now().strftime("%Y-%m-%d, %H:%M"))
        for pipeline, prows in rows.groupby("pipeline", sort=True):
            group = f.create_group(_digest(pipeline))
            group.attrs["name"] = pipeline
            group.attrs["repr"] = f"neurodec pipeline {pipeline!r}"
            for dataset, drows in prows.groupby("dataset", sort=True):
                dset = group.create_group(dataset)
                dset.attrs["n_subj"] = drows["subject"].nunique()
                dset.attrs["n_sessions"] = int(drows["n_sessions"].iloc[0])
                dset.attrs["channels"] = int(drows["channels"].iloc[0])
                dset.attrs.create("columns", _H5_COLUMNS, dtype=text)
                ids = drows[["subject", "session"]].astype(str).to_numpy()
                dset.create_dataset("id", data=ids.astype(object), dtype=text, maxshape=(None, 2))
                data = drows[_H5_COLUMNS].to_numpy(dtype=np.float64)
                dset.create_dataset("data", data=data, maxshape=(None, len(_H5_COLUMNS)))


def write_moabb(frame: pd.DataFrame, out: str | os.PathLike, paradigm: str | None = None) -> list[Path]:
    """Write a :func:`moabb_results_frame` table to ``out``: a ``.csv`` / ``.parquet``
    file, or a folder in MOABB's HDF5 layout (:func:`write_moabb_hdf5`, needs ``paradigm`` or a
    ``paradigm`` column).

    Returns
    -------
    list of Path
        The files written (each replaced atomically).
    """
    out = Path(out)
    if out.suffix in (".csv", ".parquet"):
        if out.suffix == ".csv":
            return [atomic_write(out, lambda tmp: frame.to_csv(tmp, index=False))]
        return [atomic_write(out, lambda tmp: frame.to_parquet(tmp, index=False))]
    if out.suffix or (out.exists() and not out.is_dir()):
        raise InvalidInputError(
            f"{out}: export to a .csv or .parquet file, or to a folder (MOABB's HDF5 layout)"
        )
    return write_moabb_hdf5(frame, out, paradigm)


def export_moabb(
    results: str | os.PathLike,
    out: str | os.PathLike,
    paradigm: str | None = None,
    contexts: Iterable[str] | None = None,
) -> list[Path]:
    """Export a results store in MOABB's format (:func:`read_moabb_frame` then
    :func:`write_moabb`).

    Parameters
    ----------
    results : path-like
        The results folder (or ``.sqlite`` store).
    out : path-like
        A ``.csv`` or ``.parquet`` file (the table), or a folder (MOABB's HDF5 layout,
        which needs ``paradigm``).
    paradigm : str | None
        Paradigm class name of the runs (``LeftRightImagery``...).
    contexts : list of str | None
        Keep only these run contexts.

    Returns
    -------
    list of Path
    """
    return write_moabb(read_moabb_frame(results, paradigm=paradigm, contexts=contexts), out, paradigm)
