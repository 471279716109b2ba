"""The paradigm contract: ``get_data(dataset, subjects) -> X, y, metadata``.

A paradigm turns the raw runs of any MOABB ``BaseDataset`` (neurodec's own
datasets included) into decoding-ready arrays with MOABB's conventions and
numbers: ``X`` (n_epochs, n_channels, n_times) float64 scaled by
``dataset.unit_factor`` (microvolts), ``y`` string labels, and a metadata
DataFrame with ``subject``, ``session`` and ``run``.

Per-subject results are kept in the epoch cache (:mod:`neurodec.paradigms.cache`)
so a second call reads arrays from disk instead of filtering again.
"""

from __future__ import annotations

import abc
import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from neurodec.datasets.base import check_subjects
from neurodec.errors import InvalidDataError, InvalidInputError, NeurodecError
from neurodec.paradigms.cache import (
    CorruptEntryError,
    EpochCache,
    SubjectEpochs,
    metadata_from_blocks,
    run_metadata,
)
from neurodec.paradigms.epoching import labels_from_codes
from neurodec.paradigms.raw_to_epochs import EpochingSpec, RunEpochs, epoch_run

__all__ = ["BaseParadigm", "check_band"]

log = logging.getLogger(__name__)


def _is_positive(value: Any) -> bool:
    try:
        return bool(np.isscalar(value) and float(value) > 0)
    except (TypeError, ValueError):
        return False


def _is_dataset(obj: Any) -> bool:
    try:
        from moabb.datasets.base import BaseDataset
    except ImportError:  # pragma: no cover
        BaseDataset = ()  # noqa: N806
    if BaseDataset and isinstance(obj, BaseDataset):
        return True
    needed = ("subject_list", "event_id", "interval", "paradigm", "get_data", "code")
    return all(hasattr(obj, a) for a in needed)


def check_band(fmin: Any, fmax: Any, what: str = "") -> None:
    """Refuse band edges that are not positive numbers (or ``None``) in increasing order."""
    for name, value in (("fmin", fmin), ("fmax", fmax)):
        if value is not None and not _is_positive(value):
            raise InvalidInputError(f"{what}{name} must be a positive number in Hz or None, got {value!r}")
    if fmin is not None and fmax is not None and fmin >= fmax:
        raise InvalidInputError(f"{what}fmin ({fmin} Hz) must be below fmax ({fmax} Hz)")


