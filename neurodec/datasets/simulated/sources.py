"""Sources of the simulated brain: where they are (per subject) and what they do (per run).

A subject has current dipoles (positions in the head frame, fixed orientations):

- ``motor_left`` / ``motor_right``: hand areas under C3 / C4, ~2 cm under the scalp,
  oriented mostly tangentially (as the anterior bank of the central sulcus) with a
  radial part, so EEG, MEG and sEEG all see them. They carry a mu (9.5-12.5 Hz) and a
  beta (18-25 Hz) rhythm. During imagery of one hand both rhythms desynchronise
  (ERD) strongly over the opposite hemisphere and weakly over the same one, followed
  by a small post-imagery beta rebound.
- ``alpha_*``: occipital (under O1, O2) and parietal (Pz) alpha generators
  (8.5-11.5 Hz), unrelated to the task.
- ``blink``: a frontal-pole dipole pointing forward, active during eye blinks
  (the eyes themselves are outside the spherical brain, see the package notes).
- ``background_*``: many dipoles spread in the brain volume with random
  orientations, each an independent 1/f^beta ("pink") process.

Rhythms are band-limited Gaussian noise (random phase and waxing/waning amplitude),
synthesised in the frequency domain, vectorised over sources. Moments are in A·m.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from neurodec.datasets.simulated.head import HeadGeometry, direction_of

logger = logging.getLogger(__name__)

__all__ = [
    "SourceModel",
    "draw_source_model",
    "SessionNeuralState",
    "TrialSchedule",
    "make_schedule",
    "source_time_courses",
    "EVENT_ID",
]

#: Event codes (MOABB's left/right motor imagery names).
EVENT_ID: dict[str, int] = {"left_hand": 1, "right_hand": 2}

_NAM = 1e-9  # nano-ampere-metre in A·m


@dataclass(frozen=True)
class SourceModel:
    """One subject's dipoles and rhythm parameters.

    Attributes
    ----------
    names : tuple of str
        Source names; the first ``n_named`` are the functional sources, the rest
        background.
    rr : numpy.ndarray, shape (n_sources, 3)
        Positions in the head frame (m).
    nn : numpy.ndarray, shape (n_sources, 3)
        Unit orientations.
    geometry : HeadGeometry
        The subject's (scaled) head.
    mu_freq, beta_freq, alpha_freq : float
        Peak frequencies (Hz).
    mu_amp, beta_amp, alpha_amp, background_amp, blink_amp : float
        RMS dipole moments (A·m) of each source group (background: per source).
    erd_contra, erd_ipsi : float
        Fractional amplitude drop of mu/beta during imagery, contralateral and
        ipsilateral to the imagined hand.
    background_exponent : float
        ``beta`` of the 1/f^beta background power spectrum.
    blink_rate : float
        Mean blinks per second.
    """

    names: tuple
    rr: np.ndarray
    nn: np.ndarray
    geometry: HeadGeometry
    mu_freq: float
    beta_freq: float
    alpha_freq: float
    mu_amp: float
    beta_amp: float
    alpha_amp: float
    background_amp: float
    blink_amp: float
    erd_contra: float
    erd_ipsi: float
    background_exponent: float
    blink_rate: float

    @property
    def n_named(self) -> int:
        """Number of functional (non-background) sources."""
        return sum(not n.startswith("background") for n in self.names)

    def index(self, name: str) -> int:
        """Row of the source called ``name``."""
        return self.names.index(name)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _tangent_basis(radial: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Anterior-pointing and lateral tangent unit vectors at a radial direction."""
    anterior = _unit(np.array([0.0, 1.0, 0.0]) - radial * radial[1])
    lateral = np.cross(anterior, radial)
    return anterior, lateral


def _cortical_dipole(
    geometry: HeadGeometry,
    radial: np.ndarray,
    depth: float,
    tangential_weight: float,
    rng: np.random.Generator,
    jitter_pos: float = 0.004,
    jitter_angle: float = 0.25,
) -> tuple[np.ndarray, np.ndarray]:
    """A dipole ``depth`` under the scalp along ``radial``, with jittered position/orientation."""
    pos = geometry.center + (geometry.radius - depth) * radial
    pos = pos + rng.normal(0.0, jitter_pos, 3)
    anterior, lateral = _tangent_basis(radial)
    ori = tangential_weight * anterior + np.sqrt(1 - tangential_weight**2) * radial
    ori = _unit(ori + jitter_angle * rng.normal(size=3) * np.r_[1, 1, 1] / np.sqrt(3))
    return pos, ori


