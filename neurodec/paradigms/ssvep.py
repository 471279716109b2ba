"""SSVEP paradigms (MOABB's ``SSVEP`` and ``FilterBankSSVEP``).

Events of SSVEP datasets are named by their stimulation frequency (``"13"``,
``"17.5"``...). ``SSVEP`` band-passes once (7-45 Hz by default); ``FilterBankSSVEP``
filters one narrow band per stimulation frequency (``[f - 0.5, f + 0.5]``, or the
``filters`` given) and stacks them on a last axis: ``X`` is ``(n_trials, n_channels,
n_times, n_bands)``, the input of MOABB's ``ExtendedSSVEPSignal``.
"""

from __future__ import annotations

import os
from typing import Any

from neurodec.errors import InvalidInputError
from neurodec.paradigms.base import BaseParadigm
from neurodec.paradigms.filter_bank import check_classes, check_filters, first_events, first_events_problem

__all__ = ["SSVEP", "FilterBankSSVEP", "stimulation_frequencies"]


def stimulation_frequencies(event_id: dict[str, Any]) -> list[float]:
    """The frequencies (Hz) of the events named by a number, in ``event_id``'s order."""
    return [float(e) for e in event_id if str(e).replace(".", "", 1).isnumeric()]


class _BaseSSVEP(BaseParadigm):
    dataset_paradigm = "ssvep"

    def _check_params(self) -> None:
        super()._check_params()
        check_classes(self.n_classes, self.events)

    def _events_problem(self, dataset) -> str | None:
        if self.events is not None:
            missing = [e for e in self.events if e not in dataset.event_id]
            if missing:
                return f"{dataset.code} has no {missing} events (it has {list(dataset.event_id)})"
        return first_events_problem(dataset, self.events, self.n_classes)

    def used_events(self, dataset) -> dict[str, Any]:
        """The first ``n_classes`` events (label -> code) of ``events`` found in ``dataset``
        (all of them when ``n_classes`` is ``None``)."""
        return first_events(dataset, self.events, self.n_classes)

    @property
    def scoring(self) -> str:
        """``"roc_auc"`` when ``n_classes == 2``, else ``"accuracy"`` (MOABB's choice, also
        when ``n_classes`` is ``None``)."""
        return "roc_auc" if self.n_classes == 2 else "accuracy"


class SSVEP(_BaseSSVEP):
    """SSVEP trials band-passed once (MOABB's ``SSVEP``).

    Parameters
    ----------
    fmin, fmax : float or None
        Band-pass edges in Hz (IIR Butterworth, zero phase, as MOABB). Default 7-45.
    events : list of str or None
        Event (frequency) names to use (default: the dataset's, in order).
    n_classes : int or None
        Keep the first ``n_classes`` of them (default: all).
    tmin, tmax, baseline, channels, resample, cache, cache_dir
        As in :class:`neurodec.paradigms.LeftRightImagery`.
    """

    def __init__(
        self,
        fmin: float | None = 7,
        fmax: float | None = 45,
        events: list[str] | None = None,
        n_classes: int | None = None,
        tmin: float = 0.0,
        tmax: float | None = None,
        baseline: tuple[float, float] | None = None,
        channels: list[str] | None = None,
        resample: float | None = None,
        cache: bool = True,
        cache_dir: str | os.PathLike | None = None,
    ):
        self.fmin = fmin
        self.fmax = fmax
        self.events = events
        self.n_classes = n_classes
        self.tmin = tmin
        self.tmax = tmax
        self.baseline = baseline
        self.channels = channels
        self.resample = resample
        self.cache = cache
        self.cache_dir = cache_dir


class FilterBankSSVEP(_BaseSSVEP):
    """SSVEP trials through one narrow band per stimulation frequency (MOABB's
    ``FilterBankSSVEP``).

    Parameters
    ----------
    filters : list of (fmin, fmax) or None
        The bank; ``None`` (default): ``[f - 0.5, f + 0.5]`` for each used event named by
        a frequency ``f``, resolved for each dataset (MOABB resolves it on the first
        dataset and keeps it for the next ones).
    events, n_classes, tmin, tmax, baseline, channels, resample, cache, cache_dir
        As in :class:`SSVEP`.

    Notes
    -----
    ``get_data`` returns ``X`` of shape ``(n_trials, n_channels, n_times, n_bands)``
    (3-D when the bank has one band, as MOABB).
    """

    def __init__(
        self,
        filters: Any = None,
        events: list[str] | None = None,
        n_classes: int | None = None,
        tmin: float = 0.0,
        tmax: float | None = None,
        baseline: tuple[float, float] | None = None,
        channels: list[str] | None = None,
        resample: float | None = None,
        cache: bool = True,
        cache_dir: str | os.PathLike | None = None,
    ):
        self.filters = filters
        self.events = events
        self.n_classes = n_classes
        self.tmin = tmin
        self.tmax = tmax
        self.baseline = baseline
        self.channels = channels
        self.resample = resample
        self.cache = cache
        self.cache_dir = cache_dir

    @property
    def _band(self) -> tuple[float | None, float | None]:
        return None, None

    def _check_params(self) -> None:
        super()._check_params()
        if self.filters is not None:
            check_filters(self.filters)

    def _bands(self, dataset) -> tuple[tuple[float | None, float | None], ...]:
        if self.filters is not None:
            return check_filters(self.filters)
        freqs = stimulation_frequencies(self.used_events(dataset))
        if not freqs:
            raise InvalidInputError(
                f"FilterBankSSVEP: none of {dataset.code}'s events {list(self.used_events(dataset))} is "
                "named by a frequency, so no band can be centred on it; pass filters=[(fmin, fmax), ...]"
            )
        return tuple((f - 0.5, f + 0.5) for f in freqs)
