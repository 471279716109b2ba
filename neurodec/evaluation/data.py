"""Epoched data for the engine: loaded once per (paradigm, dataset, subjects) and
shared across pipelines, folds and evaluations, with the shared pipeline heads
(:mod:`neurodec.evaluation.features`) computed once on top of it.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from neurodec.errors import InvalidDataError, NeurodecError
from neurodec.evaluation.features import apply_head
from neurodec.evaluation.identity import content_hash

__all__ = [
    "EpochData",
    "load_epochs",
    "paradigm_description",
    "dataset_identity",
    "data_versions",
    "clear_memory_cache",
    "epochs_info",
]

log = logging.getLogger(__name__)


class EpochData:
    """``X, y, metadata`` of some subjects plus cached per-trial features.

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
    y : ndarray, shape (n_trials,)
    metadata : DataFrame
        ``subject``, ``session``, ``run`` per trial.
    epochs : mne.Epochs | None
        The same trials as an ``mne.Epochs`` in volts (for pipelines that take epochs,
        :mod:`neurodec.evaluation.epochs_input`), ``None`` when not loaded.
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        metadata: pd.DataFrame,
        parent: EpochData | None = None,
        positions: np.ndarray | None = None,
        epochs: Any = None,
    ) -> None:
        self.X = X
        self.y = np.asarray(y)
        self.metadata = metadata.reset_index(drop=True)
        self.epochs = epochs
        self._features: dict[str, np.ndarray] = {}
        self._parent = parent
        self._positions = positions

    @property
    def subjects(self) -> list[int]:
        return [int(s) for s in pd.unique(self.metadata["subject"])]

    def features(self, head: list, head_key: str | None) -> np.ndarray:
        """Output of the stateless ``head`` on every trial (``X`` when no head)."""
        if head_key is None:
            return self.X
        if head_key not in self._features:
            if self._parent is not None:
                self._features[head_key] = self._parent.features(head, head_key)[self._positions]
            else:
                log.info("computing shared features %s on %d trials", head_key, len(self.X))
                self._features[head_key] = apply_head(head, self.X)
        return self._features[head_key]

    def subset(self, subjects: Sequence[int]) -> EpochData:
        """The trials of ``subjects`` (features computed here are shared)."""
        mask = self.metadata["subject"].isin(list(subjects)).to_numpy()
        if mask.all():
            return self
        pos = np.flatnonzero(mask)
        epochs = None if self.epochs is None else self.epochs[pos]
        return EpochData(
            self.X[pos], self.y[pos], self.metadata.iloc[pos], parent=self, positions=pos, epochs=epochs
        )


def _simple_settings(obj: Any, skip: tuple[str, ...] = ()) -> str:
    """``{"class": ..., "params": ...}`` of an object's plain-valued attributes, as JSON."""
    items = {}
    for k, v in sorted(vars(obj).items()):
        if k in skip:
            continue
        if isinstance(v, (int, float, str, bool, type(None))):
            items[k] = v
        elif isinstance(v, (list, tuple)) and all(isinstance(e, (int, float, str)) for e in v):
            items[k] = list(v)
        elif isinstance(v, (list, tuple)) and all(  # a filter bank: pairs of band edges
            isinstance(e, (list, tuple)) and all(isinstance(b, (int, float)) for b in e) for e in v
        ):
            items[k] = [list(e) for e in v]
        elif isinstance(v, dict) and all(isinstance(e, (int, float, str)) for e in v.values()):
            items[k] = {str(a): b for a, b in v.items()}
    cls = type(obj)
    return json.dumps({"class": f"{cls.__module__}.{cls.__qualname__}", "params": items}, sort_keys=True)


def paradigm_description(paradigm: Any) -> str:
    """A stable text identifying a paradigm's class and simple settings."""
    return _simple_settings(paradigm)


def data_versions(dataset: Any, subjects: Sequence[int]) -> dict[int, str]:
    """``{subject: version}`` of each subject's data, for the results store's keys.

    A neurodec dataset's version of a subject is its fingerprint over that
    subject's files only (``fingerprint(subjects=[s])``: options, sizes and
    mtimes), so fixing one file changes one subject's version and the subject
    selection of a run changes none. A dataset whose ``fingerprint()`` takes no
    subjects gives every subject that one fingerprint; one without a fingerprint
    (e.g. MOABB's) a hash of its class and plain settings, ``subject_list`` aside.
    """
    subjects = [int(s) for s in subjects]
    fp = getattr(dataset, "fingerprint", None)
    if callable(fp):
        try:
            if "subjects" in inspect.signature(fp).parameters:
                return {s: f"{dataset.code}:{fp(subjects=[s])}" for s in subjects}
            whole = f"{dataset.code}:{fp()}"
            return dict.fromkeys(subjects, whole)
        except NeurodecError:
            raise
        except Exception:  # noqa: BLE001 - a fingerprint that fails: fall back to the settings
            log.debug("%s: fingerprint failed; versioning by settings", dataset.code, exc_info=True)
    settings = content_hash(_simple_settings(dataset, skip=("subject_list",)), 16)
    return dict.fromkeys(subjects, f"{dataset.code}:{settings}")


