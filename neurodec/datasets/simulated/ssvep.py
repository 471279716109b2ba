"""``SimulatedSSVEP``: steady-state visual evoked potentials from occipital sources.

A subject looks at a flicker at one of several frequencies per trial (4 s). Primary
visual cortex answers with a steady-state response locked to the flicker, at the
stimulation frequency and its harmonics. The simulator places three current dipoles in
the occipital cortex (see :func:`draw_ssvep_sources`):

- ``ssvep_medial``: the occipital pole under Oz, ~2 cm deep, oriented mostly radially
  (V1 on the gyral crown), the largest generator;
- ``ssvep_left`` / ``ssvep_right``: under O1 / O2, more tangential, smaller.

Their moment during a trial at frequency ``f`` is, for harmonic ``h = 1..H``::

    A_s * g(h f) * r**(h-1) * e(t - tau) * sin(2 pi h f (t - tau) + phi_{s,h})

with ``g`` the subject's frequency response (a resonance near 10-16 Hz), ``r`` the
harmonic decay, ``tau`` the apparent latency (80-140 ms: responses lag the flicker, so
the phase turns with frequency), ``phi`` per-source phases, and ``e`` an envelope that
builds up over ~150 ms after the latency and stops with the flicker. Trials differ by a
little amplitude and phase jitter, sessions by the response gain (attention, contact).
Everything else of the MI simulator stays: the forward models and sensor arrays (EEG,
MEG, sEEG with occipital shafts), resting mu/beta (no imagery), occipital alpha,
blinks, 1/f background and session-to-session set-up changes.
"""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurodec.datasets.simulated.dataset import SimulatedMI
from neurodec.datasets.simulated.head import HeadGeometry, direction_of
from neurodec.datasets.simulated.sessions import draw_neural_state
from neurodec.datasets.simulated.sources import (
    SourceModel,
    TrialSchedule,
    _cortical_dipole,
    make_schedule,
    source_time_courses,
)
from neurodec.errors import InvalidInputError

__all__ = ["SimulatedSSVEP", "SSVEPSources", "draw_ssvep_sources", "ssvep_time_courses", "frequency_name"]

_NAM = 1e-9
_STIM_S = 4.0
#: (name, electrodes above it, depth range (m), tangential weight, relative amplitude)
_GENERATORS = (
    ("ssvep_medial", ("Oz",), (0.016, 0.022), 0.3, 1.0),
    ("ssvep_left", ("O1",), (0.018, 0.024), 0.6, 0.6),
    ("ssvep_right", ("O2",), (0.018, 0.024), 0.6, 0.6),
)


def frequency_name(freq: float) -> str:
    """MOABB's event name of a stimulation frequency (``13.0 -> "13"``, ``8.57 -> "8.57"``)."""
    return f"{freq:g}"


@dataclass(frozen=True)
class SSVEPSources:
    """One subject's SSVEP generators and response parameters.

    Attributes
    ----------
    names : tuple of str
    rr, nn : numpy.ndarray, shape (3, 3)
        Positions (head frame, m) and unit orientations.
    amp : numpy.ndarray, shape (3,)
        Moment amplitude of each generator at the resonance (A·m).
    latency : float
        Apparent latency (s).
    resonance, bandwidth : float
        Peak (Hz) and width (Hz) of the frequency response.
    decay : float
        Amplitude ratio of one harmonic to the previous.
    phase : numpy.ndarray, shape (3, n_harmonics)
        Phase offset of each generator and harmonic (rad).
    """

    names: tuple
    rr: np.ndarray
    nn: np.ndarray
    amp: np.ndarray
    latency: float
    resonance: float
    bandwidth: float
    decay: float
    phase: np.ndarray

    def gain(self, freq: np.ndarray) -> np.ndarray:
        """Frequency response ``g`` (1 at the resonance)."""
        return 1.0 / (1.0 + ((np.asarray(freq, dtype=float) - self.resonance) / self.bandwidth) ** 2)


