"""The one place where a path is mapped to a reader (by extension, or folder layout)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mne

from neurodec.errors import InvalidInputError

__all__ = ["SUPPORTED_FORMATS", "detect_format", "format_from_name", "read_raw_native"]

logger = logging.getLogger(__name__)

#: Format key -> (file name endings, description). A BIDS dataset is a folder.
SUPPORTED_FORMATS: dict[str, tuple[tuple[str, ...], str]] = {
    "fif": ((".fif", ".fif.gz"), "MNE/Neuromag FIF"),
    "edf": ((".edf",), "European Data Format (EDF/EDF+)"),
    "bdf": ((".bdf",), "BioSemi BDF"),
    "gdf": ((".gdf",), "General Data Format (GDF 1/2)"),
    "brainvision": ((".vhdr",), "BrainVision (.vhdr header + .vmrk + .eeg)"),
    "eeglab": ((".set",), "EEGLAB .set (+ .fdt)"),
    "cnt": ((".cnt",), "Neuroscan CNT"),
    "kit": ((".sqd", ".con"), "KIT/Yokogawa/Ricoh MEG (optional mrk=, elp=, hsp=)"),
    "muse_csv": ((".csv", ".csv.gz"), "muse-lsl CSV (Muse headband)"),
    "bids": ((), "BIDS folder (root + subject=/task=... entities) or a file inside a BIDS tree"),
}

# Companion files users pick by mistake -> the file to pass instead.
_COMPANIONS = {
    ".vmrk": "the BrainVision header (.vhdr)",
    ".eeg": "the BrainVision header (.vhdr)",
    ".fdt": "the EEGLAB .set file",
    ".tsv": "the recording itself (electrodes/channels TSVs go to electrodes=/ch_types=)",
    ".json": "the recording itself or the BIDS root folder",
}


def supported_list() -> str:
    """Human-readable list of the supported formats (for error messages)."""
    parts = [f"{desc} [{', '.join(ext)}]" for ext, desc in SUPPORTED_FORMATS.values() if ext]
    return "; ".join(parts) + "; a BIDS dataset folder"


def _bids_root_of(path: Path) -> Path | None:
    """The BIDS root above a ``sub-*`` file (the folder with dataset_description.json)."""
    if not path.name.startswith("sub-"):
        return None
    for parent in list(path.parents)[:5]:
        if (parent / "dataset_description.json").is_file():
            return parent
    return None


def format_from_name(path: str | Path) -> str | None:
    """The single-file format key that ``path``'s name ends with, or ``None``.

    Only the name is looked at (no BIDS tree detection, no file access).
    """
    name = Path(path).name.lower()
    for key, (endings, _) in SUPPORTED_FORMATS.items():
        if any(name.endswith(end) for end in endings):
            return key
    return None


def detect_format(path: Path, *, bids: bool | None = None) -> str:
    """The format key of ``path``.

    Parameters
    ----------
    path : pathlib.Path
        An existing file or folder.
    bids : bool | None
        Read a ``sub-*`` file inside a BIDS tree through MNE-BIDS (None or True) or as a
        plain file (False).

    Returns
    -------
    str
        A key of :data:`SUPPORTED_FORMATS`.
    """
    if path.is_dir():
        if (path / "dataset_description.json").is_file():
            return "bids"
        raise InvalidInputError(
            f"{path} is a folder but not a BIDS dataset (no dataset_description.json); pass a recording file "
            f"or a BIDS root. Supported: {supported_list()}"
        )
    key = format_from_name(path)
    if key is not None:
        if bids is not False and key not in ("muse_csv",) and _bids_root_of(path) is not None:
            return "bids"
        return key
    hint = _COMPANIONS.get(path.suffix.lower())
    raise InvalidInputError(
        f"cannot read {path.name!r}: unsupported file extension {path.suffix or '(none)'!r}"
        + (f"; pass {hint} instead" if hint else "")
        + f". Supported formats: {supported_list()}"
    )


def _read_cnt(path: Path, **kwargs: Any) -> mne.io.BaseRaw:
    kwargs.setdefault("eog", "auto")
    if "data_format" in kwargs:
        return mne.io.read_raw_cnt(path, **kwargs)
    try:
        return mne.io.read_raw_cnt(path, **kwargs)
    except Exception as exc:  # header gives 0 samples: MNE will not guess the sample width
        first = next(
            (
                line
                for line in str(exc).splitlines()
                if line.strip().startswith(("RuntimeError", "ValueError"))
            ),
            "",
        )
        logger.info(
            "CNT reader could not guess the sample width (%s); retrying with data_format='int16'",
            first or type(exc).__name__,
        )
        return mne.io.read_raw_cnt(path, data_format="int16", **kwargs)


def _read_muse(path: Path, **kwargs: Any) -> mne.io.BaseRaw:
    kwargs.pop("preload", None)
    kwargs.pop("verbose", None)
    from neurodec.io.muse import read_muse_csv  # written separately; imported only when needed

    return read_muse_csv(path, **kwargs)


_READERS: dict[str, Callable[..., mne.io.BaseRaw]] = {
    "fif": mne.io.read_raw_fif,
    "edf": mne.io.read_raw_edf,
    "bdf": mne.io.read_raw_bdf,
    "gdf": mne.io.read_raw_gdf,
    "brainvision": mne.io.read_raw_brainvision,
    "eeglab": mne.io.read_raw_eeglab,
    "cnt": _read_cnt,
    "kit": mne.io.read_raw_kit,
    "muse_csv": _read_muse,
}


def read_raw_native(path: Path, fmt: str, *, preload: bool, verbose: Any, **kwargs: Any) -> mne.io.BaseRaw:
    """Read a single-file format with its MNE reader (errors propagate unwrapped)."""
    reader = _READERS[fmt]
    return reader(path, preload=preload, verbose=verbose, **kwargs)
