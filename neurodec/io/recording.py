"""The :class:`Recording` container returned by :func:`neurodec.io.read_recording`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import mne
import numpy as np
import pandas as pd

__all__ = ["Recording"]


@dataclass
class Recording:
    """One continuous recording with its events and sensor metadata.

    Attributes
    ----------
    raw : mne.io.BaseRaw
        The signals (volts), channel types and positions as MNE holds them.
    events : ndarray of int, shape (n_events, 3)
        MNE events ``[sample, previous value, event code]``; samples include
        ``raw.first_samp`` as in :func:`mne.find_events`.
    event_id : dict of str to int
        Event name -> code in ``events``.
    sensors : pandas.DataFrame
        The sensor table of ``raw.info`` (:func:`neurodec.sensors.sensor_table`).
    path : pathlib.Path | None
        The file or folder read, None for recordings built in memory.
    format : str | None
        The format key it was read as (see :data:`neurodec.io.SUPPORTED_FORMATS`).
    """

    raw: mne.io.BaseRaw
    events: np.ndarray
    event_id: dict[str, int]
    sensors: pd.DataFrame
    path: Path | None = None
    format: str | None = field(default=None)

    @property
    def channel_counts(self) -> dict[str, int]:
        """Number of channels per MNE channel type."""
        return dict(Counter(self.raw.get_channel_types()))

    @property
    def event_counts(self) -> dict[str, int]:
        """Number of events per event name."""
        names = {code: name for name, code in self.event_id.items()}
        return dict(Counter(names.get(int(code), str(int(code))) for code in self.events[:, 2]))

    def __repr__(self) -> str:
        kinds = ", ".join(f"{n} {t}" for t, n in self.channel_counts.items())
        return (
            f"<Recording {self.path.name if self.path else '(in memory)'} | {self.format} | "
            f"{kinds} | {self.raw.info['sfreq']:g} Hz | "
            f"{self.raw.times[-1] if self.raw.n_times else 0:.1f} s | "
            f"{len(self.events)} events>"
        )
