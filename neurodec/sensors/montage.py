"""Standard montages for channels without positions, and montage files.

:func:`fill_positions` gives EEG channels that have no position the position of the
channel of the same name in a montage (``standard_1005`` by default). Names are matched
case-insensitively after standardisation (:func:`standardize_channel_name`), which
handles the names EEG files really carry: PhysioNet's dotted ``Fc5.``/``C3..``, clinical
``EEG Fp1-Ref``, upper-case ``FP1``.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any, Literal

import mne
import numpy as np
from mne.io.constants import FIFF

from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError, MissingPositionsError
from neurodec.sensors.table import as_info, channels_without_position, sensor_table

__all__ = ["fill_positions", "standardize_channel_name", "load_montage", "MONTAGE_FILE_EXTENSIONS"]

logger = logging.getLogger(__name__)

#: Montage file formats read by :func:`load_montage` (extension -> reader).
MONTAGE_FILE_EXTENSIONS = {
    ".bvct": "BrainVision CapTrak (mne.channels.read_dig_captrak)",
    ".locs": "EEGLAB polar locations",
    ".loc": "EEGLAB polar locations",
    ".eloc": "EEGLAB polar locations",
    ".sfp": "BESA/EGI sfp",
    ".elc": "ASA elc",
    ".elp": "BESA spherical",
    ".txt": "custom text",
    ".csd": "CSD toolbox",
    ".xyz": "xyz",
    ".hpts": "MNE hpts",
    ".bvef": "BrainVision bvef",
}

# MNE 1.13 renamed the 'standard_*' montages (same positions) and warns on the old names.
_DEPRECATED_NAMES = {
    f"standard_{kind}": f"colin27_{kind}"
    for kind in ("1005", "1020", "alphabetic", "postfixed", "prefixed", "primed")
}

_PREFIX = re.compile(r"^(eeg|ekg|pol)[\s_-]+", re.IGNORECASE)
_SUFFIX = re.compile(r"[\s_-]+(ref|avg|average|le|re|a1|a2|m1|m2|cz)$", re.IGNORECASE)


def standardize_channel_name(name: str) -> str:
    """Strip the decorations files add around a 10-05 electrode name.

    Removes trailing dots (``'Fc5.'`` -> ``'Fc5'``, ``'C3..'`` -> ``'C3'``), a leading
    ``EEG``/``POL`` prefix and a trailing reference suffix (``'EEG Fp1-Ref'`` -> ``'Fp1'``)
    and surrounding spaces. Case is kept; matching is case-insensitive.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
    """
    out = name.strip().rstrip(".").strip()
    out = _PREFIX.sub("", out)
    out = _SUFFIX.sub("", out)
    return out.strip()


def load_montage(montage: str | os.PathLike | mne.channels.DigMontage) -> mne.channels.DigMontage:
    """A montage from a built-in name, a montage file, or a DigMontage.

    Parameters
    ----------
    montage : str | path-like | mne.channels.DigMontage
        A built-in name (``mne.channels.get_builtin_montages()``, e.g. ``'standard_1005'``),
        a file (see :data:`MONTAGE_FILE_EXTENSIONS`; CapTrak ``.bvct`` included), or a
        montage object (returned as is).

    Returns
    -------
    mne.channels.DigMontage
    """
    if isinstance(montage, mne.channels.DigMontage):
        return montage
    if not isinstance(montage, (str, os.PathLike)):
        raise InvalidInputError(
            f"montage must be a name, a file path or a DigMontage, got {type(montage).__name__}"
        )
    builtin = mne.channels.get_builtin_montages()
    if isinstance(montage, str):
        name = _DEPRECATED_NAMES.get(montage, montage)
        if name in builtin:
            mont = mne.channels.make_standard_montage(name)
            mont._neurodec_name = montage
            return mont
    path = Path(montage)
    suffix = path.suffix.lower()
    if suffix not in MONTAGE_FILE_EXTENSIONS and not path.exists():
        raise InvalidInputError(
            f"montage {str(montage)!r} is neither a built-in montage nor a montage file; "
            "built-in names include standard_1005, standard_1020, biosemi64 "
            f"(mne.channels.get_builtin_montages()); files: {sorted(MONTAGE_FILE_EXTENSIONS)}"
        )
    if not path.is_file():
        raise DataNotFoundError(f"montage file {path} does not exist")
    try:
        if suffix == ".bvct":
            # MNE 1.13 uses defusedxml.ElementTree without importing the submodule.
            import defusedxml.ElementTree  # noqa: F401

            return mne.channels.read_dig_captrak(path)
        return mne.channels.read_custom_montage(path)
    except Exception as exc:  # MNE raises many types on malformed files
        raise InvalidDataError(f"could not read montage file {path}: {exc}") from exc


def _head_positions(montage: mne.channels.DigMontage) -> dict[str, np.ndarray]:
    """Montage channel name -> 6-vector (position, reference position) in the head frame."""
    info = mne.create_info(montage.ch_names, 100.0, "eeg")
    with mne.utils.use_log_level("error"):
        info.set_montage(montage, on_missing="ignore")
    return {ch["ch_name"]: np.array(ch["loc"][:6], dtype=float) for ch in info["chs"]}


def fill_positions(
    inst: Any,
    montage: str | os.PathLike | mne.channels.DigMontage = "standard_1005",
    *,
    on_missing: Literal["raise", "warn", "ignore"] = "raise",
    ch_types: tuple[str, ...] = ("eeg",),
) -> dict[str, str]:
    """Give channels without a position the position of the same-named montage channel.

    Channels that already have a position are left untouched. Positions are written in
    the head frame (in place) into ``info['chs'][i]['loc']``.

    Parameters
    ----------
    inst : mne.io.BaseRaw | mne.Epochs | mne.Info | Recording
        Modified in place (a Recording also gets its ``sensors`` table rebuilt).
    montage : str | path-like | mne.channels.DigMontage
        See :func:`load_montage`. Default ``'standard_1005'``.
    on_missing : {'raise', 'warn', 'ignore'}
        What to do when channels have no position and no matching name in the montage:
        ``'raise'`` a :class:`~neurodec.errors.MissingPositionsError` naming them (nothing
        is modified then), log a warning, or ignore them.
    ch_types : tuple of str
        Channel types to fill (montages describe scalp electrodes: ``('eeg',)``).

    Returns
    -------
    filled : dict
        ``{channel name: montage name}`` of the channels that got a position.
    """
    if on_missing not in ("raise", "warn", "ignore"):
        raise InvalidInputError(f"on_missing must be 'raise', 'warn' or 'ignore', got {on_missing!r}")
    info = as_info(inst)
    todo = channels_without_position(info, tuple(ch_types))
    if not todo:
        return {}
    mont = load_montage(montage)
    by_lower = {name.lower(): name for name in mont.ch_names}
    mapping: dict[str, str] = {}
    for name in todo:
        for candidate in (name, standardize_channel_name(name)):
            if candidate.lower() in by_lower:
                mapping[name] = by_lower[candidate.lower()]
                break
    unmatched = [name for name in todo if name not in mapping]
    if unmatched:
        mname = montage if isinstance(montage, (str, os.PathLike)) else "the montage"
        msg = (
            f"{len(unmatched)} channel(s) have no position and no matching name in {mname}: "
            f"{unmatched[:20]}{' ...' if len(unmatched) > 20 else ''}. Provide positions (a montage file "
            "or electrodes.tsv), rename the channels to 10-05 names, or set their type to 'misc' if they "
            "are not scalp electrodes"
        )
        if on_missing == "raise":
            raise MissingPositionsError(msg)
        (logger.warning if on_missing == "warn" else logger.debug)(msg)
    if mapping:
        head = _head_positions(mont)
        index = {name: i for i, name in enumerate(info["ch_names"])}
        for name, mont_name in mapping.items():
            ch = info["chs"][index[name]]
            ch["loc"][:6] = head[mont_name]
            ch["coord_frame"] = FIFF.FIFFV_COORD_HEAD
        logger.info(
            "filled positions of %d channel(s) from %s",
            len(mapping),
            getattr(mont, "_neurodec_name", "the montage"),
        )
    if hasattr(inst, "raw") and hasattr(inst, "sensors"):
        inst.sensors = sensor_table(inst.raw.info)
    return mapping
