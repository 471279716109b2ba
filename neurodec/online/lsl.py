"""LSL in and out through mne-lsl (which bundles liblsl).

The first function here, :func:`lsl_loopback_only`, keeps every LSL packet
of the process on this machine; tests and rehearsals call it before creating
any LSL object, labs leave it off and keep their own ``lsl_api.cfg``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Self

import numpy as np

from neurodec.errors import DataNotFoundError, InvalidInputError
from neurodec.online.source import StreamLostError

__all__ = [
    "LOOPBACK_CONFIG",
    "lsl_loopback_only",
    "find_stream",
    "open_stream",
    "LSLSource",
    "DecisionOutlet",
]

log = logging.getLogger(__name__)

#: liblsl configuration that keeps discovery and data on the loopback interface.
LOOPBACK_CONFIG = """[ports]
IPv6 = disable
PortRange = 128

[multicast]
ResolveScope = machine
AddressesOverride = {127.0.0.1}

[lab]
KnownPeers = {127.0.0.1}

[tuning]
MulticastMinRTT = 0.05
UnicastMinRTT = 0.05
TimeProbeInterval = 0.005
"""

_applied = False


def lsl_loopback_only() -> None:
    """Keep this process's LSL traffic on the loopback interface (127.0.0.1).

    Discovery is limited to this machine (``ResolveScope = machine``, known peer
    and address override 127.0.0.1, no IPv6), so several outlets of one machine
    are all found quickly and nothing is sent to the lab network. liblsl reads
    its configuration once, at the first LSL object: call this before creating
    any stream, inlet, outlet or player (later calls are ignored by liblsl).
    Idempotent.
    """
    global _applied
    if _applied:
        return
    from mne_lsl.lsl import set_config_content

    set_config_content(LOOPBACK_CONFIG)
    _applied = True
    log.info("liblsl configured for loopback-only discovery")


def _lsl():
    try:
        import mne_lsl.lsl as lsl
    except ImportError:  # pragma: no cover - the extra is missing
        raise InvalidInputError(
            "LSL needs mne-lsl: install neurodec's online extra (pip install 'neurodec[online]')"
        ) from None
    return lsl


def _describe(infos: list) -> str:
    return ", ".join(f"{i.name!r} (source_id {i.source_id!r}, {i.hostname})" for i in infos) or "none"


def find_stream(*, source_id: str | None = None, name: str | None = None, timeout: float = 2.0) -> Any:
    """The one LSL stream with this ``source_id``, or with exactly this ``name``.

    A name must match exactly one stream: liblsl would otherwise connect to any
    of several streams sharing a name without a word.

    Parameters
    ----------
    source_id, name : str
        Exactly one of them.
    timeout : float
        Seconds to look for streams (a name search always waits that long, to
        see every stream of that name).

    Only regularly sampled numeric streams count (marker streams are skipped).

    Returns
    -------
    mne_lsl.lsl.StreamInfo

    Raises
    ------
    DataNotFoundError
        No such stream.
    InvalidInputError
        Neither or both selectors; several streams share the name or source_id.
    """
    return resolve_one(
        source_id=source_id,
        name=name,
        timeout=timeout,
        accept=_is_signal,
        kind="signal stream",
        hint="is the device (or `neurodec replay`) running?",
    )


def resolve_one(
    *,
    source_id: str | None,
    name: str | None,
    timeout: float,
    accept: Callable[[Any], bool],
    kind: str,
    hint: str,
) -> Any:
    """The one LSL stream passing ``accept`` with this ``source_id``, or exactly this ``name``.

    Streams are listed a second at a time. A source_id search stops at the first
    listing that has it (a source_id may also tag streams ``accept`` rejects, and
    liblsl's by-property search stops at the first match, so every stream is
    listed); a name search keeps looking for the whole ``timeout``, to see every
    stream of that name: liblsl would otherwise connect to any of several
    streams sharing a name without a word.

    Parameters
    ----------
    source_id, name : str | None
        Exactly one of them.
    timeout : float
        Seconds to look for streams.
    accept : callable
        ``accept(StreamInfo) -> bool``: the kind of stream wanted.
    kind : str
        Its name in messages (``"signal stream"``, ``"marker stream"``).
    hint : str
        What to check when nothing is found.

    Raises
    ------
    DataNotFoundError
        No such stream.
    InvalidInputError
        Neither or both selectors; several streams match.
    """
    if (source_id is None) == (name is None):
        raise InvalidInputError(f"select the {kind} with exactly one of source_id= or name=")
    lsl = _lsl()
    timeout = float(timeout)
    key, value = ("source_id", str(source_id)) if source_id is not None else ("name", str(name))
    what = f"{key} {value!r}"
    stop = time.monotonic() + timeout
    while True:
        left = stop - time.monotonic()
        seen = lsl.resolve_streams(timeout=max(0.05, min(left, 1.0)))
        found = [i for i in seen if getattr(i, key) == value and accept(i)]
        if (found and key == "source_id") or time.monotonic() >= stop:
            break
    if not found:
        raise DataNotFoundError(
            f"no LSL {kind} with {what} found within {timeout:g} s; {hint} Streams seen: {_describe(seen)}"
        )
    if len(found) > 1:
        raise InvalidInputError(
            f"{len(found)} LSL streams have {what} ({kind}s: {_describe(found)}); select one by its "
            "source_id (--source-id)"
        )
    return found[0]


def _is_signal(sinfo: Any) -> bool:
    """A regularly sampled numeric stream (not markers/annotations)."""
    return sinfo.sfreq > 0 and not (isinstance(sinfo.dtype, str) and sinfo.dtype == "string")


class InletStream:
    """Owns an LSL inlet (``self.inlet``): closes it, also as a context manager."""

    inlet: Any

    def close(self) -> None:
        inlet = getattr(self, "inlet", None)
        if inlet is not None:
            try:
                inlet.close_stream()
            finally:
                inlet._del()
                self.inlet = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class LSLSource(InletStream):
    """An opened LSL signal stream, read with blocking pulls (see :func:`open_stream`)."""

    def __init__(
        self,
        sinfo: Any,
        *,
        open_timeout: float = 5.0,
        data_timeout: float = 5.0,
        max_buffered: int = 60,
    ) -> None:
        lsl = _lsl()
        if sinfo.sfreq <= 0:
            raise InvalidInputError(
                f"stream {sinfo.name!r} is irregularly sampled (a marker stream?); give a signal stream"
            )
        if isinstance(sinfo.dtype, str) and sinfo.dtype == "string":
            raise InvalidInputError(f"stream {sinfo.name!r} carries strings (markers), not signals")
        self.name = sinfo.name
        self.source_id = sinfo.source_id
        self.sfreq = float(sinfo.sfreq)
        self.n_channels = int(sinfo.n_channels)
        self.data_timeout = float(data_timeout)
        self.inlet = lsl.StreamInlet(
            sinfo, max_buffered=int(max_buffered), recover=True, processing_flags=["clocksync"]
        )
        try:
            self.inlet.open_stream(timeout=float(open_timeout))
            full = self.inlet.get_sinfo(timeout=float(open_timeout))
        except Exception as exc:
            self.close()
            raise StreamLostError(
                f"could not open LSL stream {self.name!r} within {open_timeout:g} s ({exc})"
            ) from exc
        self.ch_names = full.get_channel_names()
        self.units = full.get_channel_units()
        self.clock = lsl.local_clock
        self._last_data = time.monotonic()
        self.n_pulled = 0

    def read(self, max_samples: int, timeout: float) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``max_samples`` samples, blocking until they are there or ``timeout``.

        Returns copies: ``(data (n_channels, n) float64, timestamps (n,))``, in
        this machine's LSL clock. Raises :class:`StreamLostError` once nothing
        arrived for ``data_timeout`` seconds.
        """
        from mne_lsl.lsl._utils import LostError

        try:
            data, ts = self.inlet.pull_chunk(timeout=max(0.0, float(timeout)), max_samples=int(max_samples))
        except LostError as exc:
            raise StreamLostError(f"LSL stream {self.name!r} was lost ({exc})") from exc
        if ts.size:
            self._last_data = time.monotonic()
            self.n_pulled += ts.size
            # pull_chunk returns views into buffers the inlet reuses: copy both.
            return np.array(data.T, dtype=np.float64, order="C"), np.array(ts, dtype=np.float64)
        silent = time.monotonic() - self._last_data
        if silent > self.data_timeout:
            raise StreamLostError(
                f"LSL stream {self.name!r} (source_id {self.source_id!r}) sent nothing for {silent:.1f} s: "
                "its source stopped or disappeared"
            )
        return np.zeros((self.n_channels, 0)), np.zeros(0)

    def backlog(self) -> int:
        """Samples already received and not read yet."""
        return int(self.inlet.samples_available)

    def __repr__(self) -> str:
        return (
            f"LSLSource({self.name!r}, source_id={self.source_id!r}, {self.n_channels} ch, {self.sfreq:g} Hz)"
        )


