"""Replay a recording as a live LSL device with mne-lsl's ``PlayerLSL``.

Any file :func:`neurodec.io.read_recording` reads can be replayed. Known
quirks of ``PlayerLSL`` (mne-lsl 1.14) and how they are handled here:

* It loops forever unless told otherwise: the number of plays is always
  explicit (``repeat``, default 1).
* When the recording's length is a multiple of ``chunk_size``, each loop
  boundary pushes the whole recording a second time in one chunk, with
  timestamps jumping back. For a finite ``repeat`` the recording is repeated
  in memory and played once (one continuous stream, no duplicate); an endless
  replay of such a length is refused (choose another chunk size).
* Annotations are stamped one sample early: they are moved one sample later
  before playing, so their timestamps equal those of their onset samples.
* Each chunk is stamped about one chunk-length ahead of the push time (the last
  sample of the chunk gets the time the *next* chunk is due). Consumers should
  rely on timestamp differences, not on ``now - timestamp``; neurodec measures
  latency from a sample's arrival.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

import numpy as np

from neurodec.errors import InvalidInputError

__all__ = ["Replay"]

log = logging.getLogger(__name__)

_BOUNDARY = ("BAD boundary", "EDGE boundary")


def _load_raw(source: Any) -> Any:
    import mne

    if isinstance(source, mne.io.BaseRaw):
        return source.copy().load_data()
    raw = getattr(source, "raw", None)  # a neurodec Recording
    if raw is not None:
        return raw.copy().load_data()
    from neurodec.io import read_recording

    return read_recording(source).raw.copy().load_data()


def _repeat_in_memory(raw: Any, repeat: int) -> Any:
    import mne

    tiled = mne.concatenate_raws([raw.copy() for _ in range(repeat)], verbose=False)
    ann = tiled.annotations
    added = np.flatnonzero(np.isin(ann.description, _BOUNDARY))
    if added.size:
        tiled.annotations.delete(added)
    return tiled


def _annotations_one_sample_later(raw: Any) -> None:
    ann = raw.annotations
    if len(ann):
        ann.onset[:] = ann.onset + 1.0 / raw.info["sfreq"]


def _player_class() -> type:
    """``PlayerLSL`` that can hold its first push until an inlet is connected.

    A late inlet misses what was pushed before it connected, so a rehearsal that
    must receive every sample waits for its consumer (bounded by a timeout) and
    then restarts the player's clock.
    """
    from mne_lsl.lsl import local_clock
    from mne_lsl.player import PlayerLSL

    class _Player(PlayerLSL):
        consumer_timeout = 0.0

        def _stream(self) -> None:
            timeout, self.consumer_timeout = self.consumer_timeout, 0.0
            if timeout > 0 and getattr(self, "_outlet", None) is not None:
                if not self._outlet.wait_for_consumers(timeout):
                    log.warning("replay %s: no consumer after %g s, starting anyway", self.name, timeout)
                self._target_timestamp = local_clock()
            super()._stream()

    return _Player


class Replay:
    """A recording played as a live LSL stream.

    Parameters
    ----------
    source : path | mne.io.Raw | Recording
        A file :func:`neurodec.io.read_recording` reads, or what it returns.
    chunk_size : int
        Samples pushed at once.
    repeat : int
        Plays of the recording; ``0`` replays until stopped.
    name : str | None
        Stream name (default ``neurodec-replay-<file stem>``).
    source_id : str | None
        Default: a fresh UUID (printed by ``neurodec replay``).
    annotations : bool
        Also publish the annotations on ``{name}-annotations`` (one string
        channel: the description), when the recording has any.
    wait_for_consumer : float
        Seconds to hold the first push until an inlet connects (a late inlet
        misses earlier samples); 0: start at once.

    Examples
    --------
    >>> with Replay("run.edf", repeat=1) as rep:     # doctest: +SKIP
    ...     rep.wait(timeout=600)
    """

    def __init__(
        self,
        source: Any,
        *,
        chunk_size: int = 16,
        repeat: int = 1,
        name: str | None = None,
        source_id: str | None = None,
        annotations: bool = True,
        wait_for_consumer: float = 0.0,
    ) -> None:
        from neurodec.online.lsl import _lsl

        _lsl()

        chunk_size = int(chunk_size)
        repeat = int(repeat)
        if chunk_size < 1:
            raise InvalidInputError(f"chunk_size must be >= 1, got {chunk_size}")
        if repeat < 0:
            raise InvalidInputError(f"repeat must be >= 0 (0: until stopped), got {repeat}")
        raw = _load_raw(source)
        n = raw.n_times
        stem = (
            os.path.splitext(os.path.basename(str(raw.filenames[0] or "recording")))[0]
            if raw.filenames
            else ""
        )
        self.name = name or f"neurodec-replay-{stem or 'recording'}"
        self.source_id = source_id or uuid.uuid4().hex
        self.sfreq = float(raw.info["sfreq"])
        self.ch_names = list(raw.ch_names)
        self.n_file_samples = n
        self.repeat = repeat
        self.chunk_size = chunk_size
        quirk = n % chunk_size == 0
        if repeat == 0:
            if quirk:
                raise InvalidInputError(
                    f"an endless replay of {n} samples in chunks of {chunk_size} would push each loop twice "
                    f"(mne-lsl 1.14 bug when the length is a multiple of the chunk size); use another "
                    f"--chunk-size (e.g. {chunk_size + 1}) or a finite --repeat"
                )
            n_repeat: float = np.inf
        elif repeat > 1 and quirk:
            raw = _repeat_in_memory(raw, repeat)
            n_repeat = 1
            log.info(
                "replay: %d plays of %d samples repeated in memory (chunk size divides the length)", repeat, n
            )
        else:
            n_repeat = repeat
        _annotations_one_sample_later(raw)
        self.n_samples = None if repeat == 0 else n * repeat
        self.annotations = bool(annotations and len(raw.annotations))
        self._player = _player_class()(
            raw,
            chunk_size=chunk_size,
            n_repeat=n_repeat,
            name=self.name,
            source_id=self.source_id,
            annotations=self.annotations,
            annotations_encoding="string",
        )
        self._player.consumer_timeout = float(wait_for_consumer)
        self.started: float | None = None

    @property
    def running(self) -> bool:
        """Whether samples are still being pushed."""
        return bool(self._player.running)

    @property
    def duration(self) -> float | None:
        """Seconds the whole replay takes (``None`` when endless)."""
        return None if self.n_samples is None else self.n_samples / self.sfreq

    def start(self) -> Replay:
        """Start pushing samples (returns at once)."""
        self._player.start()
        self.started = time.monotonic()
        log.info(
            "replaying %s as LSL stream %r (source_id %s)", self.n_file_samples, self.name, self.source_id
        )
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the replay ends or ``timeout`` seconds pass; whether it ended."""
        stop = None if timeout is None else time.monotonic() + float(timeout)
        while self._player.running:
            if stop is not None and time.monotonic() >= stop:
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> None:
        """Stop pushing and remove the outlets (idempotent)."""
        if self._player.running:
            self._player.stop()

    def __enter__(self) -> Replay:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        plays = f"{self.n_file_samples} samples x {self.repeat}"
        return f"Replay({self.name!r}, source_id={self.source_id!r}, {plays})"