def draw_source_model(
    geometry: HeadGeometry, rng: np.random.Generator, n_background: int = 128
) -> SourceModel:
    """Draw one subject's sources on ``geometry`` (already scaled to the subject)."""
    names: list[str] = []
    rr: list[np.ndarray] = []
    nn: list[np.ndarray] = []

    for side, elec in (("left", ("C3",)), ("right", ("C4",))):
        # Hand area: slightly anterior-lateral to C3/C4.
        radial = direction_of(geometry, elec)
        pos, ori = _cortical_dipole(geometry, radial, rng.uniform(0.019, 0.024), 0.8, rng)
        names.append(f"motor_{side}")
        rr.append(pos)
        nn.append(ori)

    for label, elec in (("alpha_left", ("O1",)), ("alpha_right", ("O2",)), ("alpha_parietal", ("Pz",))):
        radial = direction_of(geometry, elec)
        pos, ori = _cortical_dipole(geometry, radial, rng.uniform(0.02, 0.028), 0.6, rng)
        names.append(label)
        rr.append(pos)
        nn.append(ori)

    # Blink: frontal pole, low, pointing forward (towards the eyes).
    radial = _unit(direction_of(geometry, ("Fp1", "Fp2")) + np.array([0.0, 0.0, -0.35]))
    pos = geometry.center + 0.80 * geometry.brain_radius * radial
    names.append("blink")
    rr.append(pos)
    nn.append(_unit(np.array([0.0, 1.0, -0.3])))

    # Background: uniform in a ball of 85 % of the brain radius, random orientations.
    d = _unit(rng.normal(size=(n_background, 3)))
    r = 0.85 * geometry.brain_radius * rng.uniform(0.15, 1.0, (n_background, 1)) ** (1 / 3)
    rr_bg = geometry.center + d * r
    nn_bg = _unit(rng.normal(size=(n_background, 3)))
    names += [f"background_{i:03d}" for i in range(n_background)]

    return SourceModel(
        names=tuple(names),
        rr=np.vstack([np.array(rr), rr_bg]),
        nn=np.vstack([np.array(nn), nn_bg]),
        geometry=geometry,
        mu_freq=float(rng.uniform(9.5, 12.5)),
        beta_freq=float(rng.uniform(18.0, 25.0)),
        alpha_freq=float(rng.uniform(8.5, 11.5)),
        mu_amp=float(rng.uniform(30.0, 45.0)) * _NAM,
        beta_amp=float(rng.uniform(12.0, 20.0)) * _NAM,
        alpha_amp=float(rng.uniform(40.0, 70.0)) * _NAM,
        background_amp=float(rng.uniform(8.0, 11.0)) * _NAM,
        blink_amp=float(rng.uniform(700.0, 1200.0)) * _NAM,
        erd_contra=float(rng.uniform(0.15, 0.45)),
        erd_ipsi=float(rng.uniform(0.0, 0.1)),
        background_exponent=float(rng.uniform(1.3, 1.9)),
        blink_rate=float(rng.uniform(0.15, 0.35)),
    )


@dataclass(frozen=True)
class SessionNeuralState:
    """How the brain differs on a given day (multiplies the subject's parameters).

    Attributes
    ----------
    rhythm_gain : float
        Factor on mu/beta amplitudes.
    alpha_gain : float
        Factor on alpha amplitude.
    erd_gain : float
        Factor on ERD depths (engagement / fatigue).
    background_gain : float
        Factor on the background amplitude.
    freq_shift : float
        Shift of the mu/beta/alpha peak frequencies (Hz).
    blink_gain : float
        Factor on the blink rate.
    """

    rhythm_gain: float = 1.0
    alpha_gain: float = 1.0
    erd_gain: float = 1.0
    background_gain: float = 1.0
    freq_shift: float = 0.0
    blink_gain: float = 1.0


