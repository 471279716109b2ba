"""Lead fields: how each simulated dipole is seen by each sensor.

- EEG and MEG: :func:`mne.make_forward_solution` on the four-shell sphere of
  :func:`~neurodec.datasets.simulated.head.sphere_model` with a discrete source
  space at the dipole positions (free orientation, then projected on each dipole's
  orientation). The EEG gain is average-referenced.
- sEEG: MNE's forward does not model intracranial contacts, so the potential is
  the one of a current dipole in an infinite homogeneous medium of brain
  conductivity (0.33 S/m), ``V = q·(r - r0) / (4 pi sigma |r - r0|^3)``, with
  distances clamped at 5 mm (a cortical patch is not a point). Contacts are
  referenced to a distant (infinite) point, i.e. monopolar.

Gains are cached per process, keyed by the exact geometry (sensor and dipole
positions), so a subject's sessions reuse what they share.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict

import mne
import numpy as np

from neurodec.datasets.simulated.arrays import SensorArray, make_info
from neurodec.datasets.simulated.head import sphere_model

logger = logging.getLogger(__name__)

__all__ = ["gain_matrix", "clear_cache", "BRAIN_CONDUCTIVITY"]

BRAIN_CONDUCTIVITY = 0.33  # S/m
_MIN_DISTANCE = 0.005  # m

_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
_CACHE_SIZE = 128


def clear_cache() -> None:
    """Forget every cached lead field."""
    _CACHE.clear()


def _key(array: SensorArray, rr: np.ndarray, nn: np.ndarray) -> str:
    h = hashlib.sha1(array.key())
    h.update(np.ascontiguousarray(rr, dtype=float).tobytes())
    h.update(np.ascontiguousarray(nn, dtype=float).tobytes())
    return h.hexdigest()


def _mne_free_gain(array: SensorArray, rr: np.ndarray) -> np.ndarray:
    """Free-orientation gain (n_channels, 3 * n_sources) from MNE's sphere forward."""
    info = make_info(array, 100.0, eog=False, stim=False)
    sphere = sphere_model(array.geometry)
    src = mne.setup_volume_source_space(
        pos=dict(rr=np.asarray(rr, float), nn=np.tile([0.0, 0.0, 1.0], (len(rr), 1))),
        sphere=sphere,
        verbose=False,
    )
    is_meg = array.modality == "meg"
    fwd = mne.make_forward_solution(
        info,
        trans=None,
        src=src,
        bem=sphere,
        meg=is_meg,
        eeg=not is_meg,
        mindist=0.0,
        n_jobs=1,
        verbose=False,
    )
    if fwd["nsource"] != len(rr):
        raise RuntimeError(
            f"forward model kept {fwd['nsource']} of {len(rr)} dipoles; all must lie in the brain sphere"
        )
    gain = fwd["sol"]["data"]
    order = [fwd["sol"]["row_names"].index(n) for n in array.names]
    return gain[order]


def _homogeneous_gain(pos: np.ndarray, rr: np.ndarray, nn: np.ndarray) -> np.ndarray:
    """Fixed-orientation potentials (n_contacts, n_sources) in an infinite medium."""
    d = pos[:, None, :] - rr[None, :, :]
    dist = np.maximum(np.linalg.norm(d, axis=-1), _MIN_DISTANCE)
    return np.einsum("csk,sk->cs", d, nn) / (4 * np.pi * BRAIN_CONDUCTIVITY * dist**3)


def gain_matrix(array: SensorArray, rr: np.ndarray, nn: np.ndarray) -> np.ndarray:
    """Fixed-orientation lead field (n_channels, n_sources) of ``array`` for dipoles (rr, nn).

    Units: V/(A·m) for EEG and sEEG, T/(A·m) for magnetometers, T/m/(A·m) for
    gradiometers.
    """
    key = _key(array, rr, nn)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    if array.modality == "seeg":
        gain = _homogeneous_gain(array.pos, rr, nn)
    else:
        free = _mne_free_gain(array, rr).reshape(len(array.names), len(rr), 3)
        gain = np.einsum("csk,sk->cs", free, nn)
        if array.modality == "eeg":
            gain = gain - gain.mean(axis=0, keepdims=True)
    gain.setflags(write=False)
    _CACHE[key] = gain
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    logger.debug("lead field %s: %s", array.modality, gain.shape)
    return gain
