"""What changes from one recording session (day) to the next.

Two independent parts, drawn from separate random streams so that the brain is the
same whichever modality observes it:

- :class:`~neurodec.datasets.simulated.sources.SessionNeuralState` (brain state):
  rhythm and alpha power, ERD depth (engagement), background level, a small shift of
  peak frequencies, blink rate.
- :class:`SessionSensorState` (recording set-up), by modality:

  * EEG: the cap sits differently (a common rotation about the head centre moving
    the electrodes ~6 mm) plus per-electrode placement jitter (~2 mm), both
    re-projected on the scalp (the forward model is recomputed); per-channel gains
    (log-normal, ~15 %) and per-channel noise (~50 %) from electrode impedance /
    gel; overall noise level.
  * MEG: head position in the helmet (~4 mm translation, ~2 degrees rotation; the
    forward model is recomputed); per-channel calibration drift (~2 %) and noise
    (~10 %); overall noise level.
  * sEEG: contacts are implanted and do not move; per-contact gain (~5 %) and noise
    (~20 %) as the tissue around the contacts changes; overall noise level.

``shift`` scales every change (0 = identical set-up and brain state every session,
only the random signals differ; 1 = the defaults above).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurodec.datasets.simulated.head import HeadGeometry, project_to_sphere
from neurodec.datasets.simulated.sources import SessionNeuralState

__all__ = [
    "SessionSensorState",
    "draw_neural_state",
    "draw_sensor_state",
    "shift_electrodes",
    "rotation_matrix",
]


@dataclass(frozen=True)
class SessionSensorState:
    """Set-up of one session for one modality.

    Attributes
    ----------
    gains : numpy.ndarray, shape (n_channels,)
        Multiplicative channel gains.
    noise_scale : float
        Factor on the modality's white sensor-noise level.
    channel_noise : numpy.ndarray, shape (n_channels,)
        Per-channel factor on the noise level (contact impedance).
    electrode_pos : numpy.ndarray or None
        EEG: electrode positions of the session (head frame, m).
    head_rotation, head_translation : numpy.ndarray or None
        MEG: head placement relative to the nominal position.
    """

    gains: np.ndarray
    noise_scale: float
    channel_noise: np.ndarray
    electrode_pos: np.ndarray | None = None
    head_rotation: np.ndarray | None = None
    head_translation: np.ndarray | None = None


def rotation_matrix(angles: np.ndarray) -> np.ndarray:
    """Rotation by small angles (rad) about x, then y, then z."""
    ax, ay, az = angles
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


def shift_electrodes(
    pos: np.ndarray,
    geometry: HeadGeometry,
    rng: np.random.Generator,
    cap_shift: float = 0.004,
    jitter: float = 0.0015,
) -> np.ndarray:
    """Move electrodes by a common cap rotation (~``cap_shift`` m at the scalp) and jitter."""
    angles = rng.normal(0.0, cap_shift / geometry.radius, 3)
    rot = rotation_matrix(angles)
    moved = geometry.center + (pos - geometry.center) @ rot.T
    moved = moved + rng.normal(0.0, jitter, pos.shape)
    return project_to_sphere(moved, geometry.center, geometry.radius)


def draw_neural_state(rng: np.random.Generator, shift: float = 1.0) -> SessionNeuralState:
    """Brain state of one session (``shift`` scales the spread)."""
    return SessionNeuralState(
        rhythm_gain=float(np.exp(rng.normal(0.0, 0.15 * shift))),
        alpha_gain=float(np.exp(rng.normal(0.0, 0.25 * shift))),
        erd_gain=float(np.exp(rng.normal(0.0, 0.15 * shift))),
        background_gain=float(np.exp(rng.normal(0.0, 0.10 * shift))),
        freq_shift=float(rng.normal(0.0, 0.3 * shift)),
        blink_gain=float(np.exp(rng.normal(0.0, 0.3 * shift))),
    )


def draw_sensor_state(
    modality: str,
    n_channels: int,
    geometry: HeadGeometry,
    rng: np.random.Generator,
    shift: float = 1.0,
    electrode_pos: np.ndarray | None = None,
) -> SessionSensorState:
    """Set-up of one session for ``modality`` (``electrode_pos``: nominal EEG positions)."""
    noise_scale = float(np.exp(rng.normal(0.0, 0.25 * shift)))
    if modality == "eeg":
        gains = np.exp(rng.normal(0.0, 0.15 * shift, n_channels))
        channel_noise = np.exp(rng.normal(0.0, 0.5 * shift, n_channels))
        pos = shift_electrodes(electrode_pos, geometry, rng, cap_shift=0.006 * shift, jitter=0.002 * shift)
        return SessionSensorState(gains, noise_scale, channel_noise, electrode_pos=pos)
    if modality == "meg":
        gains = np.exp(rng.normal(0.0, 0.02 * shift, n_channels))
        channel_noise = np.exp(rng.normal(0.0, 0.1 * shift, n_channels))
        rot = rotation_matrix(rng.normal(0.0, np.deg2rad(2.0) * shift, 3))
        trans = rng.normal(0.0, 0.004 * shift, 3)
        return SessionSensorState(
            gains, noise_scale, channel_noise, head_rotation=rot, head_translation=trans
        )
    gains = np.exp(rng.normal(0.0, 0.05 * shift, n_channels))
    channel_noise = np.exp(rng.normal(0.0, 0.2 * shift, n_channels))
    return SessionSensorState(gains, noise_scale, channel_noise)
