"""Cheap checks that a file is complete before MNE reads it.

Some MNE readers silently return fewer samples when a file is cut short (EDF, CNT,
BrainVision); these checks compare the size the header promises with the size on disk.
"""

from __future__ import annotations

import logging
import re
import struct
from pathlib import Path

from neurodec.errors import DataNotFoundError, InvalidDataError

__all__ = ["check_complete"]

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


def check_complete(path: Path, fmt: str) -> None:
    """Raise :class:`~neurodec.errors.InvalidDataError` if ``path`` is visibly truncated.

    Parameters
    ----------
    path : pathlib.Path
        An existing file.
    fmt : str
        Its format key (``'edf'``, ``'bdf'``, ``'cnt'``, ``'brainvision'``; others pass).
    """
    if fmt == "edf":
        _check_edf_like(path, 2, "EDF")
    elif fmt == "bdf":
        _check_edf_like(path, 3, "BDF")
    elif fmt == "cnt":
        _check_cnt(path)
    elif fmt == "brainvision":
        _check_brainvision(path)
