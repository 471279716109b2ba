"""The per-channel sensor table: name, type, position, orientation and coil of every channel.

Pure computation on :class:`mne.Info` (no file I/O). This is the input of the sensor
encoders of the models, so its conventions are strict:

* positions in metres, in the MNE **head** frame when the recording defines one;
* MEG coil positions and normals are transformed from the device frame to the head frame
  with ``info['dev_head_t']``; without a usable transform they stay in the device frame and
  the ``coord_frame`` column says ``'meg'`` (a warning is logged);
* ``nx, ny, nz``: the coil normal for MEG sensors (unit vector, renormalised, pointing away from the head
  for Neuromag/KIT helmets), zeros for electrodes and other channels;
* ``gx, gy, gz``: for planar gradiometers the unit vector along which the gradient is
  measured (the coil's x axis), zeros otherwise;
* channels without a position (stim, misc, EOG without digitisation...) get NaN positions.
"""

from __future__ import annotations

import logging
from typing import Any

import mne
import numpy as np
import pandas as pd
from mne.io.constants import FIFF

from neurodec.errors import InvalidInputError

__all__ = [
    "sensor_table",
    "as_info",
    "channels_without_position",
    "SENSOR_COLUMNS",
    "MEG_TYPES",
    "ELECTRODE_TYPES",
]

logger = logging.getLogger(__name__)

#: Columns every sensor table has, in order.
SENSOR_COLUMNS = (
    "name",
    "type",
    "x",
    "y",
    "z",
    "nx",
    "ny",
    "nz",
    "gx",
    "gy",
    "gz",
    "coil",
    "coil_name",
    "coord_frame",
    "has_position",
    "bad",
)
#: MNE channel types measured by MEG coils (positions come from the coil definition).
MEG_TYPES = ("mag", "grad", "ref_meg")
#: MNE channel types measured by electrodes on or in the head (positions from a montage).
ELECTRODE_TYPES = ("eeg", "seeg", "ecog", "dbs")

_PLANAR_COILS = {
    int(FIFF.FIFFV_COIL_VV_PLANAR_W),
    int(FIFF.FIFFV_COIL_VV_PLANAR_T1),
    int(FIFF.FIFFV_COIL_VV_PLANAR_T2),
    int(FIFF.FIFFV_COIL_VV_PLANAR_T3),
    int(FIFF.FIFFV_COIL_NM_122),
    int(FIFF.FIFFV_COIL_MAGNES_GRAD),
}
_FRAME_NAMES = {
    int(FIFF.FIFFV_COORD_UNKNOWN): "unknown",
    int(FIFF.FIFFV_COORD_DEVICE): "meg",
    int(FIFF.FIFFV_COORD_ISOTRAK): "isotrak",
    int(FIFF.FIFFV_COORD_HPI): "hpi",
    int(FIFF.FIFFV_COORD_HEAD): "head",
    int(FIFF.FIFFV_COORD_MRI): "mri",
    int(FIFF.FIFFV_MNE_COORD_MNI_TAL): "mni_tal",
    int(FIFF.FIFFV_MNE_COORD_FS_TAL): "fs_tal",
    int(FIFF.FIFFV_MNE_COORD_RAS): "ras",
    int(FIFF.FIFFV_MNE_COORD_CTF_HEAD): "ctf_head",
    int(FIFF.FIFFV_MNE_COORD_CTF_DEVICE): "ctf_meg",
}


def as_info(inst: Any) -> mne.Info:
    """Return the :class:`mne.Info` of ``inst``.

    Parameters
    ----------
    inst : mne.Info | mne.io.BaseRaw | mne.Epochs | mne.Evoked | Recording
        Anything holding an ``info`` (a :class:`neurodec.io.Recording` holds it in ``.raw``).

    Returns
    -------
    info : mne.Info
    """
    if isinstance(inst, mne.Info):
        return inst
    raw = getattr(inst, "raw", None)  # neurodec.io.Recording (duck-typed: no import cycle)
    if raw is not None and isinstance(getattr(raw, "info", None), mne.Info):
        return raw.info
    info = getattr(inst, "info", None)
    if isinstance(info, mne.Info):
        return info
    raise InvalidInputError(
        f"expected an mne.Info, Raw, Epochs, Evoked or neurodec Recording, got {type(inst).__name__}; "
        "pass e.g. raw.info"
    )


def _coil_name(coil_type: Any) -> str:
    text = str(coil_type)
    if "(" in text and text.endswith(")"):
        return text[text.index("(") + 1 : -1]
    return text


def _usable_dev_head_t(info: mne.Info) -> np.ndarray | None:
    trans = info.get("dev_head_t")
    if trans is None:
        return None
    mat = np.asarray(trans["trans"], dtype=float)
    # An exact identity is what readers write when no head position was measured
    # (e.g. KIT without marker coils): the sensors are then still in the device frame.
    if np.array_equal(mat, np.eye(4)):
        return None
    return mat