@dataclass(frozen=True)
class TrialSchedule:
    """Timing of one run: cue onsets (samples), labels (event codes) and length."""

    onsets: np.ndarray
    codes: np.ndarray
    n_times: int
    imagery_s: float


def make_schedule(
    n_trials: int,
    sfreq: float,
    rng: np.random.Generator,
    imagery_s: float = 4.0,
    codes: tuple[int, ...] | None = None,
    rest_s: tuple[float, float] = (2.5, 3.5),
) -> TrialSchedule:
    """A run of ``n_trials`` trials per class in random order.

    Each trial is a cue followed by ``imagery_s`` seconds of task (imagery, or visual
    stimulation) and a rest drawn uniformly in ``rest_s`` (2.5-3.5 s); the run starts
    with 2 s and ends with 3 s of rest. ``codes``: the classes' event codes (default
    :data:`EVENT_ID`'s).
    """
    classes = np.array(list(EVENT_ID.values()) if codes is None else list(codes))
    codes = rng.permutation(np.repeat(classes, n_trials))
    rest = rng.uniform(rest_s[0], rest_s[1], len(codes))
    starts = 2.0 + np.concatenate([[0.0], np.cumsum(imagery_s + rest[:-1])])
    onsets = np.round(starts * sfreq).astype(int)
    n_times = int(np.ceil((starts[-1] + imagery_s + 3.0) * sfreq))
    return TrialSchedule(onsets=onsets, codes=codes, n_times=n_times, imagery_s=imagery_s)


def _spectral_noise(
    rng: np.random.Generator, n_signals: int, n_times: int, sfreq: float, shape: np.ndarray
) -> np.ndarray:
    """Gaussian noise with amplitude spectrum ``shape`` (n_signals or 1, n_freqs), unit RMS."""
    n_freqs = n_times // 2 + 1
    spec = rng.normal(size=(n_signals, n_freqs)) + 1j * rng.normal(size=(n_signals, n_freqs))
    x = np.fft.irfft(spec * shape, n=n_times, axis=-1)
    x /= x.std(axis=-1, keepdims=True) + 1e-30
    return x


def _narrowband(
    rng: np.random.Generator, freqs_hz: np.ndarray, bandwidth: float, n_times: int, sfreq: float
) -> np.ndarray:
    """Unit-RMS band-limited noise, one row per centre frequency (Gaussian spectral peak)."""
    f = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    shape = np.exp(-0.5 * ((f[None, :] - np.asarray(freqs_hz)[:, None]) / bandwidth) ** 2)
    return _spectral_noise(rng, len(freqs_hz), n_times, sfreq, shape)


def _pink(rng: np.random.Generator, n: int, n_times: int, sfreq: float, exponent: float) -> np.ndarray:
    """Unit-RMS 1/f^exponent noise (power), flat below 1 Hz, n rows."""
    f = np.fft.rfftfreq(n_times, 1.0 / sfreq)
    shape = 1.0 / np.maximum(f, 1.0) ** (exponent / 2.0)
    shape[0] = 0.0
    return _spectral_noise(rng, n, n_times, sfreq, shape[None, :])


def _place_kernels(n_times: int, onsets: np.ndarray, kernel: np.ndarray, offset: int = 0) -> np.ndarray:
    """Sum of ``kernel`` copies starting at ``onsets + offset`` (vectorised, clipped)."""
    out = np.zeros(n_times)
    if len(onsets) == 0:
        return out
    idx = (np.asarray(onsets)[:, None] + offset + np.arange(len(kernel))[None, :]).ravel()
    vals = np.broadcast_to(kernel, (len(onsets), len(kernel))).ravel()
    keep = (idx >= 0) & (idx < n_times)
    np.add.at(out, idx[keep], vals[keep])
    return out


