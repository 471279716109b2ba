"""BrainFlow boards as a live source for :meth:`StreamingDecoder.run`.

BrainFlow returns EEG rows in microvolts and stamps samples with Unix time;
:class:`BrainFlowSource` declares the unit and converts every timestamp to this
machine's LSL clock (``local_clock()``, the clock decisions are published in),
with the offset between the two clocks measured at each read. BrainFlow has no
blocking read, so :meth:`BrainFlowSource.read` polls the board's buffer every
``poll`` seconds until the samples asked for are there.

:func:`board_id` resolves a board given by name (``synthetic``, ``playback``, a
``BoardIds`` name) or number, and :func:`open_board` builds the source from the
options of ``neurodec stream --brainflow-board``.

Works offline with BrainFlow's synthetic board (``BoardIds.SYNTHETIC_BOARD``,
250 Hz, 16 EEG rows) and its playback-file board (``PLAYBACK_FILE_BOARD`` with
``file=`` and ``master_board=``).
"""

from __future__ import annotations

import importlib
import logging
import sys
import time
from typing import Any

import numpy as np

from neurodec.errors import DataNotFoundError, InvalidInputError
from neurodec.online.source import StreamLostError

__all__ = ["BrainFlowSource", "unix_to_lsl_offset", "board_id", "open_board"]

log = logging.getLogger(__name__)


def _brainflow():
    try:
        from brainflow import board_shim
    except ImportError:  # pragma: no cover - the extra is missing
        raise InvalidInputError(
            "BrainFlow boards need brainflow: install neurodec's brainflow extra "
            "(pip install 'neurodec[brainflow]')"
        ) from None
    if sys.version_info < (3, 12):
        # brainflow <= 5.23 finds its shared libraries with importlib.resources.files(<module>),
        # which Python 3.11 refuses for a non-package module, then falls back to pkg_resources,
        # which setuptools >= 81 no longer ships. Ask for the package instead.
        for name in ("brainflow.board_shim", "brainflow.data_filter"):
            mod = importlib.import_module(name)
            original = getattr(mod, "files", None)
            if original is not None and not getattr(original, "_neurodec", False):

                def files(package, _original=original):
                    try:
                        return _original(package)
                    except TypeError:
                        return _original(str(package).rpartition(".")[0])

                files._neurodec = True
                mod.files = files
    return board_shim


#: short names of the boards that work without hardware
BOARD_ALIASES = {"synthetic": "SYNTHETIC_BOARD", "playback": "PLAYBACK_FILE_BOARD"}


def board_id(board: str | int) -> int:
    """The ``BoardIds`` value of a board given as ``synthetic``, ``playback``, a ``BoardIds``
    name (``cyton_board``, case-insensitive, ``_board`` optional) or its number.

    Raises
    ------
    InvalidInputError
        No BrainFlow board has that name or number.
    """
    bs = _brainflow()
    ids = {b.name: b.value for b in bs.BoardIds}
    text = str(board).strip()
    try:
        number = int(text)
    except ValueError:
        key = BOARD_ALIASES.get(text.lower(), text.upper())
        for name in (key, f"{key}_BOARD"):
            if name in ids:
                return int(ids[name])
    else:
        if number in ids.values():
            return number
    raise InvalidInputError(
        f"unknown BrainFlow board {board!r}; give synthetic, playback (with a file), a BoardIds name "
        f"such as cyton_board or its number ({min(ids.values())}..{max(ids.values())})"
    )


def open_board(
    board: str | int,
    *,
    file: str | None = None,
    master: str | int | None = None,
    serial_port: str | None = None,
    data_timeout: float = 5.0,
) -> BrainFlowSource:
    """A :class:`BrainFlowSource` for a board named as :func:`board_id` takes.

    Parameters
    ----------
    board : str | int
    file : str | None
        The recording a ``playback`` board plays (BrainFlow's CSV, ``DataFilter.write_file``).
    master : str | int | None
        The board the playback file was recorded with (default: ``synthetic``).
    serial_port : str | None
        Serial port of a wired board (``/dev/ttyUSB0``, ``COM3``).
    data_timeout : float
        Seconds without samples after which the board counts as lost.
    """
    from pathlib import Path

    bs = _brainflow()
    bid = board_id(board)
    params = bs.BrainFlowInputParams()
    playback = bid == bs.BoardIds.PLAYBACK_FILE_BOARD.value
    if playback:
        if not file:
            raise InvalidInputError("the playback board needs the recording to play: give its file")
        if not Path(file).is_file():
            raise DataNotFoundError(f"no BrainFlow recording at {file}")
        params.file = str(file)
        params.master_board = board_id("synthetic" if master is None else master)
    elif file or master is not None:
        raise InvalidInputError("a file and its master board are for the playback board only")
    if serial_port:
        params.serial_port = str(serial_port)
    return BrainFlowSource(bid, params, data_timeout=data_timeout)


