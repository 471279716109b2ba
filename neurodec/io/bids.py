"""BIDS datasets (through MNE-BIDS) and the BIDS sidecars that fix generic EDF files.

iEEG clinics often export every contact as generic 'EEG' in EDF. The BIDS
``*_channels.tsv`` (true types) and ``*_electrodes.tsv`` + ``*_coordsystem.json``
(contact positions) restore them: automatically for a file inside a BIDS tree (via
:func:`mne_bids.read_raw_bids`), or explicitly with ``ch_types=`` / ``electrodes=``
in :func:`neurodec.io.read_recording` (functions :func:`read_channel_types` and
:func:`read_electrodes`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import mne
import numpy as np
import pandas as pd

from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError
from neurodec.io.integrity import check_file

__all__ = [
    "read_bids",
    "read_channel_types",
    "read_electrodes",
    "BIDS_ENTITIES",
    "BIDS_TO_MNE_TYPES",
    "ON_CH_MISMATCH",
]

logger = logging.getLogger(__name__)

#: Keyword arguments of read_recording that select a recording inside a BIDS root.
BIDS_ENTITIES = (
    "subject",
    "session",
    "task",
    "run",
    "acquisition",
    "processing",
    "recording",
    "datatype",
    "suffix",
)

#: BIDS channel ``type`` -> MNE channel type.
BIDS_TO_MNE_TYPES = {
    "EEG": "eeg",
    "SEEG": "seeg",
    "ECOG": "ecog",
    "DBS": "dbs",
    "MEGMAG": "mag",
    "MEGGRADAXIAL": "mag",
    "MEGGRADPLANAR": "grad",
    "MEGREFMAG": "ref_meg",
    "MEGREFGRADAXIAL": "ref_meg",
    "MEGREFGRADPLANAR": "ref_meg",
    "MEGOTHER": "misc",
    "EOG": "eog",
    "HEOG": "eog",
    "VEOG": "eog",
    "ECG": "ecg",
    "EMG": "emg",
    "TRIG": "stim",
    "MISC": "misc",
    "RESP": "resp",
    "GSR": "gsr",
    "TEMP": "temp",
    "BIO": "bio",
    "SYSCLOCK": "syst",
    "REF": "eeg",
    "PPG": "bio",
    "AUDIO": "misc",
    "PUPIL": "pupil",
}

# BIDS coordinate systems -> MNE coordinate frame of the positions.
_MNI_SYSTEMS = {"fsaverage", "mni305", "icbm452airspace", "mniColin27".lower()}
_HEAD_SYSTEMS = {
    "captrak",
    "eeglab",
    "eeglab-hj",
    "ctf",
    "elektaneuromag",
    "4dbti",
    "kityokogawa",
    "chietiitab",
    "besa",
}
_UNIT_SCALE = {"m": 1.0, "cm": 0.01, "mm": 0.001}
_RECORDING_EXTENSIONS = [".edf", ".bdf", ".vhdr", ".set", ".fif", ".gdf", ".cnt", ".sqd", ".con"]


def _read_tsv(path: Path, required: set[str]) -> pd.DataFrame:
    if not path.is_file():
        raise DataNotFoundError(f"sidecar file {path} does not exist")
    try:
        table = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=True, dtype={"name": str})
    except Exception as exc:
        raise InvalidDataError(f"could not read {path} as a tab-separated table: {exc}") from exc
    missing = required - set(table.columns)
    if missing:
        raise InvalidDataError(f"{path} lacks the column(s) {sorted(missing)} (has {list(table.columns)})")
    return table


def read_channel_types(path: str | os.PathLike) -> tuple[dict[str, str], list[str]]:
    """Channel types (MNE names) and bad channels from a BIDS ``*_channels.tsv``.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    types : dict of str to str
        Channel name -> MNE channel type.
    bads : list of str
        Channels whose ``status`` is ``bad``.
    """
    path = Path(path)
    table = _read_tsv(path, {"name", "type"})
    unknown = sorted(set(table["type"].astype(str).str.upper()) - set(BIDS_TO_MNE_TYPES))
    if unknown:
        raise InvalidDataError(
            f"{path} has channel types {unknown} that BIDS does not define; "
            f"known: {sorted(BIDS_TO_MNE_TYPES)}"
        )
    types = {str(n): BIDS_TO_MNE_TYPES[str(t).upper()] for n, t in zip(table["name"], table["type"])}
    bads = []
    if "status" in table.columns:
        bads = [str(n) for n, s in zip(table["name"], table["status"]) if str(s).lower() == "bad"]
    return types, bads


def _coordsystem_for(electrodes: Path) -> Path | None:
    stem = electrodes.name[: -len("_electrodes.tsv")] if electrodes.name.endswith("_electrodes.tsv") else None
    if stem is not None and (electrodes.parent / f"{stem}_coordsystem.json").is_file():
        return electrodes.parent / f"{stem}_coordsystem.json"
    candidates = sorted(electrodes.parent.glob("*_coordsystem.json"))
    return candidates[0] if len(candidates) == 1 else None


def read_electrodes(
    path: str | os.PathLike, coordsystem: str | os.PathLike | None = None
) -> mne.channels.DigMontage:
    """Contact/electrode positions from a BIDS ``*_electrodes.tsv`` as a DigMontage.

    Units and frame come from the matching ``*_coordsystem.json`` (found next to the TSV
    when not given): ``fsaverage``/MNI systems give frame ``mni_tal``, head-based systems
    (CapTrak, EEGLAB, ...) ``head``, anything else ``unknown``. Without a coordsystem file
    the units are taken as metres and the frame as ``unknown`` (logged).

    Parameters
    ----------
    path : path-like
        The electrodes TSV (columns ``name, x, y, z``; ``n/a`` rows are skipped).
    coordsystem : path-like | None
        The coordsystem JSON.

    Returns
    -------
    mne.channels.DigMontage
    """
    path = Path(path)
    table = _read_tsv(path, {"name", "x", "y", "z"})
    cs_path = Path(coordsystem) if coordsystem is not None else _coordsystem_for(path)
    units, frame = "m", "unknown"
    if cs_path is not None:
        try:
            meta = json.loads(cs_path.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidDataError(f"could not read coordinate system {cs_path}: {exc}") from exc
        system = next(
            (
                meta[k]
                for k in ("iEEGCoordinateSystem", "EEGCoordinateSystem", "MEGCoordinateSystem")
                if k in meta
            ),
            "Other",
        )
        units = next(
            (
                meta[k]
                for k in ("iEEGCoordinateUnits", "EEGCoordinateUnits", "MEGCoordinateUnits")
                if k in meta
            ),
            "m",
        )
        system = str(system).lower()
        frame = (
            "mni_tal"
            if system in _MNI_SYSTEMS or system.startswith("mni")
            else "head"
            if system in _HEAD_SYSTEMS
            else "unknown"
        )
    else:
        logger.warning(
            "no *_coordsystem.json next to %s: positions taken as metres in an unknown frame", path
        )
    if units not in _UNIT_SCALE:
        raise InvalidDataError(f"{cs_path}: unknown coordinate units {units!r} (expected m, cm or mm)")
    xyz = table[["x", "y", "z"]].to_numpy(dtype=float) * _UNIT_SCALE[units]
    keep = np.isfinite(xyz).all(axis=1)
    if not keep.any():
        raise InvalidDataError(f"{path} has no row with a finite x, y, z position")
    ch_pos = {str(n): p for n, p in zip(table["name"][keep], xyz[keep])}
    logger.info("read %d positions from %s (units %s, frame %s)", len(ch_pos), path.name, units, frame)
    return mne.channels.make_dig_montage(ch_pos=ch_pos, coord_frame=frame)


def _select_in_root(root: Path, entities: dict[str, Any]) -> Any:
    import mne_bids

    plural = {
        "subject": "subjects",
        "session": "sessions",
        "task": "tasks",
        "run": "runs",
        "acquisition": "acquisitions",
        "processing": "processings",
        "recording": "recordings",
        "datatype": "datatypes",
        "suffix": "suffixes",
    }
    query = {plural[k]: [str(v)] for k, v in entities.items() if v is not None}
    query.setdefault("suffixes", ["eeg", "ieeg", "meg"])
    query.setdefault("datatypes", ["eeg", "ieeg", "meg"])
    matches = mne_bids.find_matching_paths(root, extensions=_RECORDING_EXTENSIONS, **query)
    if not matches:
        subjects = mne_bids.get_entity_vals(root, "subject")
        tasks = mne_bids.get_entity_vals(root, "task")
        raise DataNotFoundError(
            f"no recording in BIDS dataset {root} matches {entities or '(no entities)'}; "
            f"subjects there: {subjects}, tasks: {tasks}"
        )
    if len(matches) > 1:
        names = [m.basename for m in matches[:10]]
        raise InvalidInputError(
            f"{len(matches)} recordings in BIDS dataset {root} match {entities or '(no entities)'}: {names}"
            f"{' ...' if len(matches) > 10 else ''}; narrow it down with subject=, session=, task=, run="
        )
    return matches[0]


#: Accepted values of ``on_ch_mismatch`` (MNE-BIDS's, passed through).
ON_CH_MISMATCH = ("raise", "warn", "reorder", "rename")


def read_bids(
    path: Path,
    *,
    entities: dict[str, Any],
    verbose: Any,
    on_ch_mismatch: str = "raise",
    **kwargs: Any,
) -> mne.io.BaseRaw:
    """Read a recording of a BIDS dataset with :func:`mne_bids.read_raw_bids`.

    The recording file passes :func:`neurodec.io.integrity.check_file` first. Channels
    of the recording that ``*_channels.tsv`` does not describe keep the reader's
    generic type: a warning names them.

    Parameters
    ----------
    path : pathlib.Path
        The BIDS root (then ``entities`` select one recording) or a file inside it.
    entities : dict
        BIDS entities (``subject``, ``task``...) when ``path`` is the root.
    verbose : bool | str | None
        MNE verbosity.
    on_ch_mismatch : {'raise', 'warn', 'reorder', 'rename'}
        What MNE-BIDS does when the names in ``channels.tsv`` differ from the
        recording's (see :func:`mne_bids.read_raw_bids`).
    **kwargs
        Passed to the underlying MNE reader (``extra_params``).

    Returns
    -------
    mne.io.BaseRaw
        Not preloaded.
    """
    import mne_bids

    if on_ch_mismatch not in ON_CH_MISMATCH:
        raise InvalidInputError(
            f"on_ch_mismatch must be one of {list(ON_CH_MISMATCH)}, got {on_ch_mismatch!r}"
        )
    if path.is_dir():
        bids_path = _select_in_root(path, entities)
    else:
        if any(v is not None for v in entities.values()):
            raise InvalidInputError(
                f"BIDS entities {sorted(k for k, v in entities.items() if v is not None)} select a recording "
                "inside a BIDS root: pass the root folder, not a file"
            )
        try:
            bids_path = mne_bids.get_bids_path_from_fname(path)
        except Exception as exc:
            raise InvalidInputError(
                f"{path.name} is inside a BIDS tree but its name is not a valid BIDS file name ({exc}); "
                "pass bids=False to read it as a plain file"
            ) from exc
    logger.info("reading BIDS recording %s", bids_path.basename)
    if bids_path.fpath.is_file():
        check_file(bids_path.fpath)
    try:
        raw = mne_bids.read_raw_bids(
            bids_path, extra_params=kwargs or None, on_ch_mismatch=on_ch_mismatch, verbose=verbose
        )
    except RuntimeError as exc:
        if "on_ch_mismatch" not in str(exc):
            raise
        raise InvalidDataError(
            f"the channel names in the channels.tsv of {bids_path.basename} do not match the "
            f"recording's ({str(exc).strip()}). Fix the sidecar, or pass on_ch_mismatch='reorder' "
            "(same names, other order), 'rename' (take the sidecar's names in order) or 'warn' "
            "(ignore the sidecar) to read_recording."
        ) from exc
    _warn_undescribed(raw, bids_path)
    return raw


def _warn_undescribed(raw: mne.io.BaseRaw, bids_path: Any) -> None:
    """Warn about recording channels that the ``*_channels.tsv`` sidecar does not describe."""
    sidecar = bids_path.find_matching_sidecar(suffix="channels", extension=".tsv", on_error="ignore")
    if sidecar is None:
        logger.warning(
            "%s has no *_channels.tsv: channel types are the reader's (%s)",
            bids_path.basename,
            ", ".join(sorted(set(raw.get_channel_types()))),
        )
        return
    described = set(_read_tsv(Path(sidecar), {"name"})["name"].astype(str))
    undescribed = [name for name in raw.ch_names if name not in described]
    if undescribed:
        logger.warning(
            "%d of the %d channels of %s are not described in %s, so they keep the reader's type "
            "(%s) instead of their BIDS type: %s",
            len(undescribed),
            len(raw.ch_names),
            bids_path.basename,
            Path(sidecar).name,
            ", ".join(sorted(set(raw.get_channel_types(picks=undescribed)))),
            ", ".join(undescribed),
        )