def draw_ssvep_sources(
    geometry: HeadGeometry, rng: np.random.Generator, n_harmonics: int = 3
) -> SSVEPSources:
    """Draw one subject's occipital SSVEP generators on ``geometry``."""
    names, rr, nn, rel = [], [], [], []
    for name, elec, depth, tangential, amplitude in _GENERATORS:
        pos, ori = _cortical_dipole(
            geometry, direction_of(geometry, elec), rng.uniform(*depth), tangential, rng
        )
        names.append(name)
        rr.append(pos)
        nn.append(ori)
        rel.append(amplitude)
    base = rng.uniform(4.0, 9.0) * _NAM
    common = rng.uniform(0, 2 * np.pi, n_harmonics)
    return SSVEPSources(
        names=tuple(names),
        rr=np.array(rr),
        nn=np.array(nn),
        amp=base * np.array(rel),
        latency=float(rng.uniform(0.08, 0.14)),
        resonance=float(rng.uniform(10.0, 16.0)),
        bandwidth=float(rng.uniform(8.0, 14.0)),
        decay=float(rng.uniform(0.35, 0.6)),
        phase=common[None, :] + rng.normal(0.0, 0.4, (len(names), n_harmonics)),
    )


def ssvep_time_courses(
    sources: SSVEPSources,
    schedule: TrialSchedule,
    freq_of_code: dict[int, float],
    sfreq: float,
    rng: np.random.Generator,
    gain: float = 1.0,
) -> np.ndarray:
    """Moments (A·m) of the SSVEP generators over one run, shape ``(3, n_times)``.

    Parameters
    ----------
    sources : SSVEPSources
    schedule : TrialSchedule
        Flicker onsets (samples), event codes and the flicker length ``imagery_s``.
    freq_of_code : dict
        Event code -> stimulation frequency (Hz).
    sfreq : float
    rng : numpy.random.Generator
        The run's stream (trial-to-trial amplitude and phase jitter).
    gain : float
        The session's factor on the response.
    """
    n_harmonics = sources.phase.shape[1]
    out = np.zeros((len(sources.names), schedule.n_times))
    nyquist = sfreq / 2.0
    length = int(round((schedule.imagery_s + 0.1) * sfreq))
    t = np.arange(length) / sfreq
    rise = 1.0 - np.exp(-np.clip(t - sources.latency, 0.0, None) / 0.15)
    fall = np.clip((schedule.imagery_s + sources.latency - t) / 0.1, 0.0, 1.0)
    envelope = np.where(t >= sources.latency, rise * fall, 0.0)
    harmonics = np.arange(1, n_harmonics + 1)
    for onset, code in zip(schedule.onsets, schedule.codes):
        f = freq_of_code[int(code)]
        hf = harmonics * f
        amp = gain * sources.gain(hf) * sources.decay ** (harmonics - 1) * (hf < nyquist)
        amp = amp * np.exp(rng.normal(0.0, 0.15))  # trial-to-trial amplitude
        phase = sources.phase + rng.normal(0.0, 0.15, sources.phase.shape)  # (sources, harmonics)
        arg = 2 * np.pi * hf[:, None] * (t[None, :] - sources.latency)  # (harmonics, times)
        wave = np.einsum("h,sht->st", amp, np.sin(arg[None, :, :] + phase[:, :, None]))
        stop = min(schedule.n_times, onset + length)
        out[:, onset:stop] += sources.amp[:, None] * envelope[None, : stop - onset] * wave[:, : stop - onset]
    return out


def _check_frequencies(frequencies: Any, sfreq: float) -> tuple[float, ...]:
    try:
        freqs = tuple(float(f) for f in frequencies)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"SimulatedSSVEP: frequencies must be a list of numbers in Hz, got {frequencies!r}."
        ) from None
    if len(freqs) < 2 or len(set(freqs)) != len(freqs):
        raise InvalidInputError(
            f"SimulatedSSVEP: give at least two distinct frequencies, got {frequencies!r}."
        )
    bad = [f for f in freqs if not 1.0 <= f < sfreq / 2.0]
    if bad:
        raise InvalidInputError(
            f"SimulatedSSVEP: frequencies {bad} Hz are outside 1 Hz .. Nyquist ({sfreq / 2:g} Hz at "
            f"sfreq={sfreq:g}); lower them or raise sfreq."
        )
    return freqs