def _erd_window(sfreq: float, imagery_s: float) -> np.ndarray:
    """ERD time course after the cue: ramps in over 0.3-1.0 s, holds, recovers by +0.5 s."""
    t = np.arange(int(np.ceil((imagery_s + 0.6) * sfreq))) / sfreq
    on = np.clip((t - 0.3) / 0.7, 0, 1)
    off = np.clip((imagery_s + 0.5 - t) / 0.5, 0, 1)
    w = np.minimum(on, off)
    return 0.5 - 0.5 * np.cos(np.pi * w)


def _rebound_window(sfreq: float, imagery_s: float) -> tuple[np.ndarray, int]:
    """Post-imagery beta rebound (Hann bump of 1 s starting 0.3 s after imagery end)."""
    n = int(sfreq)
    return np.hanning(n), int(round((imagery_s + 0.3) * sfreq))


def source_time_courses(
    model: SourceModel,
    schedule: TrialSchedule,
    state: SessionNeuralState,
    sfreq: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Dipole moments of every source of ``model`` over one run.

    Parameters
    ----------
    model : SourceModel
        The subject's sources.
    schedule : TrialSchedule
        Cue onsets and labels of the run.
    state : SessionNeuralState
        The session's changes in brain state.
    sfreq : float
        Sampling rate (Hz).
    rng : numpy.random.Generator
        The run's source stream (the same for every modality).

    Returns
    -------
    moments : numpy.ndarray, shape (n_sources, n_times)
        Dipole moments (A·m), rows in ``model.names`` order.
    blink : numpy.ndarray, shape (n_times,)
        The blink waveform (0..1 per blink), also used for the EOG channel.
    """
    n = schedule.n_times
    moments = np.zeros((len(model.names), n))

    # Mu and beta in both hand areas (independent generators per hemisphere).
    f_mu = model.mu_freq + state.freq_shift
    f_beta = model.beta_freq + state.freq_shift
    rhythms = _narrowband(rng, np.array([f_mu, f_mu, f_beta, f_beta]), 1.2, n, sfreq)
    erd = _erd_window(sfreq, schedule.imagery_s)
    rebound, rb_off = _rebound_window(sfreq, schedule.imagery_s)
    left_trials = schedule.onsets[schedule.codes == EVENT_ID["left_hand"]]
    right_trials = schedule.onsets[schedule.codes == EVENT_ID["right_hand"]]
    contra = min(0.95, model.erd_contra * state.erd_gain)
    ipsi = min(0.95, model.erd_ipsi * state.erd_gain)
    for k, (side, opposite_hand, same_hand) in enumerate(
        (("motor_left", right_trials, left_trials), ("motor_right", left_trials, right_trials))
    ):
        drop = contra * _place_kernels(n, opposite_hand, erd) + ipsi * _place_kernels(n, same_hand, erd)
        env = np.clip(1.0 - drop, 0.05, None)
        beta_env = env + 0.5 * contra * _place_kernels(n, opposite_hand, rebound, rb_off)
        moments[model.index(side)] = state.rhythm_gain * (
            model.mu_amp * env * rhythms[k] + model.beta_amp * beta_env * rhythms[2 + k]
        )

    # Alpha: one shared occipital rhythm plus individual variation per generator.
    f_alpha = model.alpha_freq + state.freq_shift
    alpha = _narrowband(rng, np.full(4, f_alpha), 1.0, n, sfreq)
    shared = alpha[0]
    for k, name in enumerate(("alpha_left", "alpha_right", "alpha_parietal")):
        moments[model.index(name)] = state.alpha_gain * model.alpha_amp * (0.7 * shared + 0.5 * alpha[1 + k])

    # Blinks: Poisson times, each a 0.3 s raised-cosine lid closure.
    rate = model.blink_rate * state.blink_gain
    n_blinks = rng.poisson(rate * n / sfreq)
    times = np.sort(rng.integers(0, n, n_blinks))
    kernel = np.hanning(max(3, int(0.3 * sfreq)))
    blink = _place_kernels(n, times, kernel)
    moments[model.index("blink")] = model.blink_amp * blink

    # 1/f background, independent per source.
    n_bg = len(model.names) - model.n_named
    if n_bg:
        bg = _pink(rng, n_bg, n, sfreq, model.background_exponent)
        moments[model.n_named :] = state.background_gain * model.background_amp * bg
    return moments, blink