def unix_to_lsl_offset(n: int = 5) -> float:
    """Seconds to add to a Unix timestamp to get LSL's ``local_clock()`` time
    (the tightest of ``n`` back-to-back readings of both clocks)."""
    try:
        from mne_lsl.lsl import local_clock
    except ImportError:  # pragma: no cover
        local_clock = time.monotonic
    best, offset = np.inf, 0.0
    for _ in range(n):
        a = local_clock()
        u = time.time()
        b = local_clock()
        if b - a < best:
            best, offset = b - a, (a + b) / 2 - u
    return offset


class BrainFlowSource:
    """A BrainFlow board read as a live source.

    Parameters
    ----------
    board_id : int
        A ``brainflow.board_shim.BoardIds`` value (default: the synthetic board).
    params : brainflow.board_shim.BrainFlowInputParams | None
        Connection parameters (serial port, file for the playback board...).
    data_timeout : float
        Seconds without samples after which the board counts as lost.
    poll : float
        Seconds between two looks at the board's buffer while waiting.
    buffer : int
        Samples BrainFlow keeps (``start_stream``'s ring buffer).

    Examples
    --------
    >>> with BrainFlowSource() as board:                         # doctest: +SKIP
    ...     for d in decoder.run(board, duration=10): ...
    """

    def __init__(
        self,
        board_id: int | None = None,
        params: Any = None,
        *,
        data_timeout: float = 5.0,
        poll: float = 0.002,
        buffer: int = 45000,
    ) -> None:
        bs = _brainflow()
        bs.BoardShim.disable_board_logger()
        self.board_id = int(bs.BoardIds.SYNTHETIC_BOARD.value if board_id is None else board_id)
        self._params = params if params is not None else bs.BrainFlowInputParams()
        descr_id = self.board_id
        if self.board_id == bs.BoardIds.PLAYBACK_FILE_BOARD.value:
            descr_id = int(self._params.master_board)
        self.sfreq = float(bs.BoardShim.get_sampling_rate(descr_id))
        self._rows = list(bs.BoardShim.get_eeg_channels(descr_id))
        self._ts_row = int(bs.BoardShim.get_timestamp_channel(descr_id))
        try:
            self.ch_names = list(bs.BoardShim.get_eeg_names(descr_id))
        except Exception:  # boards without a montage in BrainFlow's description
            self.ch_names = [f"EEG{i + 1}" for i in range(len(self._rows))]
        if len(self.ch_names) != len(self._rows):
            self.ch_names = [f"EEG{i + 1}" for i in range(len(self._rows))]
        self.units = ["microvolts"] * len(self._rows)
        self.n_channels = len(self._rows)
        self.name = bs.BoardIds(self.board_id).name
        self.data_timeout = float(data_timeout)
        self.poll = float(poll)
        self._buffer = int(buffer)
        self._board = bs.BoardShim(self.board_id, self._params)
        self._started = False
        self._last_data = time.monotonic()

    def start(self) -> BrainFlowSource:
        """Open the board and start streaming."""
        if self._board is None:
            raise InvalidInputError("this BrainFlowSource was closed; create a new one")
        if not self._started:
            from brainflow.exit_codes import BrainFlowError

            try:
                self._board.prepare_session()
                self._board.start_stream(self._buffer)
            except BrainFlowError as exc:
                if self._board.is_prepared():
                    self._board.release_session()
                raise DataNotFoundError(
                    f"could not open BrainFlow board {self.name} ({exc}); check that it is on and "
                    "connected, and its connection options (serial port, address, file)"
                ) from None
            self._started = True
            self._last_data = time.monotonic()
        return self

    def read(self, max_samples: int, timeout: float) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``max_samples`` samples (microvolts, LSL-clock timestamps), waiting up to ``timeout``."""
        if not self._started:
            self.start()
        stop = time.monotonic() + max(0.0, float(timeout))
        board = self._board
        while True:
            count = board.get_board_data_count()
            if count >= max_samples or time.monotonic() >= stop:
                break
            time.sleep(self.poll)
        if count == 0:
            silent = time.monotonic() - self._last_data
            if silent > self.data_timeout:
                raise StreamLostError(f"BrainFlow board {self.name} sent nothing for {silent:.1f} s")
            return np.zeros((self.n_channels, 0)), np.zeros(0)
        raw = board.get_board_data(int(min(count, max_samples)))
        self._last_data = time.monotonic()
        ts = raw[self._ts_row] + unix_to_lsl_offset()
        return np.ascontiguousarray(raw[self._rows], dtype=np.float64), np.asarray(ts, dtype=np.float64)

    def backlog(self) -> int:
        """Samples already in BrainFlow's buffer."""
        return int(self._board.get_board_data_count()) if self._started else 0

    def close(self) -> None:
        """Stop streaming and release the board (idempotent)."""
        if self._started and self._board is not None:
            try:
                self._board.stop_stream()
            finally:
                self._board.release_session()
                self._started = False
        self._board = None  # BoardShim.__del__ fails at interpreter exit; let it run now

    def __enter__(self) -> BrainFlowSource:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"BrainFlowSource({self.name}, {self.n_channels} EEG channels, {self.sfreq:g} Hz)"
