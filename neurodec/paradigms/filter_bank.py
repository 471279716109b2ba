"""Filter-bank motor imagery (MOABB's ``FilterBankLeftRightImagery`` / ``FilterBankMotorImagery``).

Each band of the bank is filtered and epoched exactly as the single-band paradigm
would, and the bands are stacked on a last axis: ``X`` is ``(n_trials, n_channels,
n_times, n_bands)`` (3-D when the bank has one band, as MOABB), the input of MOABB's
``FilterBank`` step (e.g. its FBCSP pipeline).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from neurodec.errors import InvalidInputError
from neurodec.paradigms.base import BaseParadigm, check_band
from neurodec.paradigms.motor_imagery import LeftRightImagery

__all__ = ["FilterBankLeftRightImagery", "FilterBankMotorImagery", "DEFAULT_FILTERS", "check_filters"]

#: MOABB's default bank: 4 Hz bands from 8 to 32 Hz
DEFAULT_FILTERS: tuple[tuple[float, float], ...] = ((8, 12), (12, 16), (16, 20), (20, 24), (24, 28), (28, 32))


def check_filters(filters: Any) -> tuple[tuple[float, float], ...]:
    """``filters`` as a tuple of ``(fmin, fmax)`` pairs, each checked (positive, increasing)."""
    if isinstance(filters, (str, bytes)) or not hasattr(filters, "__len__") or not len(filters):
        raise InvalidInputError(f"filters must be a non-empty list of (fmin, fmax) pairs, got {filters!r}")
    out = []
    for i, band in enumerate(filters):
        if isinstance(band, (str, bytes)) or np.ndim(band) != 1 or len(band) != 2:
            raise InvalidInputError(f"filters[{i}] must be a pair (fmin, fmax) in Hz, got {band!r}")
        check_band(band[0], band[1], what=f"filters[{i}]: ")
        out.append((band[0], band[1]))
    return tuple(out)


class _FilterBank(BaseParadigm):
    @property
    def _band(self) -> tuple[float | None, float | None]:
        return None, None

    def _check_params(self) -> None:
        super()._check_params()
        check_filters(self.filters)

    def _bands(self, dataset) -> tuple[tuple[float | None, float | None], ...]:
        return check_filters(self.filters)


class FilterBankLeftRightImagery(_FilterBank, LeftRightImagery):
    """Left vs right hand imagery through a bank of band-pass filters (MOABB's
    ``FilterBankLeftRightImagery``).

    Parameters
    ----------
    filters : list of (fmin, fmax)
        The bank (IIR Butterworth, zero phase, each band as MOABB's single band);
        default 8-12, 12-16, ..., 28-32 Hz.
    tmin, tmax, baseline, channels, resample, cache, cache_dir
        As in :class:`neurodec.paradigms.LeftRightImagery`.

    Notes
    -----
    ``get_data`` returns ``X`` of shape ``(n_trials, n_channels, n_times, n_bands)``.
    """

    def __init__(
        self,
        filters: Any = DEFAULT_FILTERS,
        tmin: float = 0.0,
        tmax: float | None = None,
        baseline: tuple[float, float] | None = None,
        channels: list[str] | None = None,
        resample: float | None = None,
        cache: bool = True,
        cache_dir: str | os.PathLike | None = None,
    ):
        self.filters = filters
        self.tmin = tmin
        self.tmax = tmax
        self.baseline = baseline
        self.channels = channels
        self.resample = resample
        self.cache = cache
        self.cache_dir = cache_dir


class FilterBankMotorImagery(_FilterBank):
    """N-class motor imagery through a bank of band-pass filters (MOABB's
    ``FilterBankMotorImagery``).

    Parameters
    ----------
    n_classes : int or None
        Number of classes: the first ``n_classes`` events of ``events`` (or of the
        dataset's ``event_id``, in its order) that the dataset has. Default 2, as MOABB
        (so an imagery dataset's first two events); ``None``: all of them.
    filters : list of (fmin, fmax)
        As in :class:`FilterBankLeftRightImagery`.
    events : list of str or None
        Event names to choose from (default: the dataset's events).
    tmin, tmax, baseline, channels, resample, cache, cache_dir
        As in :class:`neurodec.paradigms.LeftRightImagery`.
    """

    dataset_paradigm = "imagery"

    def __init__(
        self,
        n_classes: int | None = 2,
        filters: Any = DEFAULT_FILTERS,
        events: list[str] | None = None,
        tmin: float = 0.0,
        tmax: float | None = None,
        baseline: tuple[float, float] | None = None,
        channels: list[str] | None = None,
        resample: float | None = None,
        cache: bool = True,
        cache_dir: str | os.PathLike | None = None,
    ):
        self.n_classes = n_classes
        self.filters = filters
        self.events = events
        self.tmin = tmin
        self.tmax = tmax
        self.baseline = baseline
        self.channels = channels
        self.resample = resample
        self.cache = cache
        self.cache_dir = cache_dir

    def _check_params(self) -> None:
        super()._check_params()
        check_classes(self.n_classes, self.events)

    def _events_problem(self, dataset) -> str | None:
        return first_events_problem(dataset, self.events, self.n_classes)

    @property
    def scoring(self) -> str:
        """``"roc_auc"`` for two classes, ``"accuracy"`` otherwise (MOABB's choice)."""
        return "roc_auc" if self.n_classes == 2 else "accuracy"

    def used_events(self, dataset) -> dict[str, Any]:
        """The first ``n_classes`` events (label -> code) of ``events`` found in ``dataset``."""
        return first_events(dataset, self.events, self.n_classes)


# --------------------------------------------------------------------------- shared event rules
def check_classes(n_classes: Any, events: Any) -> None:
    """``n_classes`` a positive int or ``None``; ``events`` a non-empty list or ``None``."""
    n = n_classes
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise InvalidInputError(f"n_classes must be a positive integer or None, got {n!r}")
    if events is not None:
        if isinstance(events, str) or not len(events):
            raise InvalidInputError(f"events must be a non-empty list of names or None, got {events!r}")
        if n is not None and n > len(events):
            raise InvalidInputError(f"n_classes={n} exceeds the {len(events)} events given {list(events)}")


def first_events(dataset, events: list[str] | None, n_classes: int | None) -> dict[str, Any]:
    """The first ``n_classes`` of ``events`` (default: the dataset's, in order) it has."""
    out: dict[str, Any] = {}
    for e in dataset.event_id if events is None else events:
        if e in dataset.event_id:
            out[e] = dataset.event_id[e]
        if n_classes is not None and len(out) == n_classes:
            break
    return out


def first_events_problem(dataset, events: list[str] | None, n_classes: int | None) -> str | None:
    """Why :func:`first_events` cannot give ``n_classes`` classes (``None`` when it can)."""
    found = first_events(dataset, events, n_classes)
    need = n_classes if n_classes is not None else (1 if events is None else len(events))
    if len(found) < need:
        return (
            f"{dataset.code} has only {list(found)} of the events "
            f"{list(dataset.event_id) if events is None else list(events)} (it has "
            f"{list(dataset.event_id)}); need {need}"
        )
    return None