class BaseParadigm(BaseEstimator, abc.ABC):
    """Common machinery of neurodec paradigms (not used directly).

    Parameters are stored untouched (scikit-learn style) so that
    :meth:`get_params` identifies the processing in cache keys; they are
    checked when data is requested.
    """

    #: MOABB's ``dataset.paradigm`` value this paradigm accepts.
    dataset_paradigm: str = ""

    # -- parameters ---------------------------------------------------------
    @property
    def _band(self) -> tuple[float | None, float | None]:
        return self.fmin, self.fmax

    def _bands(self, dataset) -> tuple[tuple[float | None, float | None], ...] | None:
        """The filter bank resolved for ``dataset`` (``None``: one band, :attr:`_band`)."""
        return None

    def _check_params(self) -> None:
        fmin, fmax = self._band
        check_band(fmin, fmax)
        if self.resample is not None and not _is_positive(self.resample):
            raise InvalidInputError(
                f"resample must be a positive number in Hz or None, got {self.resample!r}"
            )
        if self.tmax is not None and self.tmin >= self.tmax:
            raise InvalidInputError(
                f"tmax ({self.tmax} s) must be greater than tmin ({self.tmin} s); both are "
                "relative to the start of the dataset's task interval"
            )
        if self.baseline is not None and (
            isinstance(self.baseline, str) or np.ndim(self.baseline) != 1 or len(self.baseline) != 2
        ):
            raise InvalidInputError(
                f"baseline must be a pair (start, end) in seconds or None, got {self.baseline!r}"
            )
        if self.channels is not None and (isinstance(self.channels, str) or not len(self.channels)):
            raise InvalidInputError(
                f"channels must be a non-empty list of names or None, got {self.channels!r}"
            )

    # -- what each paradigm defines ----------------------------------------
    @abc.abstractmethod
    def used_events(self, dataset) -> dict[str, Any]:
        """Label -> event code(s) of ``dataset`` that this paradigm epochs."""

    def _events_problem(self, dataset) -> str | None:
        """Why the dataset's events do not fit (``None`` when they do)."""
        return None

    @property
    def scoring(self) -> str:
        """Default scikit-learn metric (MOABB's): ROC AUC for two classes, else accuracy."""
        return "roc_auc"

    # -- validity ----------------------------------------------------------
    def _problem(self, dataset) -> str | None:
        if not _is_dataset(dataset):
            return (
                f"expected a dataset (a moabb.datasets.base.BaseDataset, e.g. "
                f"neurodec.datasets.get_dataset('PhysionetMI')), got {type(dataset).__name__}"
            )
        if getattr(dataset, "paradigm", None) != self.dataset_paradigm:
            return (
                f"{type(self).__name__} needs a '{self.dataset_paradigm}' dataset but "
                f"{dataset.code} is a '{dataset.paradigm}' dataset"
            )
        return self._events_problem(dataset)

    def is_valid(self, dataset) -> bool:
        """Whether ``dataset`` fits this paradigm (type, paradigm and events)."""
        return self._problem(dataset) is None

    def _check_dataset(self, dataset) -> None:
        problem = self._problem(dataset)
        if problem is not None:
            raise InvalidInputError(
                f"{problem}. Pick a paradigm that matches the dataset "
                "(LeftRightImagery/MotorImagery/FilterBank* for 'imagery', P300 for 'p300', "
                "SSVEP/FilterBankSSVEP for 'ssvep')."
            )

    # -- resolution against a dataset -------------------------------------------
    def epoching_spec(self, dataset) -> EpochingSpec:
        """Resolve times, events and options for ``dataset`` (MOABB's rules)."""
        interval = tuple(float(v) for v in dataset.interval)
        tmin = self.tmin + interval[0]
        tmax = interval[1] if self.tmax is None else self.tmax + interval[0]
        if self.tmax is not None and tmax > interval[1] + 1e-9:
            raise InvalidInputError(
                f"tmax={self.tmax} s reaches past the end of {dataset.code}'s task interval "
                f"({interval[1] - interval[0]:g} s long, interval={list(interval)}). "
                f"Use tmax <= {interval[1] - interval[0]:g} or tmax=None."
            )
        if tmin >= tmax:
            raise InvalidInputError(
                f"tmin={self.tmin} s starts after the end of {dataset.code}'s task interval "
                f"{list(interval)}; choose tmin < {interval[1] - interval[0]:g}."
            )
        baseline = None
        wmin, wmax = tmin, tmax
        if self.baseline is not None:
            b0 = None if self.baseline[0] is None else self.baseline[0] + interval[0]
            b1 = None if self.baseline[1] is None else self.baseline[1] + interval[0]
            baseline = (b0, b1)
            if b0 is not None and b0 < tmin:
                wmin = b0
            if b1 is not None and b1 > tmax:
                wmax = b1
        return EpochingSpec(
            event_id=self.used_events(dataset),
            fmin=self._band[0],
            fmax=self._band[1],
            tmin=tmin,
            tmax=tmax,
            window_tmin=wmin,
            window_tmax=wmax,
            baseline=baseline,
            channels=None if self.channels is None else tuple(self.channels),
            resample=None if self.resample is None else float(self.resample),
            unit_factor=float(getattr(dataset, "unit_factor", 1e6)),
            return_all_modalities=getattr(dataset, "return_all_modalities", False),
            reject_by_annotation=True,
            interval=interval,
            bands=self._bands(dataset),
        )

    # -- main entry point -----------------------------------------------------
    def get_data(
        self,
        dataset,
        subjects: list[int] | None = None,
        return_epochs: bool = False,
        n_jobs: int = 1,
    ) -> tuple[np.ndarray | Any, np.ndarray, pd.DataFrame]:
        """Epoch ``subjects`` of ``dataset``.

        Parameters
        ----------
        dataset : moabb.datasets.base.BaseDataset
            Any MOABB dataset, e.g. ``neurodec.datasets.get_dataset("PhysionetMI")``.
        subjects : list of int or None
            Subjects to load (default: all of ``dataset.subject_list``).
        return_epochs : bool
            Return an ``mne.Epochs`` (in volts, like MOABB) instead of an array.
            The epoch cache is not used in that case.
        n_jobs : int
            Subjects processed in parallel (joblib; threads unless a
            ``joblib.parallel_config`` says otherwise). Results do not depend on it.

        Returns
        -------
        X : ndarray, shape (n_epochs, n_channels, n_times), or mne.Epochs
            float64, volts x ``dataset.unit_factor``.
        y : ndarray of str, shape (n_epochs,)
        metadata : pandas.DataFrame
            Columns ``subject`` (int), ``session`` (str), ``run`` (str); plus
            ``incomplete_session`` (bool) for a dataset created with
            ``allow_missing_runs=True``.

        Raises
        ------
        InvalidInputError
            Wrong dataset type, paradigm/events not in the dataset, subject out of
            range, invalid parameters (e.g. ``tmax`` past the task interval).
        InvalidDataError
            A recording holds NaN/inf samples, or a file of the dataset is truncated
            or corrupt (checked before reading).
        DataNotFoundError
            A file of the dataset is missing (unless the dataset allows missing runs).
        """
        self._check_params()
        self._check_dataset(dataset)
        subjects = check_subjects(dataset, subjects)
        spec = self.epoching_spec(dataset)
        if return_epochs:
            if spec.bands is not None:
                raise InvalidInputError(
                    f"{type(self).__name__}: return_epochs=True is not supported for filter banks; "
                    "use the arrays (last axis: one band each)"
                )
            return self._get_epochs(dataset, subjects, spec)

        cache = EpochCache.for_paradigm(self, dataset) if self.cache else None
        try:
            results = _run_subjects(self, dataset, subjects, spec, cache, n_jobs)
            X, y, metadata = _assemble(results, dataset, spec, cache)
        except _Restart:  # a corrupt entry rebuilt to a different size: start over
            results = _run_subjects(self, dataset, subjects, spec, cache, n_jobs)
            X, y, metadata = _assemble(results, dataset, spec, cache)
        return X, y, _flag_incomplete(dataset, metadata)

    def _get_epochs(self, dataset, subjects, spec):
        import dataclasses

        import mne

        parts, labels, meta = [], [], []
        event_id = _flat_event_id(spec.event_id)
        volts = dataclasses.replace(spec, unit_factor=1.0)  # mne.Epochs hold volts, unscaled
        for subject in subjects:
            for session, run, res in _iter_runs(dataset, subject, volts):
                info = mne.pick_info(res.info, res.picks)
                if info["sfreq"] != res.sfreq:
                    with info._unlock():
                        info["lowpass"] = min(info["lowpass"], res.sfreq / 2.0)
                        info["sfreq"] = res.sfreq
                parts.append(
                    mne.EpochsArray(
                        res.X,
                        info,
                        events=res.events,
                        tmin=res.tmin,
                        event_id=event_id,
                        on_missing="ignore",
                        verbose=False,
                    )
                )
                labels.append(_labels(res, spec))
                meta.append(run_metadata(subject, session, run, len(res.X)))
        if not parts:
            raise InvalidInputError(f"{dataset.code}: no {list(spec.event_id)} events in subjects {subjects}")
        for ep in parts:
            ep.set_annotations(None)
        epochs = _concatenate(parts, dataset, subjects)
        metadata = _flag_incomplete(dataset, pd.concat(meta, ignore_index=True))
        epochs.metadata = metadata.copy()
        return epochs, np.concatenate(labels), metadata


