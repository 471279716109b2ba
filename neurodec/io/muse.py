"""Reader for the CSV files that muse-lsl's recorder writes (Muse EEG headbands).

Format (see ``EEGNotebooks_VisualP300/MANIFEST.md``): a header row, then one row per
sample: ``timestamps`` (seconds), the four Muse electrodes ``TP9, AF7, AF8, TP10``
(µV), optionally ``Right AUX`` (µV), and a marker column last (``Marker`` in 2017
files, ``Marker0`` in 2018 files; 0 = no event). Files may be gzip-compressed.

The reader checks the file before trusting it: a file cut mid-row or a truncated
gzip stream, a missing marker column, non-numeric values and timestamps that go
backwards each raise :class:`~neurodec.errors.InvalidDataError` naming the problem.
"""

from __future__ import annotations

import functools
import gzip
import io
import logging
import os
import re
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import mne
import numpy as np
import pandas as pd

from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError

__all__ = ["read_muse_csv", "MUSE_EEG_CHANNELS", "MUSE_SFREQ"]

logger = logging.getLogger(__name__)

#: The four Muse electrodes, in file order.
MUSE_EEG_CHANNELS = ("TP9", "AF7", "AF8", "TP10")
#: Nominal sampling rate of the Muse 2016 headband (Hz).
MUSE_SFREQ = 256.0
_AUX_HEADER = "Right AUX"
_MARKER_RE = re.compile(r"^marker\d*$", re.IGNORECASE)
_STIM_NAME = "STI"
_UNIX_CLOCK_MIN = 1e9  # timestamps above this are Unix epoch seconds (2001+)


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as exc:
        raise InvalidDataError(
            f"{path}: the gzip stream is truncated or corrupt ({exc}). Re-copy the file "
            "from its source (decompress it with `gzip -t` to check)."
        ) from exc


@functools.lru_cache(maxsize=1)
def _template_montage() -> mne.channels.DigMontage:
    builtin = mne.channels.get_builtin_montages()
    name = "colin27_1020" if "colin27_1020" in builtin else "standard_1020"
    return mne.channels.make_standard_montage(name)


def _montage() -> mne.channels.DigMontage:
    """The 10-20 template (built once; a copy per call so callers cannot alter it)."""
    return _template_montage().copy()


def _parse_header(path: Path, first_line: bytes) -> list[str]:
    try:
        header = first_line.decode("utf-8").rstrip("\r").split(",")
    except UnicodeDecodeError as exc:
        raise InvalidDataError(f"{path}: the header row is not text ({exc}); not a muse-lsl CSV") from exc
    header = [h.strip() for h in header]
    if header[0] != "timestamps" or tuple(header[1:5]) != MUSE_EEG_CHANNELS:
        raise InvalidDataError(
            f"{path}: not a muse-lsl CSV; expected the header to start with "
            f"timestamps,{','.join(MUSE_EEG_CHANNELS)} but found {','.join(header[:5])!r}"
        )
    if len(header) < 6 or not _MARKER_RE.match(header[-1]):
        raise InvalidDataError(
            f"{path}: the marker column is missing: the last column is {header[-1]!r}, expected "
            "'Marker' or 'Marker0' (columns: " + ", ".join(header) + "). Without markers the "
            "stimulus events cannot be found; record with the marker stream, or read the EEG with "
            "pandas directly if you do not need events."
        )
    extra = header[5:-1]
    if len(extra) > 1 or (extra and extra[0] != _AUX_HEADER):
        raise InvalidDataError(
            f"{path}: unexpected columns {extra} between the EEG and the marker column; "
            f"expected nothing or {_AUX_HEADER!r}"
        )
    return header


def _first_bad_value(path: Path, text: bytes) -> InvalidDataError:
    frame = pd.read_csv(io.BytesIO(text), dtype=str, engine="c", keep_default_na=False)
    for column in frame.columns:
        numeric = pd.to_numeric(frame[column], errors="coerce")
        bad = np.flatnonzero(numeric.isna().to_numpy())
        if bad.size:
            row = int(bad[0])
            return InvalidDataError(
                f"{path}: non-numeric value {frame[column].iloc[row]!r} in column {column!r} at data "
                f"row {row + 1} (line {row + 2}); every value must be a number."
            )
    return InvalidDataError(f"{path}: some values could not be parsed as numbers")


