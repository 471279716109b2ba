"""Cheap checks that a file is complete before MNE reads it.

Some MNE readers silently return fewer samples when a file is cut short (EDF, CNT,
BrainVision); these checks compare the size the header promises with the size on disk.
muse-lsl CSV files (plain or gzip) must end with a whole line and, when compressed,
with a whole gzip stream.

:func:`check_file` is the one check every recording file passes before it is read,
by :func:`neurodec.io.read_recording` and by the datasets (their ``check_local``).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import stat
import struct
import zlib
from pathlib import Path

from neurodec.errors import DataNotFoundError, InvalidDataError, NeurodecError
from neurodec.io.formats import format_from_name

__all__ = ["check_complete", "check_file"]

logger = logging.getLogger(__name__)

_WHAT_TO_DO = "re-export or re-copy the recording (the copy may have been interrupted)"


def _check_edf_like(path: Path, bytes_per_sample: int, kind: str) -> None:
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(256)
        if len(head) < 256:
            raise InvalidDataError(
                f"{path} is not a valid {kind} file: header is {len(head)} bytes, expected 256"
            )
        try:
            header_bytes = int(head[184:192].decode("ascii").strip())
            n_records = int(head[236:244].decode("ascii").strip())
            n_signals = int(head[252:256].decode("ascii").strip())
        except ValueError as exc:
            raise InvalidDataError(f"{path} is not a valid {kind} file: unreadable header fields") from exc
        if n_signals <= 0 or header_bytes != 256 * (n_signals + 1):
            raise InvalidDataError(
                f"{path} is not a valid {kind} file: header says {n_signals} signals "
                f"and {header_bytes} header bytes"
            )
        fh.seek(256 + 216 * n_signals)
        raw = fh.read(8 * n_signals)
    if len(raw) < 8 * n_signals:
        raise InvalidDataError(f"{path} is truncated inside its {kind} header; {_WHAT_TO_DO}")
    try:
        per_record = sum(int(raw[8 * i : 8 * i + 8].decode("ascii").strip()) for i in range(n_signals))
    except ValueError as exc:
        raise InvalidDataError(
            f"{path} is not a valid {kind} file: unreadable samples-per-record fields"
        ) from exc
    if n_records < 0:  # -1: unknown while recording; MNE infers it from the size
        return
    expected = header_bytes + n_records * per_record * bytes_per_sample
    if size < expected:
        raise InvalidDataError(
            f"{path} is truncated: its {kind} header promises {n_records} data records "
            f"({expected:,} bytes) but the file has {size:,} bytes; {_WHAT_TO_DO}"
        )


def _check_cnt(path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(900)
    if len(head) < 890:
        raise InvalidDataError(f"{path} is not a valid Neuroscan CNT file (header is {len(head)} bytes)")
    (event_table_pos,) = struct.unpack("<i", head[886:890])
    end = event_table_pos + 9
    if 900 < event_table_pos and end <= size:
        with path.open("rb") as fh:  # event table: type (1 byte), size (int32), offset (int32)
            fh.seek(event_table_pos + 1)
            (table_size,) = struct.unpack("<i", fh.read(4))
        end += max(table_size, 0)
    if event_table_pos <= 900 or end > size:
        raise InvalidDataError(
            f"{path} is truncated or corrupt: its CNT header puts the data and event table up to byte "
            f"{end:,} but the file has {size:,} bytes; {_WHAT_TO_DO}"
        )


_BV_BYTES = {"INT_16": 2, "UINT_16": 2, "INT_32": 4, "IEEE_FLOAT_32": 4}


def _check_brainvision(path: Path) -> None:
    try:
        text = path.read_text(encoding="latin-1")
    except OSError as exc:
        raise InvalidDataError(f"could not read BrainVision header {path}: {exc}") from exc
    if "Brain Vision" not in text and "BrainVision" not in text:
        raise InvalidDataError(
            f"{path} is not a BrainVision header (.vhdr): the identification line is missing"
        )

    def field(key: str) -> str | None:
        match = re.search(rf"^\s*{key}\s*=\s*(.+?)\s*$", text, flags=re.MULTILINE)
        return match.group(1) if match else None

    for key in ("DataFile", "MarkerFile"):
        name = field(key)
        if name is not None and not (path.parent / name).is_file():
            raise DataNotFoundError(
                f"BrainVision header {path} refers to {key} {name!r}, which is not in {path.parent}; "
                "keep the .vhdr, .vmrk and .eeg files together (renaming one needs editing the .vhdr)"
            )
    data_file, n_ch = field("DataFile"), field("NumberOfChannels")
    width = _BV_BYTES.get((field("BinaryFormat") or "INT_16").upper())
    if (
        data_file is None
        or n_ch is None
        or width is None
        or (field("DataFormat") or "BINARY").upper() != "BINARY"
    ):
        return
    size = (path.parent / data_file).stat().st_size
    frame = int(n_ch) * width
    if size == 0 or size % frame:
        raise InvalidDataError(
            f"{path.parent / data_file} has {size:,} bytes, not a whole number of samples of "
            f"{n_ch} channels x {width} bytes: truncated or corrupt; {_WHAT_TO_DO}"
        )


def _check_csv(path: Path) -> None:
    """A text table must end with a line end; a gzip-compressed one with a whole stream."""
    with path.open("rb") as fh:
        magic = fh.read(2)
        fh.seek(0)
        if magic != b"\x1f\x8b":
            fh.seek(-1, os.SEEK_END)
            last = fh.read(1)
        else:
            last = b""
            decomp = zlib.decompressobj(wbits=31)
            try:
                while chunk := fh.read(1 << 20):
                    while chunk:
                        if decomp.eof:  # another gzip member follows
                            decomp = zlib.decompressobj(wbits=31)
                        out = decomp.decompress(chunk)
                        last = out[-1:] or last
                        chunk = decomp.unused_data if decomp.eof else b""
            except zlib.error as exc:
                raise InvalidDataError(f"{path}: the gzip stream is corrupt ({exc}); {_WHAT_TO_DO}") from exc
            if not decomp.eof:
                raise InvalidDataError(
                    f"{path} is truncated: its gzip stream ends before the end of the compressed data; "
                    f"{_WHAT_TO_DO}"
                )
    if last != b"\n":
        raise InvalidDataError(
            f"{path} is truncated: its last line has no line end, so the last row is incomplete; "
            f"{_WHAT_TO_DO}"
        )


def check_complete(path: Path, fmt: str) -> None:
    """Raise :class:`~neurodec.errors.InvalidDataError` if ``path`` is visibly truncated.

    Parameters
    ----------
    path : pathlib.Path
        An existing file.
    fmt : str
        Its format key (``'edf'``, ``'bdf'``, ``'cnt'``, ``'brainvision'``,
        ``'muse_csv'``; others pass).
    """
    if fmt == "edf":
        _check_edf_like(path, 2, "EDF")
    elif fmt == "bdf":
        _check_edf_like(path, 3, "BDF")
    elif fmt == "cnt":
        _check_cnt(path)
    elif fmt == "brainvision":
        _check_brainvision(path)
    elif fmt == "muse_csv":
        _check_csv(path)


def check_file(path: str | os.PathLike) -> None:
    """Check that ``path`` exists and is not visibly incomplete, before it is read.

    The format comes from the file name (:func:`~neurodec.io.formats.format_from_name`):
    recordings get :func:`check_complete`; any file (sidecars, ``.mat`` files...) must
    be a non-empty regular file. For formats checked from the file alone, a pass is
    remembered for the file's current size, modification time and inode, so
    repeated checks of an unchanged file cost one ``stat``; any change checks it again.

    Parameters
    ----------
    path : path-like

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    InvalidDataError
        Not a regular file, empty, or truncated/corrupt according to its header.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DataNotFoundError(f"{path} does not exist") from None
    except OSError as exc:
        raise InvalidDataError(f"{path} cannot be read: {exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise InvalidDataError(f"{path} is not a regular file")
    fmt = format_from_name(path)
    if fmt in _SELF_CONTAINED:
        _check_unchanged(str(path), fmt, st.st_size, st.st_mtime_ns, st.st_ino)
    elif fmt is not None:  # the check reads companion files too: never cached
        _check_format(path, fmt)
    if st.st_size == 0:
        raise InvalidDataError(f"{path} is empty (0 bytes); {_WHAT_TO_DO}")


#: Formats whose check reads only the file itself (so a result can be cached by its identity).
_SELF_CONTAINED = frozenset({"edf", "bdf", "cnt", "muse_csv"})


def _check_format(path: Path, fmt: str) -> None:
    try:
        check_complete(path, fmt)
    except NeurodecError:
        raise
    except OSError as exc:
        raise InvalidDataError(f"{path} cannot be read: {exc}") from exc


@functools.lru_cache(maxsize=4096)
def _check_unchanged(path: str, fmt: str, size: int, mtime_ns: int, inode: int) -> None:
    # Only a pass is remembered (lru_cache does not keep raised errors), keyed by the
    # file's size, modification time and inode: any change to the file checks it again.
    _check_format(Path(path), fmt)