def _concatenate(parts: list, dataset: Any, subjects: Any) -> Any:
    """One ``mne.Epochs`` of the runs' epochs. Runs recorded at different head positions
    (MEG ``dev_head_t``: a subject's sessions) are joined with the first run's transform and
    a logged warning (MNE, and so MOABB, refuse them; the arrays of ``X`` never depend on it)."""
    import mne

    if len(parts) == 1:
        return parts[0]
    trans = [ep.info["dev_head_t"] for ep in parts]
    moved = trans[0] is not None and any(
        t is None or not np.allclose(t["trans"], trans[0]["trans"], rtol=1e-6) for t in trans[1:]
    )
    if moved:
        log.warning(
            "%s subjects %s: the runs' head positions (dev_head_t) differ; the epochs keep the first "
            "run's (sensor positions in head coordinates are those of that run)",
            dataset.code,
            list(subjects),
        )
    return mne.concatenate_epochs(parts, on_mismatch="ignore" if moved else "raise", verbose=False)


def _flag_incomplete(dataset, metadata: pd.DataFrame) -> pd.DataFrame:
    """Add ``incomplete_session`` when the dataset was asked to read around missing runs.

    Only datasets created with ``allow_missing_runs=True`` get the column (so the
    metadata stays MOABB's otherwise): ``True`` for epochs of a session with one or
    more run files missing (``dataset.missing_runs(subject)``).
    """
    if not getattr(dataset, "allow_missing_runs", False):
        return metadata
    incomplete = {
        (int(subject), str(session))
        for subject in pd.unique(metadata["subject"])
        for session in dataset.missing_runs(int(subject))
    }
    keys = pd.MultiIndex.from_arrays([metadata["subject"].astype(int), metadata["session"].astype(str)])
    metadata["incomplete_session"] = keys.isin(list(incomplete)) if incomplete else False
    return metadata


