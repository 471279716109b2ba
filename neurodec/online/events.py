"""Event-locked decoding: one decision per stimulus marker, as soon as its epoch is in.

ERP decoders (P300) are trained on epochs locked to stimulus onsets, from ``tmin`` to
``tmax`` after each marker, not on sliding windows. :class:`EventLockedDecoder` takes
the same samples as :class:`~neurodec.online.StreamingDecoder` (``push``: the same
causal filter with its state carried across chunks, the same checks of timestamps and
samples) plus markers (``push_marker(timestamp, code)``, on the stream's clock), and
decodes each marker's epoch in the call that completes it:

* a marker that comes **before** its data waits until the sample at ``tmax`` has
  arrived (``push`` returns its decision);
* a marker that comes **after** its data (marker streams lag the signal) is decoded
  by ``push_marker`` itself, as long as its epoch is still buffered (``max_delay``
  seconds after the epoch's end; later ones are reported ``late``);
* the onset is the sample whose timestamp is nearest the marker's (what recorders
  write into the file); a marker that falls in a gap of the stream, before its first
  sample, or an epoch touched by a gap, NaN samples, backward timestamps or the
  filter's settling is reported flagged and never decoded.

Over LSL, :meth:`EventLockedDecoder.run` reads markers from a marker stream
(:func:`neurodec.online.markers.open_markers`) between the signal's chunks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurodec.errors import InvalidInputError
from neurodec.online.decoder import QUALITY_OK, Decision, StreamingDecoder
from neurodec.online.ringbuffer import RingBuffer

__all__ = ["EventDecision", "EventLockedDecoder", "replay_events"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EventDecision(Decision):
    """A :class:`~neurodec.online.Decision` for one marker's epoch.

    Attributes (beyond :class:`~neurodec.online.Decision`'s)
    ----------
    marker_time : float
        The marker's timestamp.
    code : object
        The marker's code (as pushed / as its stream carries it).
    onset : int
        Index (in accepted samples) of the onset sample, ``-1`` when it could not be
        placed. ``quality`` adds ``late`` (the epoch left the buffer before its marker
        came), ``no_data`` (the epoch starts before the stream's first sample) and
        ``gap`` (the marker fell where samples are missing) to the sliding windows'
        reasons.
    """

    marker_time: float = float("nan")
    code: Any = None
    onset: int = -1


@dataclass
class _Marker:
    time: float
    code: Any
    start: int | None = None  # first sample of the epoch (accepted-sample index)


class EventLockedDecoder(StreamingDecoder):
    """Decode the epoch after each stimulus marker of a stream.

    Parameters
    ----------
    estimator : fitted estimator
        Trained on epochs of ``window`` seconds starting ``tmin`` after the event
        (e.g. a P300 pipeline, or :meth:`neurodec.online.DecoderFile.event_locked`).
    window : float
        Epoch length in seconds (``n_times / sfreq`` of the training epochs).
    tmin : float
        Start of the epoch relative to the marker, in seconds (may be negative).
    sfreq, ch_names, fmin, fmax, scale, max_jitter, settle, unit, adapt
        As :class:`~neurodec.online.StreamingDecoder`.
    codes : list | None
        Marker codes to decode (compared as strings); others are ignored. ``None``:
        every marker.
    max_delay : float
        Seconds after an epoch's last sample during which its marker may still come.
    step : float
        Samples :meth:`run` reads at most at once while no marker is waiting, in
        seconds (and the monitor's deadline).
    """

    def __init__(
        self,
        estimator: Any,
        window: float = 1.0,
        tmin: float = 0.0,
        sfreq: float | None = None,
        ch_names: Sequence[str] | None = None,
        fmin: float | None = None,
        fmax: float | None = None,
        *,
        codes: Iterable[Any] | None = None,
        max_delay: float = 2.0,
        step: float = 0.05,
        scale: float = 1.0,
        max_jitter: float = 0.05,
        settle: float | None = None,
        unit: str | None = None,
        adapt: Any = "auto",
    ) -> None:
        super().__init__(
            estimator,
            window=window,
            step=step,
            sfreq=sfreq,
            ch_names=ch_names,
            fmin=fmin,
            fmax=fmax,
            scale=scale,
            max_jitter=max_jitter,
            settle=settle,
            unit=unit,
            adapt=adapt,
        )
        try:
            self.tmin = float(tmin)
            self.max_delay = float(max_delay)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"tmin and max_delay must be numbers, got {tmin!r}, {max_delay!r}"
            ) from None
        if not np.isfinite(self.tmin):
            raise InvalidInputError(f"tmin must be a finite number of seconds, got {tmin!r}")
        if not np.isfinite(self.max_delay) or self.max_delay < 0:
            raise InvalidInputError(f"max_delay must be >= 0 seconds, got {max_delay!r}")
        self.codes = None if codes is None else {str(c) for c in codes}
        self.n_offset = int(round(self.tmin * self.sfreq))
        self._history = self.n_window + int(np.ceil(self.max_delay * self.sfreq))
        self.reset()

    # -- state ------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every sample and every waiting marker."""
        super().reset()
        cap = self._history + self._piece
        self._ring = RingBuffer(self.n_channels, cap)
        self._stamps = RingBuffer(1, cap)
        self._markers: list[_Marker] = []
        self._carry: list[EventDecision] = []
        self.n_markers = 0
        self.n_ignored = 0

    @property
    def n_waiting(self) -> int:
        """Markers whose epoch is not complete yet."""
        return len(self._markers)

    @property
    def samples_to_next_decision(self) -> int:
        """Samples until the earliest waiting epoch completes (``n_step`` when none is placed)."""
        ends = [m.start + self.n_window for m in self._markers if m.start is not None]
        if not ends:
            return self.n_step
        return max(1, min(ends) - self.n_accepted)

    # -- input ------------------------------------------------------------------
    def push_marker(self, timestamp: float, code: Any = None) -> list[EventDecision]:
        """Add a marker (on the stream's clock); its decision if its epoch is already in.

        Parameters
        ----------
        timestamp : float
            The stimulus time, on the clock of the samples' timestamps (with
            ``push(chunk)`` without timestamps: ``sample_index / sfreq``).
        code : object
            The event code; markers whose code is not in ``codes`` are ignored.

        Returns
        -------
        list of EventDecision
            Empty while the epoch's data have not all arrived (``push`` returns it then).
        """
        try:
            t = float(timestamp)
        except (TypeError, ValueError):
            raise InvalidInputError(f"a marker timestamp must be a number, got {timestamp!r}") from None
        if not np.isfinite(t):
            raise InvalidInputError(f"a marker timestamp must be finite, got {timestamp!r}")
        if self.codes is not None and str(code) not in self.codes:
            self.n_ignored += 1
            return []
        self.n_markers += 1
        self._markers.append(_Marker(t, code))
        if self.n_accepted == 0:
            return []
        ahead = t - self._last_ts
        if ahead > 60.0:
            log.warning(
                "a marker came %.0f s ahead of the newest sample: are the markers and the samples on the "
                "same clock (LSL local_clock; BrainFlow sources convert theirs)?",
                ahead,
            )
        with self._threads:
            return self._decode_ready(self._resolve(self.n_accepted))

    def push(self, chunk: Any, timestamps: Any = None) -> list[EventDecision]:  # type: ignore[override]
        """Add samples; the decisions of the markers whose epochs they complete."""
        out = super().push(chunk, timestamps)
        if self._carry:
            out, self._carry = self._carry + out, []
        return out

    # -- epochs -----------------------------------------------------------------
    def _windows(self, y: np.ndarray, ts: np.ndarray, t0: int) -> list[EventDecision]:
        n = y.shape[1]
        ready: list = []
        start = 0
        while start < n:  # pieces: an epoch is read back before later samples overwrite it
            stop = min(n, start + self._piece)
            self._ring.write(y[:, start:stop])
            self._stamps.write(ts[None, start:stop])
            ready += self._resolve(t0 + stop)
            start = stop
        return self._decode_ready(ready)

    def _resolve(self, n_have: int) -> list:
        """Place waiting markers and cut the epochs complete within the ``n_have`` samples
        buffered; ``(marker, epoch | None, reason, timestamp)`` for each finished one."""
        if not self._markers:
            return []
        cap = self._ring.capacity
        n_buf = min(n_have, cap)
        stamps = self._stamps.window(n_buf)[0]
        first = n_have - n_buf  # accepted-sample index of stamps[0]
        tol = 0.5 / self.sfreq + self.max_jitter
        done, waiting = [], []
        for m in self._markers:
            if m.start is None:
                if stamps[-1] < m.time:
                    waiting.append(m)  # its onset sample has not arrived
                    continue
                i = int(np.argmin(np.abs(stamps - m.time)))
                if abs(stamps[i] - m.time) > tol:
                    if m.time < stamps[0]:
                        why = "no_data" if first == 0 else "late"
                    else:
                        why = "gap"
                    done.append((m, None, why, m.time))
                    continue
                m.start = first + i + self.n_offset
            end = m.start + self.n_window
            if m.start < 0:
                done.append((m, None, "no_data", m.time))
            elif m.start < first:
                done.append((m, None, "late", m.time))
            elif end > n_have:
                waiting.append(m)
            else:
                lag = n_have - end
                stamp = float(stamps[end - 1 - first])
                reset = self._faults(m.start, end)
                epoch = None if reset else np.array(self._ring.window(self.n_window, lag=lag))
                done.append((m, epoch, reset or QUALITY_OK, stamp))
        self._markers = waiting
        return done

    def _faults(self, start: int, end: int) -> str:
        """Comma-separated reasons of the resets that touch ``[start - settle, end)``."""
        lo = int(np.searchsorted(self._reset_pos, start - self.n_settle, side="right"))
        hi = int(np.searchsorted(self._reset_pos, end, side="left"))
        return ",".join(sorted(set(self._reset_why[lo:hi]))) if hi > lo else ""

    def _decode_ready(self, ready: list) -> list[EventDecision]:
        if not ready:
            return []
        good = [k for k, r in enumerate(ready) if r[1] is not None]
        pred = proba = scores = None
        if good:
            pred, proba, scores = self._decode(np.stack([ready[k][1] for k in good]))
        row = {k: j for j, k in enumerate(good)}
        out = []
        for k, (m, _, quality, stamp) in enumerate(ready):
            onset = -1 if m.start is None else m.start - self.n_offset
            sample = -1 if m.start is None else m.start + self.n_window
            if k in row:
                j = row[k]
                out.append(
                    EventDecision(
                        stamp,
                        pred[j],
                        None if proba is None else proba[j],
                        QUALITY_OK,
                        sample,
                        None if scores is None else np.atleast_1d(scores[j]),
                        marker_time=m.time,
                        code=m.code,
                        onset=onset,
                    )
                )
                self.n_decoded += 1
            else:
                out.append(
                    EventDecision(
                        stamp, None, None, quality, sample, marker_time=m.time, code=m.code, onset=onset
                    )
                )
                self.n_flagged += 1
                log.debug("marker %r at %.3f not decoded: %s", m.code, m.time, quality)
        return out

    # -- streams --------------------------------------------------------------
    def run(
        self,
        stream: Any,
        *,
        markers: Any = None,
        outlet: Any = None,
        monitor: Any = None,
        duration: float | None = None,
    ) -> Iterator[EventDecision]:
        """Decode a live stream's epochs: yield each marker's decision as it completes.

        Parameters
        ----------
        stream : source
            The signal (:func:`neurodec.online.open_stream`, a BrainFlow source...).
        markers : marker source | None
            Anything with ``read(timeout) -> [(timestamp, code), ...]``
            (:func:`neurodec.online.markers.open_markers`), read between the
            signal's chunks; ``None``: markers come from :meth:`push_marker`
            calls made by the caller between iterations.
        outlet, monitor, duration
            As :meth:`StreamingDecoder.run`.
        """
        from neurodec.online.source import run_stream

        source = stream if markers is None else _WithMarkers(stream, markers, self)
        yield from run_stream(self, source, outlet=outlet, monitor=monitor, duration=duration)


class _WithMarkers:
    """A signal source that hands the decoder the markers that came before each read."""

    def __init__(self, source: Any, markers: Any, decoder: EventLockedDecoder) -> None:
        self._source = source
        self._markers = markers
        self._decoder = decoder

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)

    def read(self, max_samples: int, timeout: float) -> tuple[np.ndarray, np.ndarray]:
        dec = self._decoder
        for stamp, code in self._markers.read(timeout=0.0):
            dec._carry.extend(dec.push_marker(stamp, code))
        return self._source.read(min(int(max_samples), dec.samples_to_next_decision), timeout)


def replay_events(
    decoder: EventLockedDecoder,
    data: np.ndarray,
    marker_samples: Sequence[int],
    codes: Sequence[Any],
    *,
    chunk_size: int = 16,
    delay: float = 0.0,
    t0: float = 0.0,
) -> list[EventDecision]:
    """Play a recorded run into ``decoder`` as a live session would deliver it.

    ``data`` (n_channels, n_times) is pushed in chunks (timestamps ``t0 + sample / sfreq``);
    each marker is pushed once the stream has passed its time plus ``delay`` seconds
    (a marker stream's lag behind the signal; 0: just before the chunk holding its onset).

    Returns
    -------
    list of EventDecision
        Every decision, in the order they were made.
    """
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise InvalidInputError(f"chunk_size must be >= 1, got {chunk_size}")
    sfreq = decoder.sfreq
    at = np.asarray(marker_samples, dtype=np.float64) + float(delay) * sfreq  # sample when each comes
    order = np.argsort(at, kind="stable")
    k = 0
    out: list[EventDecision] = []
    n = data.shape[1]
    for start in range(0, n, chunk_size):
        stop = min(n, start + chunk_size)
        while k < len(order) and at[order[k]] < stop:
            i = order[k]
            out += decoder.push_marker(t0 + float(marker_samples[i]) / sfreq, codes[i])
            k += 1
        out += decoder.push(data[:, start:stop], t0 + np.arange(start, stop) / sfreq)
    for i in order[k:]:
        out += decoder.push_marker(t0 + float(marker_samples[i]) / sfreq, codes[i])
    return out