def channels_without_position(info: Any, ch_types: tuple[str, ...] = ELECTRODE_TYPES) -> list[str]:
    """Names of the channels of the given types that have no usable position.

    Parameters
    ----------
    info : mne.Info | mne.io.BaseRaw | mne.Epochs | Recording
    ch_types : tuple of str
        MNE channel types to look at (electrodes by default).

    Returns
    -------
    list of str
    """
    info = as_info(info)
    out = []
    for ch, kind in zip(info["chs"], info.get_channel_types()):
        if kind in ch_types:
            pos = np.asarray(ch["loc"][:3], dtype=float)
            if not (np.isfinite(pos).all() and np.abs(pos).sum() > 0):
                out.append(ch["ch_name"])
    return out


def sensor_table(info: Any, *, normalized: bool = True) -> pd.DataFrame:
    """Build the per-channel sensor table of a recording.

    Parameters
    ----------
    info : mne.Info | mne.io.BaseRaw | mne.Epochs | Recording
        The measurement info, or an object holding one.
    normalized : bool
        Also add ``xn, yn, zn``, the positions centred and scaled for model input
        (see :func:`neurodec.sensors.normalized_positions`).

    Returns
    -------
    table : pandas.DataFrame
        One row per channel, in the order of ``info['ch_names']``, with columns
        ``name, type, x, y, z`` (metres), ``nx, ny, nz`` (coil normal, zeros for
        electrodes), ``gx, gy, gz`` (gradient direction of planar gradiometers, zeros
        otherwise), ``coil`` (FIFF coil type code), ``coil_name``, ``coord_frame``
        (``'head'`` normally; ``'meg'`` for MEG without a device-to-head transform;
        the montage's frame, e.g. ``'unknown'``, for electrodes in another frame),
        ``has_position`` and ``bad`` (listed in ``info['bads']``); plus ``xn, yn, zn``
        when ``normalized``. ``table.attrs['normalization']`` records the centre and
        scale used per modality.
    """
    info = as_info(info)
    n = len(info["chs"])
    types = np.array(info.get_channel_types(), dtype=object) if n else np.array([], dtype=object)
    locs = np.array([ch["loc"][:12] for ch in info["chs"]], dtype=float).reshape(n, 12)
    coils = np.array([int(ch["coil_type"]) for ch in info["chs"]], dtype=int)
    frames = np.array([int(ch["coord_frame"]) for ch in info["chs"]], dtype=int)

    pos = locs[:, 0:3].copy()
    ex, ez = locs[:, 3:6].copy(), locs[:, 9:12].copy()
    normals = np.zeros((n, 3))
    grads = np.zeros((n, 3))

    is_meg = np.isin(types, MEG_TYPES)
    is_planar = is_meg & np.isin(coils, list(_PLANAR_COILS))
    normals[is_meg] = ez[is_meg]
    grads[is_planar] = ex[is_planar]

    frame_names = np.array([_FRAME_NAMES.get(f, str(f)) for f in frames], dtype=object)
    meg_device = is_meg & (frames == int(FIFF.FIFFV_COORD_DEVICE))
    if meg_device.any():
        trans = _usable_dev_head_t(info)
        if trans is None:
            logger.warning(
                "no device-to-head transform (info['dev_head_t'] is missing or identity): "
                "%d MEG sensor positions stay in the device frame (coord_frame 'meg')",
                int(meg_device.sum()),
            )
        else:
            rot, shift = trans[:3, :3], trans[:3, 3]
            pos[meg_device] = pos[meg_device] @ rot.T + shift
            normals[meg_device] = normals[meg_device] @ rot.T
            grads[meg_device] = grads[meg_device] @ rot.T
            frame_names[meg_device] = "head"

    # Electrodes and all other channels: a position is usable only if finite and not all zero.
    has_pos = np.isfinite(pos).all(axis=1) & (np.abs(pos).sum(axis=1) > 0)
    has_pos |= is_meg & np.isfinite(pos).all(axis=1)
    pos[~has_pos] = np.nan
    normals[~np.isfinite(normals)] = 0.0
    grads[~np.isfinite(grads)] = 0.0
    # Orientations are stored as float32 in files: renormalise to exact unit vectors.
    for vec in (normals, grads):
        norm = np.linalg.norm(vec, axis=1)
        nonzero = norm > 0
        vec[nonzero] /= norm[nonzero, None]

    bads = set(info["bads"])
    table = pd.DataFrame(
        {
            "name": list(info["ch_names"]),
            "type": types.astype(str) if n else np.array([], dtype=str),
            "x": pos[:, 0],
            "y": pos[:, 1],
            "z": pos[:, 2],
            "nx": normals[:, 0],
            "ny": normals[:, 1],
            "nz": normals[:, 2],
            "gx": grads[:, 0],
            "gy": grads[:, 1],
            "gz": grads[:, 2],
            "coil": coils,
            "coil_name": [_coil_name(ch["coil_type"]) for ch in info["chs"]],
            "coord_frame": frame_names.astype(str) if n else np.array([], dtype=str),
            "has_position": has_pos,
            "bad": [name in bads for name in info["ch_names"]],
        }
    )
    if normalized:
        from neurodec.sensors.normalize import normalized_positions

        norm = normalized_positions(table)
        table[["xn", "yn", "zn"]] = norm[["xn", "yn", "zn"]].to_numpy()
        table.attrs["normalization"] = norm.attrs["normalization"]
    return table