def _flat_event_id(event_id: dict[str, Any]) -> dict[str, int]:
    """Label -> single code (``label/code`` for labels with several codes)."""
    out = {}
    for name, value in event_id.items():
        for code in np.atleast_1d(value).tolist():
            out[name if np.ndim(value) == 0 else f"{name}/{code}"] = int(code)
    return out


def _labels(res: RunEpochs, spec: EpochingSpec) -> np.ndarray:
    return labels_from_codes(res.codes, spec.event_id)


def _load_subject_runs(dataset, subject: int) -> dict:
    """Raw runs ``{session: {run: Raw}}`` of one subject, with no MOABB processing."""
    import inspect

    from moabb.datasets.bids_interface import StepType
    from moabb.datasets.preprocessing import FixedPipeline, NamedFunctionTransformer

    kwargs = {}
    try:
        takes_pipeline = "process_pipeline" in inspect.signature(dataset.get_data).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without signature
        takes_pipeline = False
    if takes_pipeline:
        kwargs["process_pipeline"] = FixedPipeline(
            [(StepType.RAW, NamedFunctionTransformer(_identity, display_name="Raw"))]
        )
    try:
        data = dataset.get_data(subjects=[subject], **kwargs)
    except NeurodecError:
        raise
    except Exception as exc:
        raise InvalidDataError(
            f"{dataset.code}: reading subject {subject} failed ({type(exc).__name__}: {exc}). "
            "Check that the dataset's files are present and complete under its data root."
        ) from exc
    try:
        return data[subject]
    except (KeyError, TypeError):
        raise InvalidDataError(
            f"{dataset.code}: get_data(subjects=[{subject}]) returned no data for subject {subject}"
        ) from None


def _identity(raw):
    return raw


def _iter_runs(dataset, subject: int, spec: EpochingSpec):
    sessions = _load_subject_runs(dataset, subject)
    for session, runs in sessions.items():
        for run, raw in runs.items():
            where = f"{dataset.code} subject {subject} session {session!r} run {run!r}"
            try:
                res = epoch_run(raw, spec, where=where)
            except NeurodecError:
                raise
            except (ValueError, RuntimeError) as exc:
                raise InvalidDataError(f"{where}: epoching failed ({type(exc).__name__}: {exc})") from exc
            if res is not None:
                yield str(session), str(run), res


