"""What a live source must give the decoder, and the decode loop over one.

A *source* (LSL inlet, BrainFlow board) has ``name``, ``ch_names`` (or
``None``), ``units`` (or ``None``), ``sfreq``, ``read(max_samples, timeout)``
returning ``(data (n_channels, n), timestamps (n,))`` copies (empty on
timeout; raises :class:`StreamLostError` once no data came for its
``data_timeout``) and ``backlog()`` (samples already waiting).
:func:`run_stream` checks the source against the decoder once, then reads
exactly the samples the next window needs, so each decision is computed as
soon as its last sample arrives.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np

from neurodec.errors import InvalidInputError, NeurodecError

__all__ = ["StreamLostError", "StreamMonitor", "unit_factor", "match_source", "run_stream"]

log = logging.getLogger(__name__)


class StreamLostError(NeurodecError, ConnectionError):
    """The stream stopped delivering samples (its source disappeared)."""


_UNITS = {
    "v": 1.0,
    "volt": 1.0,
    "volts": 1.0,
    "mv": 1e-3,
    "millivolt": 1e-3,
    "millivolts": 1e-3,
    "uv": 1e-6,
    "µv": 1e-6,
    "μv": 1e-6,
    "microvolt": 1e-6,
    "microvolts": 1e-6,
    "nv": 1e-9,
    "nanovolt": 1e-9,
    "nanovolts": 1e-9,
}


def unit_factor(unit: str | None) -> float | None:
    """Volts per unit of a channel unit string, ``None`` when unknown.

    Accepts names (``"microvolts"``, ``"uV"``, ``"µV"``, ``"V"``) and the
    power-of-ten exponents mne-lsl writes from MNE's ``unit_mul`` (``"0"``:
    volts, ``"-6"``: microvolts).
    """
    if unit is None:
        return None
    text = str(unit).strip().lower()
    if text in _UNITS:
        return _UNITS[text]
    try:
        exponent = int(text)
    except ValueError:
        return None
    return 10.0**exponent


def match_source(decoder: Any, source: Any) -> tuple[np.ndarray | None, float | None]:
    """Check ``source`` against ``decoder``; return the channel order and the scale.

    Returns
    -------
    order : ndarray of int | None
        Rows of the source to take, in the decoder's channel order (``None``:
        as they come).
    scale : float | None
        Factor from the source's unit to the decoder's (``None``: unknown, the
        decoder's ``scale`` is kept).

    Raises
    ------
    InvalidInputError
        Another sampling rate; channels of the decoder missing from the
        stream; an unknown channel set of another size; mixed units.

    Notes
    -----
    Names match exactly, else by their standardized case-insensitive form
    (``'Fc5.'`` is ``'FC5'``, see :func:`neurodec.sensors.montage.standardize_channel_name`)
    when that pairs every decoder channel with exactly one stream channel.
    """
    where = f"stream {getattr(source, 'name', '?')!r}"
    sfreq = float(source.sfreq)
    if sfreq <= 0 or abs(sfreq - decoder.sfreq) > 1e-6 * decoder.sfreq:
        raise InvalidInputError(
            f"{where} runs at {sfreq:g} Hz but the decoder was trained at {decoder.sfreq:g} Hz; "
            "stream at that rate (or re-fit the decoder on data at the stream's rate)"
        )
    names = source.ch_names
    wanted = list(decoder.ch_names)
    if names is None or all(not n for n in names):
        if source.n_channels != len(wanted):
            raise InvalidInputError(
                f"{where} has {source.n_channels} unnamed channels, the decoder expects {len(wanted)} "
                f"({', '.join(wanted[:8])}...)"
            )
        log.warning("%s declares no channel names: assuming the decoder's order %s", where, wanted)
        order = None
    else:
        names = [str(n) for n in names]
        index = {}
        for i, n in enumerate(names):
            index.setdefault(n, []).append(i)
        missing = [c for c in wanted if c not in index]
        if missing:
            # Files and amplifiers decorate 10-05 names ('Fc5.', 'EEG C3-Ref'): match those by
            # their standardized, case-insensitive form when that is one-to-one.
            mapped = _standard_matches(wanted, names)
            if mapped is None:
                raise InvalidInputError(
                    f"{where} lacks channel(s) {missing[:10]} the decoder was trained on "
                    f"(it has {names[:10]}{'...' if len(names) > 10 else ''}); rename them at the source"
                )
            log.warning(
                "%s: %d channel(s) matched by standardized name, e.g. %s",
                where,
                len(missing),
                {names[mapped[wanted.index(c)]]: c for c in missing[:3]},
            )
            index = {c: [i] for c, i in zip(wanted, mapped)}
        dup = [c for c in wanted if len(index[c]) > 1]
        if dup:
            raise InvalidInputError(f"{where} has several channels named {dup}; names must be unique")
        order = np.array([index[c][0] for c in wanted])
        if np.array_equal(order, np.arange(len(names))):
            order = None
        else:
            extra = [n for n in names if n not in set(wanted)]
            log.info("%s: channels reordered to the decoder's; %d not used %s", where, len(extra), extra[:5])
    scale = None
    units = getattr(source, "units", None)
    if units is not None and getattr(decoder, "unit", None) is not None:
        picked = [units[i] for i in (order if order is not None else range(len(wanted)))]
        factors = {unit_factor(u) for u in picked}
        target = unit_factor(decoder.unit)
        if None in factors or target is None:
            log.warning(
                "%s: unit(s) %s unknown; samples used as they come", where, sorted(set(map(str, picked)))
            )
        elif len(factors) > 1:
            raise InvalidInputError(
                f"{where}: the decoder's channels come in several units {sorted(set(picked))}"
            )
        else:
            scale = factors.pop() / target
    return order, scale


def _standard_matches(wanted: list[str], names: list[str]) -> list[int] | None:
    """Index in ``names`` of each wanted channel, matching standardized lower-case names;
    ``None`` unless every wanted channel has exactly one match and no two share one."""
    from neurodec.sensors.montage import standardize_channel_name

    def key(name: str) -> str:
        return standardize_channel_name(name).lower()

    found: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        found.setdefault(key(n), []).append(i)
    keys = [key(c) for c in wanted]
    if len(set(keys)) != len(keys) or any(len(found.get(k, ())) != 1 for k in keys):
        return None
    return [found[k][0] for k in keys]


class StreamMonitor:
    """Running figures of a live decoder: latency, drops, deadlines.

    Latency is from the arrival of a window's last sample (the inlet's pull
    returning it) to the decision's publication. A deadline is missed when a
    decision comes later than one ``step`` after its last sample arrived, or
    when a step of newer samples was already waiting (the loop is behind).
    """

    def __init__(self, step: float, keep: int = 5000) -> None:
        self.step = float(step)
        self._latency: deque[float] = deque(maxlen=keep)
        self.n_decisions = 0
        self.n_flagged = 0
        self.n_missed = 0
        self.backlog = 0
        self.dropped = 0
        self.missing = 0
        self.started = time.monotonic()

    def record(self, decision: Any, arrived: float, published: float, behind: bool = False) -> None:
        latency = published - arrived
        self._latency.append(latency)
        self.n_decisions += 1
        self.n_flagged += not decision.ok
        self.n_missed += bool(behind or latency > self.step)

    @property
    def latencies(self) -> np.ndarray:
        return np.asarray(self._latency)

    def percentile(self, q: float) -> float:
        lat = self.latencies
        return float(np.percentile(lat, q)) if lat.size else float("nan")

    def status_line(self) -> str:
        return (
            f"decisions {self.n_decisions} (flagged {self.n_flagged}) | "
            f"latency p50 {self.percentile(50) * 1e3:.1f} ms p99 {self.percentile(99) * 1e3:.1f} ms | "
            f"dropped {self.dropped} missing {self.missing} | missed deadlines {self.n_missed} | "
            f"backlog {self.backlog}"
        )


def _now() -> float:
    try:
        from mne_lsl.lsl import local_clock
    except ImportError:  # pragma: no cover
        return time.perf_counter()
    return local_clock()


def run_stream(
    decoder: Any,
    source: Any,
    *,
    outlet: Any = None,
    monitor: StreamMonitor | None = None,
    duration: float | None = None,
    poll: float = 0.25,
) -> Iterator[Any]:
    """The decode loop behind :meth:`StreamingDecoder.run` (see there)."""
    order, scale = match_source(decoder, source)
    if scale is not None:
        decoder.scale = scale
    decoder.monitor = monitor = monitor if monitor is not None else StreamMonitor(decoder.step)
    stop = None if duration is None else time.monotonic() + float(duration)
    clock = getattr(source, "clock", _now)
    while True:
        wait = poll
        if stop is not None:
            wait = stop - time.monotonic()
            if wait <= 0:
                return
            wait = min(poll, wait)
        data, ts = source.read(decoder.samples_to_next_decision, timeout=wait)
        if ts.size == 0:
            continue
        arrived = clock()
        if order is not None:
            data = data[order]
        decisions = decoder.push(data, ts)
        if decisions:
            if outlet is not None:
                for d in decisions:
                    outlet.publish(d)
            published = clock()
            backlog = int(source.backlog())
            behind = backlog >= decoder.n_step
            for d in decisions:
                monitor.record(d, arrived, published, behind)
            monitor.backlog = backlog
        monitor.dropped = decoder.n_dropped
        monitor.missing = decoder.n_missing
        yield from decisions
