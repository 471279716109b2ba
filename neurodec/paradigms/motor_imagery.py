"""Motor-imagery paradigms with MOABB's defaults (8-32 Hz, the dataset's interval)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from neurodec.paradigms.base import BaseParadigm

__all__ = ["LeftRightImagery", "MotorImagery"]


class LeftRightImagery(BaseParadigm):
    """Left hand vs right hand motor imagery (MOABB's ``LeftRightImagery``).

    Parameters
    ----------
    fmin, fmax : float or None
        Band-pass edges in Hz (IIR Butterworth, zero phase, as MOABB). Default 8-32.
    tmin : float
        Epoch start relative to the start of the dataset's task interval, seconds.
    tmax : float or None
        Epoch end relative to the start of the task interval (``None``: the end of
        the interval).
    baseline : tuple of float or None
        Baseline interval, relative to the start of the task interval.
    channels : list of str or None
        Channels to keep, in this order (default: every EEG channel).
    resample : float or None
        New sampling rate of the epochs in Hz.
    cache : bool
        Keep per-subject epochs in the on-disk epoch cache.
    cache_dir : str or Path or None
        Cache folder (default :func:`neurodec.config.cache_dir`).

    Examples
    --------
    >>> from neurodec.datasets import get_dataset                   # doctest: +SKIP
    >>> X, y, meta = LeftRightImagery().get_data(get_dataset("PhysionetMI"), [1])  # doctest: +SKIP
    """

    dataset_paradigm = "imagery"
    events = ("left_hand", "right_hand")

    def __init__(
        self,
        fmin: float | None = 8,
        fmax: float | None = 32,
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
        self.tmin = tmin
        self.tmax = tmax
        self.baseline = baseline
        self.channels = channels
        self.resample = resample
        self.cache = cache
        self.cache_dir = cache_dir

    def _events_problem(self, dataset) -> str | None:
        missing = [e for e in self.events if e not in dataset.event_id]
        if missing:
            return f"{dataset.code} has no {missing} events (it has {sorted(dataset.event_id)})"
        return None

    def used_events(self, dataset) -> dict[str, Any]:
        """``{"left_hand": code, "right_hand": code}`` of ``dataset``."""
        return {e: dataset.event_id[e] for e in self.events}


class MotorImagery(BaseParadigm):
    """N-class motor imagery (MOABB's ``MotorImagery``).

    Parameters
    ----------
    n_classes : int or None
        Number of classes to use. With ``events``, the first ``n_classes`` of
        them that the dataset has; without, all the dataset's events (which must
        be at least ``n_classes``).
    events : list of str or None
        Event names to use (default: every event of the dataset).
    fmin, fmax, tmin, tmax, baseline, channels, resample, cache, cache_dir
        As in :class:`LeftRightImagery`.
    """

    dataset_paradigm = "imagery"

    def __init__(
        self,
        n_classes: int | None = None,
        events: list[str] | None = None,
        fmin: float | None = 8,
        fmax: float | None = 32,
        tmin: float = 0.0,
        tmax: float | None = None,
        baseline: tuple[float, float] | None = None,
        channels: list[str] | None = None,
        resample: float | None = None,
        cache: bool = True,
        cache_dir: str | os.PathLike | None = None,
    ):
        self.n_classes = n_classes
        self.events = events
        self.fmin = fmin
        self.fmax = fmax
        self.tmin = tmin
        self.tmax = tmax
        self.baseline = baseline
        self.channels = channels
        self.resample = resample
        self.cache = cache
        self.cache_dir = cache_dir

    def _check_params(self) -> None:
        super()._check_params()
        from neurodec.errors import InvalidInputError

        n = self.n_classes
        if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
            raise InvalidInputError(f"n_classes must be a positive integer or None, got {n!r}")
        if self.events is not None:
            if isinstance(self.events, str) or not len(self.events):
                raise InvalidInputError(
                    f"events must be a non-empty list of names or None, got {self.events!r}"
                )
            if self.n_classes is not None and self.n_classes > len(self.events):
                raise InvalidInputError(
                    f"n_classes={self.n_classes} exceeds the {len(self.events)} events "
                    f"given {list(self.events)}"
                )

    def _events_problem(self, dataset) -> str | None:
        available = list(dataset.event_id)
        if self.events is None:
            if self.n_classes is not None and len(available) < self.n_classes:
                return (
                    f"{dataset.code} has {len(available)} event types {available}, "
                    f"fewer than n_classes={self.n_classes}"
                )
            return None
        present = [e for e in self.events if e in dataset.event_id]
        need = len(self.events) if self.n_classes is None else self.n_classes
        if len(present) < need or not present:
            return (
                f"{dataset.code} has only {present} of the events {list(self.events)} "
                f"(it has {available}); need {need}"
            )
        return None

    @property
    def scoring(self) -> str:
        """``"roc_auc"`` for two classes, ``"accuracy"`` otherwise (MOABB's choice)."""
        return "roc_auc" if self.n_classes == 2 else "accuracy"

    def used_events(self, dataset) -> dict[str, Any]:
        """Label -> code of the events used on ``dataset``."""
        if self.events is None:
            return dict(dataset.event_id)
        out = {}
        for e in self.events:
            if e in dataset.event_id:
                out[e] = dataset.event_id[e]
            if self.n_classes is not None and len(out) == self.n_classes:
                break
        return out
