"""P300 paradigm (target vs non-target) with MOABB's defaults (1-24 Hz)."""

from __future__ import annotations

import os
from typing import Any

from neurodec.paradigms.base import BaseParadigm

__all__ = ["P300"]


class P300(BaseParadigm):
    """Target vs non-target ERP epochs (MOABB's ``P300``).

    Parameters
    ----------
    fmin, fmax : float or None
        Band-pass edges in Hz. Default 1-24.
    events : list of str or None
        Event names (default ``["Target", "NonTarget"]``).
    tmin, tmax, baseline, channels, resample, cache, cache_dir
        As in :class:`neurodec.paradigms.LeftRightImagery`.
    """

    dataset_paradigm = "p300"

    def __init__(
        self,
        fmin: float | None = 1,
        fmax: float | None = 24,
        events: list[str] | None = None,
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
        self.tmin = tmin
        self.tmax = tmax
        self.baseline = baseline
        self.channels = channels
        self.resample = resample
        self.cache = cache
        self.cache_dir = cache_dir

    @property
    def _events(self) -> list[str]:
        return ["Target", "NonTarget"] if self.events is None else list(self.events)

    def _events_problem(self, dataset) -> str | None:
        missing = [e for e in self._events if e not in dataset.event_id]
        if missing:
            return f"{dataset.code} has no {missing} events (it has {sorted(dataset.event_id)})"
        return None

    def used_events(self, dataset) -> dict[str, Any]:
        """Label -> code(s) of the target and non-target events of ``dataset``."""
        return {e: dataset.event_id[e] for e in self._events}
