"""LSL marker streams in: the stimulus markers an event-locked decoder needs.

A marker stream is an irregular-rate LSL stream (``sfreq = 0``) of strings or numbers,
one channel (the first is used); stimulus programs push one sample per stimulus,
stamped with the stimulus time. :class:`LSLMarkers` reads them without blocking, time
corrected onto this machine's LSL clock (the clock of :class:`~neurodec.online.LSLSource`'s
samples), for :meth:`neurodec.online.EventLockedDecoder.run`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from neurodec.errors import DataNotFoundError, InvalidInputError
from neurodec.online.lsl import InletStream, _lsl, resolve_one

__all__ = ["find_marker_stream", "open_markers", "LSLMarkers"]

log = logging.getLogger(__name__)


def find_marker_stream(*, source_id: str | None = None, name: str | None = None, timeout: float = 2.0) -> Any:
    """The one irregular-rate (marker) LSL stream with this ``source_id`` or exactly this ``name``.

    Raises
    ------
    DataNotFoundError
        No such marker stream.
    InvalidInputError
        Neither or both selectors; several marker streams match.
    """
    return resolve_one(
        source_id=source_id,
        name=name,
        timeout=timeout,
        accept=lambda sinfo: sinfo.sfreq == 0,
        kind="marker stream",
        hint="is the stimulus program running?",
    )


class LSLMarkers(InletStream):
    """An opened LSL marker stream (see :func:`open_markers`)."""

    def __init__(self, sinfo: Any, *, open_timeout: float = 5.0) -> None:
        lsl = _lsl()
        if sinfo.sfreq != 0:
            raise InvalidInputError(
                f"stream {sinfo.name!r} is regularly sampled ({sinfo.sfreq:g} Hz): not a marker stream"
            )
        self.name = sinfo.name
        self.source_id = sinfo.source_id
        # recover=False: a lost marker inlet raises instead of retrying inside liblsl
        self.inlet = lsl.StreamInlet(sinfo, processing_flags=["clocksync"], recover=False)
        try:
            self.inlet.open_stream(timeout=float(open_timeout))
        except Exception as exc:
            self.close()
            raise DataNotFoundError(
                f"could not open LSL marker stream {self.name!r} within {open_timeout:g} s ({exc})"
            ) from exc
        self.lost = False
        self.n_read = 0

    def read(self, timeout: float = 0.0) -> list[tuple[float, Any]]:
        """Markers received so far: ``[(timestamp, code), ...]`` (empty when none, or once lost)."""
        from mne_lsl.lsl._utils import LostError

        if self.inlet is None or self.lost:
            return []
        out: list[tuple[float, Any]] = []
        wait = max(0.0, float(timeout))
        try:
            # sample by sample: mne-lsl's pull_chunk of a string stream fails on a short chunk
            while len(out) < 4096:
                sample, stamp = self.inlet.pull_sample(timeout=wait)
                if stamp is None:
                    break
                wait = 0.0
                code = sample[0]
                out.append((float(stamp), code.item() if isinstance(code, np.generic) else code))
        except LostError:
            self.lost = True
            log.warning("LSL marker stream %r was lost: no more markers", self.name)
        self.n_read += len(out)
        return out

    def __repr__(self) -> str:
        return f"LSLMarkers({self.name!r}, source_id={self.source_id!r})"


def open_markers(
    source_id: str | None = None, name: str | None = None, *, timeout: float = 5.0
) -> LSLMarkers:
    """Find and open an LSL marker stream (e.g. ``neurodec replay``'s ``<name>-annotations``).

    Parameters
    ----------
    source_id, name : str
        Exactly one; a name must match one marker stream exactly.
    timeout : float
        Seconds to find and open it.
    """
    sinfo = find_marker_stream(source_id=source_id, name=name, timeout=timeout)
    return LSLMarkers(sinfo, open_timeout=timeout)