def open_stream(
    source_id: str | None = None,
    name: str | None = None,
    *,
    timeout: float = 5.0,
    data_timeout: float = 5.0,
) -> LSLSource:
    """Find and open an LSL signal stream for :meth:`StreamingDecoder.run`.

    Parameters
    ----------
    source_id, name : str
        Exactly one: the stream's source_id, or its name (which must match one
        stream exactly).
    timeout : float
        Seconds to find and open the stream.
    data_timeout : float
        Seconds without samples after which the stream counts as lost
        (:class:`~neurodec.online.source.StreamLostError`). liblsl reconnects to
        a source that comes back with the same source_id within that time.

    Returns
    -------
    LSLSource
        Use it as a context manager (or call ``close()``).
    """
    sinfo = find_stream(source_id=source_id, name=name, timeout=timeout)
    return LSLSource(sinfo, open_timeout=timeout, data_timeout=data_timeout)


class DecisionOutlet:
    """Publishes decisions on LSL: class probabilities and a marker per decision.

    Two outlets: ``name`` (float32, one channel per class, irregular rate) and
    ``{name}-markers`` (one string channel: the predicted class, or
    ``flagged:<reasons>`` for a window that was not decoded). Both are stamped
    with the decision's source timestamp. Probabilities come from
    ``predict_proba``; for estimators without it, a one-hot of the prediction;
    NaN for flagged windows.

    Parameters
    ----------
    name : str
    classes : list
        The decoder's classes (channel labels).
    source_id : str | None
        Default: ``neurodec-<name>``.
    """

    def __init__(self, name: str, classes: Any, *, source_id: str | None = None) -> None:
        lsl = _lsl()
        if classes is None or len(classes) == 0:
            raise InvalidInputError("the decoder has no classes_: nothing to publish probabilities for")
        self.classes = [str(c) for c in classes]
        self.name = str(name)
        self.source_id = source_id or f"neurodec-{self.name}"
        info = lsl.StreamInfo(self.name, "Decisions", len(self.classes), 0.0, "float32", self.source_id)
        info.set_channel_names(self.classes)
        info.set_channel_units("none")
        markers = lsl.StreamInfo(
            f"{self.name}-markers", "Markers", 1, 0.0, "string", f"{self.source_id}-markers"
        )
        markers.set_channel_names(["decision"])
        self._probs = lsl.StreamOutlet(info)
        self._markers = lsl.StreamOutlet(markers)
        self._index = {c: i for i, c in enumerate(self.classes)}
        self.n_published = 0

    def publish(self, decision: Any) -> None:
        """Push one decision on both outlets, stamped with its source timestamp."""
        values = np.full(len(self.classes), np.nan, dtype=np.float32)
        if decision.ok:
            if decision.probabilities is not None:
                values[:] = decision.probabilities
            else:
                values[:] = 0.0
                values[self._index[str(decision.prediction)]] = 1.0
            marker = str(decision.prediction)
        else:
            marker = f"flagged:{decision.quality}"
        self._probs.push_sample(values, timestamp=float(decision.timestamp))
        self._markers.push_sample([marker], timestamp=float(decision.timestamp))
        self.n_published += 1

    def close(self) -> None:
        for attr in ("_probs", "_markers"):
            outlet = getattr(self, attr, None)
            if outlet is not None:
                outlet._del()
                setattr(self, attr, None)

    def __enter__(self) -> DecisionOutlet:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