def dataset_identity(dataset: Any) -> str:
    """``code:fingerprint`` (neurodec datasets) or ``code:ClassName`` (others)."""
    fp = getattr(dataset, "fingerprint", None)
    try:
        fp = fp() if callable(fp) else None
    except Exception:  # noqa: BLE001 - identity is best effort
        fp = None
    return f"{dataset.code}:{fp}" if fp else f"{dataset.code}:{type(dataset).__qualname__}"


# A tiny in-process memory: the last dataset loaded (so within-session, cross-session
# and cross-subject runs in one process epoch the data once).
_MEMORY: dict[tuple, EpochData] = {}


def clear_memory_cache() -> None:
    """Forget the epochs held in memory."""
    _MEMORY.clear()
    _INFOS.clear()


#: (paradigm description, dataset identity) -> the mne.Info of the paradigm's epochs
_INFOS: dict[tuple[str, str], Any] = {}


def epochs_info(paradigm: Any, dataset: Any, subject: int) -> Any:
    """The ``mne.Info`` of ``paradigm``'s epochs of ``dataset`` (channels as in ``X``).

    Read once per (paradigm, dataset) from one subject's epochs
    (``paradigm.get_data(..., return_epochs=True)``) and kept in memory: the channels,
    their positions and the sampling rate are the same for every subject of an array
    the engine evaluates (one ``X`` holds them all). Steps with ``requires_info = True``
    get it at fit (:mod:`neurodec.evaluation.engine`).

    Raises
    ------
    InvalidInputError
        The paradigm cannot return epochs (filter banks: one band per last axis).
    """
    key = (paradigm_description(paradigm), dataset_identity(dataset))
    if key not in _INFOS:
        try:
            epochs = paradigm.get_data(dataset=dataset, subjects=[int(subject)], return_epochs=True)[0]
        except NeurodecError:
            raise
        except Exception as exc:  # noqa: BLE001 - re-raised with context
            raise InvalidDataError(
                f"could not read the channel info of {dataset.code} subject {subject} with "
                f"{type(paradigm).__name__}: {type(exc).__name__}: {exc}"
            ) from exc
        _INFOS.clear()
        _INFOS[key] = epochs.info
    return _INFOS[key]


def load_epochs(paradigm: Any, dataset: Any, subjects: Sequence[int], epochs: bool = False) -> EpochData:
    """``paradigm.get_data(dataset, subjects)`` once, kept in memory for reuse.

    A later request for a subset of already-loaded subjects is served from
    memory. Errors from the loaders that are not neurodec's own are re-raised as
    :class:`InvalidDataError` naming the dataset and subjects.

    With ``epochs=True`` the data is read once as ``mne.Epochs``
    (``get_data(..., return_epochs=True)``, volts, as MOABB gives epochs pipelines) and
    ``X`` is those epochs' data times ``dataset.unit_factor``: exactly the array
    ``get_data`` returns (MOABB and neurodec scale the epochs' data last), so array
    pipelines and epochs pipelines of one run share one read of the data.
    """
    subjects = [int(s) for s in subjects]
    base = (paradigm_description(paradigm), dataset_identity(dataset))
    for (desc, ident, held), data in _MEMORY.items():
        if (desc, ident) == base and set(subjects) <= set(held) and (data.epochs is not None or not epochs):
            return data.subset(subjects)
    ep = None
    try:
        if epochs:
            ep, y, metadata = paradigm.get_data(dataset=dataset, subjects=subjects, return_epochs=True)
            X = ep.get_data(copy=False) * float(getattr(dataset, "unit_factor", 1e6))
        else:
            X, y, metadata = paradigm.get_data(dataset=dataset, subjects=subjects)
    except NeurodecError:
        raise
    except Exception as exc:  # noqa: BLE001 - re-raised with context
        raise InvalidDataError(
            f"could not load {dataset.code} subjects {subjects} with "
            f"{type(paradigm).__name__}{' as mne.Epochs' if epochs else ''}: {type(exc).__name__}: {exc}"
        ) from exc
    if len(y) == 0:
        raise InvalidDataError(
            f"{dataset.code} subjects {subjects} gave no epochs with {type(paradigm).__name__}; "
            "check that the paradigm's events exist in this dataset"
        )
    data = EpochData(np.asarray(X), np.asarray(y), metadata, epochs=ep)
    _MEMORY.clear()
    _MEMORY[(*base, tuple(sorted(subjects)))] = data
    return data