def read_muse_csv(
    path: str | os.PathLike,
    *,
    aux: Literal["misc", "eeg", "drop"] = "misc",
    aux_name: str | None = None,
    verbose: bool | str | int | None = None,
) -> mne.io.RawArray:
    """Read a muse-lsl CSV (``.csv`` or ``.csv.gz``) into an MNE Raw.

    Parameters
    ----------
    path : path-like
        The CSV file, plain or gzip-compressed.
    aux : {"misc", "eeg", "drop"}
        What to do with the ``Right AUX`` column: keep it as a ``misc`` channel
        (default; it is a floating input unless an electrode was plugged in), as an
        ``eeg`` channel (when an extra electrode was connected), or drop it.
    aux_name : str, optional
        Name of the AUX channel (default ``"Right AUX"``); e.g. ``"Oz"`` with
        ``aux="eeg"`` when the extra electrode sat at Oz, so it gets a position.
    verbose : bool | str | int | None
        MNE verbosity for building the Raw.

    Returns
    -------
    mne.io.RawArray
        EEG channels ``TP9, AF7, AF8, TP10`` in volts with standard 10-20 positions,
        the AUX channel (unless dropped), and a stim channel ``STI`` carrying the
        markers (1 = non-target, 2 = target in the eeg-notebooks P300 task).
        ``sfreq`` is the nominal 256 Hz; the rate measured from the timestamps is
        logged and written in ``raw.info["description"]``. When the timestamps
        are Unix epoch seconds (2017 muse-lsl), ``meas_date`` is the first one.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    InvalidDataError
        Truncated file or gzip stream, missing marker column, unexpected header,
        non-numeric values, non-integer or negative markers, timestamps going
        backwards, or fewer than two samples.
    InvalidInputError
        ``aux`` is not one of the allowed values.
    """
    if aux not in ("misc", "eeg", "drop"):
        raise InvalidInputError(f"aux must be 'misc', 'eeg' or 'drop', got {aux!r}")
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"muse CSV file {path} does not exist")
    text = _read_bytes(path)
    if not text.strip():
        raise InvalidDataError(f"{path}: the file is empty")
    header = _parse_header(path, text.split(b"\n", 1)[0])
    if not text.endswith(b"\n"):
        last = text.rsplit(b"\n", 1)[-1][:80].decode("utf-8", "replace")
        raise InvalidDataError(
            f"{path}: the file is truncated: its last line {last!r} has no line end, so the "
            "last row is incomplete. Re-copy the file from its source."
        )

    try:
        frame = pd.read_csv(io.BytesIO(text), dtype=np.float64, engine="c", na_filter=True)
    except ValueError as exc:
        raise _first_bad_value(path, text) from exc
    except pd.errors.ParserError as exc:
        raise InvalidDataError(f"{path}: malformed CSV ({exc})") from exc
    values = frame.to_numpy()
    if values.shape[0] < 2:
        raise InvalidDataError(f"{path}: holds {values.shape[0]} sample(s); need at least 2")
    if np.isnan(values).any():
        row, col = (int(v[0]) for v in np.nonzero(np.isnan(values)))
        raise InvalidDataError(
            f"{path}: missing value in column {header[col]!r} at data row {row + 1} "
            f"(line {row + 2}); rows must have {len(header)} fields. The file may be truncated "
            "or edited."
        )

    times = values[:, 0]
    steps = np.diff(times)
    back = np.flatnonzero(steps < 0)
    if back.size:
        i = int(back[0])
        raise InvalidDataError(
            f"{path}: timestamps go backwards at data row {i + 2} (line {i + 3}): "
            f"{times[i]:.3f} s then {times[i + 1]:.3f} s ({back.size} such step(s)). Samples "
            "out of order cannot be epoched reliably; this file is corrupt or was concatenated."
        )
    n = values.shape[0]
    measured = (n - 1) / (times[-1] - times[0]) if times[-1] > times[0] else float("nan")
    gaps = int(np.count_nonzero(steps > 1.5 / MUSE_SFREQ))
    if gaps:
        logger.warning(
            "%s: %d gap(s) longer than 1.5 samples in the timestamps; samples are treated as "
            "evenly spaced at %g Hz, so events after a gap are shifted",
            path,
            gaps,
            MUSE_SFREQ,
        )
    if n % 12:
        logger.info("%s: %d rows is not a multiple of 12 (Muse sends 12 samples per packet)", path, n)

    markers = values[:, -1]
    if np.any(markers < 0) or np.any(markers != np.round(markers)):
        bad = int(np.flatnonzero((markers < 0) | (markers != np.round(markers)))[0])
        raise InvalidDataError(
            f"{path}: marker {markers[bad]!r} at data row {bad + 1} is not a non-negative integer"
        )

    eeg = values[:, 1:5].T * 1e-6
    names = list(MUSE_EEG_CHANNELS)
    types = ["eeg"] * 4
    data = [eeg]
    if len(header) == 7 and aux != "drop":
        names.append(aux_name or _AUX_HEADER)
        types.append(aux)
        data.append(values[None, :, 5] * 1e-6)
    names.append(_STIM_NAME)
    types.append("stim")
    data.append(markers[None, :])
    if len(set(names)) != len(names):
        raise InvalidInputError(f"aux_name {aux_name!r} clashes with another channel name {names}")

    clock = "Unix epoch" if times[0] > _UNIX_CLOCK_MIN else "LSL local_clock"
    info = mne.create_info(names, MUSE_SFREQ, types, verbose=verbose)
    raw = mne.io.RawArray(np.vstack(data), info, verbose=verbose)
    raw.set_montage(_montage(), on_missing="ignore", verbose=verbose)
    with raw.info._unlock():
        raw.info["description"] = (
            f"muse-lsl CSV {path.name}; nominal {MUSE_SFREQ:g} Hz, measured {measured:.4f} Hz "
            f"from timestamps ({clock} clock, first {times[0]:.3f} s)"
        )
    if clock == "Unix epoch":
        raw.set_meas_date(datetime.fromtimestamp(float(times[0]), tz=UTC))
    logger.info(
        "%s: %d samples, %d events, measured rate %.4f Hz (%s clock)",
        path.name,
        n,
        int(np.count_nonzero(markers)),
        measured,
        clock,
    )
    return raw
