"""Sensor arrays that observe the simulated head: EEG cap, MEG helmet, sEEG shafts.

Each builder returns plain geometry (names, positions, orientations); :func:`make_info`
turns an array into an :class:`mne.Info` with correct channel kinds, coil types,
units, locations and coordinate frames, so that ``mne.pick_types`` and neurodec's
sensor table work on the simulated recordings exactly as on real ones.

- EEG: the 32 or 64 electrodes of :data:`~neurodec.datasets.simulated.head.EEG_CHANNELS`
  on the scalp sphere, plus a vertical EOG channel.
- MEG: 102 locations picked evenly (farthest-point sampling) on MNE's Elekta/Neuromag
  306 helmet surface (``mne/data/helmets/306m.fif.gz``), each a triplet like the
  Vectorview: one magnetometer (``FIFFV_COIL_VV_MAG_T3``) and two orthogonal planar
  gradiometers (``FIFFV_COIL_VV_PLANAR_T1``), in the device frame, with a
  device-to-head transform placing the head in the helmet.
- sEEG: eight depth shafts of eight contacts (3.5 mm pitch), inserted radially so
  that their middle contacts pass ~5 mm from a target: left/right hand areas,
  left/right parietal and premotor cortex, left/right occipital cortex.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import mne
import numpy as np
from mne.io.constants import FIFF

from neurodec.datasets.simulated.head import HeadGeometry, direction_of

__all__ = [
    "SensorArray",
    "eeg_array",
    "meg_array",
    "seeg_array",
    "make_info",
    "helmet_locations",
    "EOG_NAME",
    "STIM_NAME",
]

EOG_NAME = "EOG"
STIM_NAME = "STI"


@dataclass(frozen=True)
class SensorArray:
    """Geometry of one modality's sensors.

    Attributes
    ----------
    modality : str
        ``"eeg"``, ``"meg"`` or ``"seeg"``.
    names : tuple of str
        Channel names.
    types : tuple of str
        MNE channel types (``eeg``, ``mag``, ``grad``, ``seeg``).
    pos : numpy.ndarray, shape (n, 3)
        Positions (m): head frame for electrodes, device frame for MEG.
    ori : numpy.ndarray, shape (n, 3, 3)
        Coil frames (rows ex, ey, ez; MEG only, zeros otherwise).
    dev_head_t : numpy.ndarray or None
        4x4 device-to-head transform (MEG only).
    geometry : HeadGeometry
        The head the array sits on.
    """

    modality: str
    names: tuple
    types: tuple
    pos: np.ndarray
    ori: np.ndarray
    dev_head_t: np.ndarray | None
    geometry: HeadGeometry

    def key(self) -> bytes:
        """Bytes identifying the geometry (forward-model cache key)."""
        parts = [
            self.modality.encode(),
            "|".join(self.names).encode(),
            "|".join(self.types).encode(),
            np.ascontiguousarray(self.pos).tobytes(),
            np.ascontiguousarray(self.ori).tobytes(),
            np.ascontiguousarray(self.geometry.center).tobytes(),
            np.float64(self.geometry.radius).tobytes(),
        ]
        if self.dev_head_t is not None:
            parts.append(np.ascontiguousarray(self.dev_head_t).tobytes())
        return b"\x00".join(parts)


def eeg_array(
    geometry: HeadGeometry, names: tuple[str, ...], positions: np.ndarray | None = None
) -> SensorArray:
    """EEG electrodes ``names`` on ``geometry`` (template positions unless given)."""
    pos = positions if positions is not None else np.array([geometry.electrodes[n] for n in names])
    return SensorArray(
        modality="eeg",
        names=tuple(names),
        types=("eeg",) * len(names),
        pos=np.asarray(pos, dtype=float),
        ori=np.zeros((len(names), 3, 3)),
        dev_head_t=None,
        geometry=geometry,
    )


@functools.lru_cache(maxsize=4)
def helmet_locations(n_locations: int = 102) -> tuple[np.ndarray, np.ndarray]:
    """``n_locations`` evenly spread points and outward normals on the 306m helmet (device frame).

    Sensors sit 5 mm outside the helmet's inner surface.
    """
    path = os.path.join(os.path.dirname(mne.__file__), "data", "helmets", "306m.fif.gz")
    surf = mne.read_bem_surfaces(path, verbose=False)[0]
    rr, nn = np.asarray(surf["rr"], float), np.asarray(surf["nn"], float)
    nn = nn / np.linalg.norm(nn, axis=1, keepdims=True)
    chosen = [int(np.argmax(rr[:, 2]))]  # start at the vertex
    dist = np.linalg.norm(rr - rr[chosen[0]], axis=1)
    for _ in range(n_locations - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(rr - rr[nxt], axis=1))
    chosen = np.array(chosen)
    return rr[chosen] + 0.005 * nn[chosen], nn[chosen]


def _coil_frame(ez: np.ndarray) -> np.ndarray:
    ref = np.array([0.0, 0.0, 1.0]) if abs(ez[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    ex = np.cross(ref, ez)
    ex /= np.linalg.norm(ex)
    ey = np.cross(ez, ex)
    return np.array([ex, ey, ez])


def helmet_head_transform(
    geometry: HeadGeometry, translation: np.ndarray | None = None, rotation: np.ndarray | None = None
) -> np.ndarray:
    """Device-to-head transform putting the head centre 5 mm above the helmet centre.

    ``translation`` (m, head frame) and ``rotation`` (3x3) move the head from that
    nominal position (session-to-session head placement).
    """
    # Helmet sphere centre in the device frame (fitted once on the full helmet).
    helmet_center = np.array([0.0002, 0.0140, -0.0114])
    head_center_dev = helmet_center + np.array([0.0, -0.005, 0.005])
    rot = np.eye(3) if rotation is None else np.asarray(rotation)
    shift = np.zeros(3) if translation is None else np.asarray(translation)
    # head = R (dev - head_center_dev) + center + shift
    t = np.eye(4)
    t[:3, :3] = rot
    t[:3, 3] = geometry.center + shift - rot @ head_center_dev
    return t


def meg_array(
    geometry: HeadGeometry,
    sensors: str = "both",
    dev_head_t: np.ndarray | None = None,
    n_locations: int = 102,
) -> SensorArray:
    """Vectorview-like MEG triplets on the helmet; ``sensors`` is ``mag``, ``grad`` or ``both``."""
    rr, nn = helmet_locations(n_locations)
    names, types, pos, ori = [], [], [], []
    for k in range(len(rr)):
        frame = _coil_frame(nn[k])
        if sensors in ("both", "mag"):
            names.append(f"MEG{k + 1:03d}1")
            types.append("mag")
            pos.append(rr[k])
            ori.append(frame)
        if sensors in ("both", "grad"):
            for j, gframe in ((2, frame), (3, np.array([frame[1], -frame[0], frame[2]]))):
                names.append(f"MEG{k + 1:03d}{j}")
                types.append("grad")
                pos.append(rr[k])
                ori.append(gframe)
    if dev_head_t is None:
        dev_head_t = helmet_head_transform(geometry)
    return SensorArray(
        modality="meg",
        names=tuple(names),
        types=tuple(types),
        pos=np.array(pos),
        ori=np.array(ori),
        dev_head_t=np.asarray(dev_head_t, dtype=float),
        geometry=geometry,
    )


#: sEEG shafts: name -> (electrodes under the target, tangential offset direction sign).
SEEG_SHAFTS: dict[str, tuple[str, ...]] = {
    "LM": ("C3",),  # left hand area
    "RM": ("C4",),  # right hand area
    "LP": ("CP3", "P3"),  # left parietal
    "RP": ("CP4", "P4"),  # right parietal
    "LF": ("FC3",),  # left premotor
    "RF": ("FC4",),  # right premotor
    "LO": ("O1",),  # left occipital
    "RO": ("O2",),  # right occipital
}


def seeg_array(
    geometry: HeadGeometry,
    targets: dict[str, np.ndarray] | None = None,
    n_contacts: int = 8,
    pitch: float = 0.0035,
) -> SensorArray:
    """Eight radial depth shafts; a shaft's middle passes ~5 mm beside its target.

    ``targets`` overrides target points (head frame) by shaft name, e.g. the
    subject's hand-area dipoles for ``LM``/``RM``; others lie 2 cm under the scalp
    under the named electrodes. Contact 1 is the deepest.
    """
    targets = targets or {}
    names, pos = [], []
    for shaft, elec in SEEG_SHAFTS.items():
        radial = direction_of(geometry, elec)
        target = targets.get(shaft, geometry.center + (geometry.radius - 0.02) * radial)
        radial = (target - geometry.center) / np.linalg.norm(target - geometry.center)
        # offset 5 mm along the anterior tangent so no contact sits on a dipole
        anterior = np.array([0.0, 1.0, 0.0]) - radial * radial[1]
        anterior /= np.linalg.norm(anterior)
        axis_point = target + 0.005 * anterior
        depths = (np.arange(n_contacts) - (n_contacts - 1) / 2.0) * pitch
        for c in range(n_contacts):
            names.append(f"{shaft}{c + 1}")
            pos.append(axis_point + depths[c] * radial)  # c=0 deepest
    pos = np.array(pos)
    # keep every contact inside the brain sphere
    d = pos - geometry.center
    r = np.linalg.norm(d, axis=1, keepdims=True)
    limit = geometry.brain_radius - 0.002
    pos = np.where(r > limit, geometry.center + d / r * limit, pos)
    return SensorArray(
        modality="seeg",
        names=tuple(names),
        types=("seeg",) * len(names),
        pos=pos,
        ori=np.zeros((len(names), 3, 3)),
        dev_head_t=None,
        geometry=geometry,
    )


def make_info(array: SensorArray, sfreq: float, eog: bool = True, stim: bool = True) -> mne.Info:
    """An :class:`mne.Info` for ``array`` (+ EOG and stim channels), locations filled in."""
    names = list(array.names)
    types = list(array.types)
    if eog:
        names.append(EOG_NAME)
        types.append("eog")
    if stim:
        names.append(STIM_NAME)
        types.append("stim")
    info = mne.create_info(names, float(sfreq), types)
    n = len(array.names)
    if array.modality == "meg":
        with info._unlock():
            info["dev_head_t"] = mne.transforms.Transform("meg", "head", array.dev_head_t)
        for i in range(n):
            ch = info["chs"][i]
            frame = array.ori[i]
            ch["loc"][:3] = array.pos[i]
            ch["loc"][3:12] = frame.ravel()  # ex, ey, ez
            ch["coord_frame"] = FIFF.FIFFV_COORD_DEVICE
            if array.types[i] == "mag":
                ch["coil_type"] = FIFF.FIFFV_COIL_VV_MAG_T3
                ch["unit"] = FIFF.FIFF_UNIT_T
            else:
                ch["coil_type"] = FIFF.FIFFV_COIL_VV_PLANAR_T1
                ch["unit"] = FIFF.FIFF_UNIT_T_M
        # A head-shape digitisation (fiducials) like a real MEG recording.
        fid = array.geometry.fiducials
        montage = mne.channels.make_dig_montage(
            nasion=fid.get("nasion"), lpa=fid.get("lpa"), rpa=fid.get("rpa"), coord_frame="head"
        )
        info.set_montage(montage, on_missing="ignore", verbose=False)
    else:
        fid = array.geometry.fiducials
        montage = mne.channels.make_dig_montage(
            ch_pos=dict(zip(array.names, array.pos)),
            nasion=fid.get("nasion"),
            lpa=fid.get("lpa"),
            rpa=fid.get("rpa"),
            coord_frame="head",
        )
        info.set_montage(montage, on_missing="ignore", verbose=False)
    return info