class SimulatedSSVEP(SimulatedMI):
    """Simulated SSVEP: flicker at one of ``frequencies`` per trial, occipital responses.

    Parameters
    ----------
    n_subjects, n_sessions, n_runs : int
        As :class:`~neurodec.datasets.simulated.SimulatedMI`.
    n_trials : int
        Trials **per frequency per run**.
    frequencies : list of float
        Stimulation frequencies (Hz); events are named by them (``"13"``, ``"17"``,
        ``"21"``: those of MOABB's SSVEP pipelines and ``SSVEPExo``), codes 1, 2, ...
    n_harmonics : int
        Harmonics in the response (those above Nyquist are left out).
    modality, sfreq, seed, n_eeg_channels, meg_sensors, n_background_sources, session_shift
        As :class:`~neurodec.datasets.simulated.SimulatedMI` (``sfreq`` defaults to 256 Hz).

    Notes
    -----
    A trial is 4 s of flicker (``interval = [0, 4]``) then 1.5-2.5 s of rest; the stim
    channel ``STI`` and the annotations mark each flicker onset. MOABB's ``SSVEP`` and
    ``FilterBankSSVEP`` paradigms (and neurodec's) read it; see
    :mod:`neurodec.datasets.simulated.ssvep` for the response model.
    """

    code_base = "SimulatedSSVEP"
    paradigm_kind = "ssvep"
    task_s = _STIM_S

    def __init__(
        self,
        n_subjects: int = 4,
        n_sessions: int = 2,
        n_runs: int = 2,
        n_trials: int = 10,
        frequencies: Any = (13.0, 17.0, 21.0),
        n_harmonics: int = 3,
        modality: str = "eeg",
        sfreq: float = 256.0,
        seed: int = 42,
        n_eeg_channels: int = 64,
        meg_sensors: str = "both",
        n_background_sources: int = 128,
        session_shift: float = 1.0,
    ) -> None:
        if isinstance(sfreq, numbers.Real) and not isinstance(sfreq, bool):
            self.frequencies = _check_frequencies(frequencies, float(sfreq))
        if (
            isinstance(n_harmonics, bool)
            or not isinstance(n_harmonics, numbers.Integral)
            or not 1 <= n_harmonics <= 10
        ):
            raise InvalidInputError(
                f"SimulatedSSVEP: n_harmonics must be an integer from 1 to 10, got {n_harmonics!r}."
            )
        self.n_harmonics = int(n_harmonics)
        super().__init__(
            n_subjects=n_subjects,
            n_sessions=n_sessions,
            n_runs=n_runs,
            n_trials=n_trials,
            modality=modality,
            sfreq=sfreq,
            seed=seed,
            n_eeg_channels=n_eeg_channels,
            meg_sensors=meg_sensors,
            n_background_sources=n_background_sources,
            session_shift=session_shift,
        )

    def _events(self) -> dict[str, int]:
        return {frequency_name(f): i + 1 for i, f in enumerate(self.frequencies)}

    def fingerprint_params(self) -> dict[str, Any]:
        return {
            **super().fingerprint_params(),
            "frequencies": list(self.frequencies),
            "n_harmonics": self.n_harmonics,
        }

    # ------------------------------------------------------------------ sources
    def ssvep_sources(self, subject: int, geometry: HeadGeometry | None = None) -> SSVEPSources:
        """The SSVEP generators of ``subject`` (their own random stream)."""
        geometry = geometry if geometry is not None else super().source_model(subject).geometry
        return draw_ssvep_sources(geometry, self._rng(subject, 5), self.n_harmonics)

    def source_model(self, subject: int) -> SourceModel:
        """The MI simulator's sources with the SSVEP generators inserted before the background."""
        model = super().source_model(subject)
        ss = self.ssvep_sources(subject, model.geometry)
        k = model.n_named
        return dataclasses.replace(
            model,
            names=model.names[:k] + ss.names + model.names[k:],
            rr=np.vstack([model.rr[:k], ss.rr, model.rr[k:]]),
            nn=np.vstack([model.nn[:k], ss.nn, model.nn[k:]]),
        )

    def _run_sources(self, subject: int, session: int, run: int, model: SourceModel):
        neural = draw_neural_state(self._rng(subject, 1, session), self.session_shift)
        rng = self._rng(subject, 3, session, run)
        codes = tuple(self.event_id.values())
        schedule = make_schedule(self.n_trials, self.sfreq, rng, self.task_s, codes=codes, rest_s=(1.5, 2.5))
        resting = TrialSchedule(np.zeros(0, int), np.zeros(0, int), schedule.n_times, schedule.imagery_s)
        moments, blink = source_time_courses(model, resting, neural, self.sfreq, rng)
        ss = self.ssvep_sources(subject, model.geometry)
        gain = float(np.exp(self._rng(subject, 6, session).normal(0.0, 0.15 * self.session_shift)))
        freq_of_code = {code: f for code, f in zip(codes, self.frequencies)}
        rows = [model.index(n) for n in ss.names]
        moments[rows] = ssvep_time_courses(ss, schedule, freq_of_code, self.sfreq, rng, gain)
        return moments, blink, schedule