def _subject_epochs(dataset, subject: int, spec: EpochingSpec) -> SubjectEpochs:
    X, y, runs = [], [], []
    for session, run, res in _iter_runs(dataset, subject, spec):
        X.append(res.X)
        y.append(_labels(res, spec))
        runs.append([session, run, len(res.X)])
    if not X:
        return SubjectEpochs.empty(subject)
    return SubjectEpochs(
        subject=int(subject),
        X=X[0] if len(X) == 1 else np.concatenate(X, axis=0),
        y=np.concatenate(y),
        runs=runs,
    )


def _process_subject(dataset, subject, spec, cache) -> SubjectEpochs:
    """Epoch one subject and store it in ``cache`` (a miss was already seen).

    Once written, the in-memory array is dropped and the result points at the
    cache entry instead: the final concatenation reads it back (from the page
    cache) straight into the output, so all subjects never sit in memory twice.
    """
    result = _subject_epochs(dataset, subject, spec)
    if cache is not None and cache.save(subject, result) is not None:
        stored = cache.load(subject, lazy=True)
        if stored is not None:
            return stored
    return result


def _run_subjects(paradigm, dataset, subjects, spec, cache, n_jobs) -> list[SubjectEpochs]:
    from tqdm.auto import tqdm

    found = {s: (cache.load(s, lazy=True) if cache is not None else None) for s in subjects}
    todo = [s for s in subjects if found[s] is None]
    if todo:
        log.info(
            "%s: epoching %d subject(s) of %s (n_jobs=%s, %d from cache)",
            type(paradigm).__name__,
            len(todo),
            dataset.code,
            n_jobs,
            len(subjects) - len(todo),
        )
        if n_jobs == 1 or len(todo) == 1:
            for s in tqdm(todo, desc=f"{dataset.code} epochs", unit="subject", disable=None, leave=False):
                found[s] = _process_subject(dataset, s, spec, cache)
        else:
            from joblib import Parallel, delayed

            # Threads by default: no worker start-up (a fresh process must import
            # MOABB/MNE again, seconds each) and the heavy parts (EDF decoding,
            # IIR filtering) run in NumPy/SciPy code. joblib.parallel_config(
            # backend="loky") switches to processes.
            out = Parallel(n_jobs=n_jobs, prefer="threads")(
                delayed(_process_subject)(dataset, s, spec, cache) for s in todo
            )
            found.update(zip(todo, out))
    return [found[s] for s in subjects]


class _Restart(Exception):
    """A rebuilt cache entry no longer fits the buffer: assemble again from scratch."""


def _assemble(
    results: list[SubjectEpochs], dataset, spec: EpochingSpec, cache: EpochCache | None
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Concatenate subjects into one array, reading cached ``X`` straight into it.

    A cached entry whose checksum fails while being read is discarded and
    rebuilt from the raw data.
    """
    present = [r for r in results if r.n_epochs]
    if not present:
        raise InvalidInputError(
            f"{dataset.code}: none of the requested subjects has {list(spec.event_id)} events"
        )
    shapes = {r.epoch_shape for r in present}
    if len(shapes) > 1:
        raise InvalidInputError(
            f"{dataset.code}: subjects have different epoch shapes {sorted(shapes)} "
            "(channels or sampling rates differ); pass channels= and resample= to make "
            "them equal"
        )
    n = sum(r.n_epochs for r in present)
    X = np.empty((n,) + present[0].epoch_shape, dtype=np.float64)
    i = 0
    for k, r in enumerate(present):
        block = X[i : i + r.n_epochs]
        try:
            r.read_X_into(block)
        except CorruptEntryError as exc:
            cache.discard(r.subject, str(exc))
            fresh = _process_subject(dataset, r.subject, spec, cache)
            if fresh.n_epochs != r.n_epochs or fresh.epoch_shape != r.epoch_shape:
                raise _Restart() from exc
            fresh.read_X_into(block)
            present[k] = r = fresh
        r.X = None  # free as we go: the peak stays near one copy of the data
        i += r.n_epochs
    y = np.concatenate([r.y for r in present])
    metadata = metadata_from_blocks([(r.subject, s, run, m) for r in present for s, run, m in r.runs])
    return X, y, metadata
