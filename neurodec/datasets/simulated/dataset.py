"""``SimulatedMI``: a multi-subject, multi-session left/right motor-imagery dataset.

Generated on the fly from a forward model (see the package docstring); exposed as a
MOABB ``BaseDataset`` so MOABB's and neurodec's paradigms read it like any other.
"""

from __future__ import annotations

import datetime as _dt
import logging
import numbers
from typing import Any

import mne
import numpy as np

from neurodec.datasets.base import NeurodecDataset, check_subjects
from neurodec.datasets.simulated.arrays import (
    SensorArray,
    eeg_array,
    helmet_head_transform,
    make_info,
    meg_array,
    seeg_array,
)
from neurodec.datasets.simulated.forward import gain_matrix
from neurodec.datasets.simulated.head import EEG_CHANNELS, template_head
from neurodec.datasets.simulated.sessions import (
    SessionSensorState,
    draw_neural_state,
    draw_sensor_state,
)
from neurodec.datasets.simulated.sources import (
    EVENT_ID,
    SourceModel,
    draw_source_model,
    make_schedule,
    source_time_courses,
)
from neurodec.errors import InvalidInputError

logger = logging.getLogger(__name__)

__all__ = ["SimulatedMI", "MODALITIES", "SIMULATOR_VERSION"]

#: Bumped whenever generated data changes for the same options (cache keys use it).
SIMULATOR_VERSION = 1

MODALITIES = ("eeg", "meg", "seeg")
_MODALITY_INDEX = {m: i for i, m in enumerate(MODALITIES)}
_PICKS = {"eeg": False, "meg": {"meg": True}, "seeg": {"seeg": True}}

# White sensor noise (standard deviation per sample) by channel type, SI units.
_SENSOR_NOISE = {"eeg": 2e-6, "mag": 20e-15, "grad": 3e-12, "seeg": 3e-6}
_EOG_BLINK = 150e-6  # V, blink amplitude on the EOG channel
_EOG_NOISE = 4e-6
_IMAGERY_S = 4.0


def _check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidInputError(f"SimulatedMI: {name} must be an integer, got {value!r}.")
    if value < minimum or (maximum is not None and value > maximum):
        rng = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise InvalidInputError(f"SimulatedMI: {name} must be {rng}, got {value}.")
    return int(value)


class SimulatedMI(NeurodecDataset):
    """Simulated left/right hand motor imagery, several subjects and sessions.

    Sources in a spherical head (sensorimotor mu/beta with lateralised ERD, occipital
    alpha, eye blinks, 1/f background) are projected through MNE's sphere forward
    model to EEG electrodes, MEG sensors or sEEG contacts. Sessions differ in cap
    placement / head position, channel gains, noise level and brain state, so a
    decoder trained on one session loses accuracy on another.

    Parameters
    ----------
    n_subjects : int
        Number of subjects (numbered ``1..n_subjects``).
    n_sessions : int
        Sessions per subject (``"0"``, ``"1"``, ...), e.g. different days.
    n_runs : int
        Runs per session (``"0"``, ``"1"``, ...).
    n_trials : int
        Trials **per class per run** (a run holds ``2 * n_trials`` cues).
    modality : {"eeg", "meg", "seeg"}
        Which sensors observe the (identical) sources.
    sfreq : float
        Sampling rate in Hz (64-2000).
    seed : int
        Root seed. Subject, session and run streams are spawned from it
        (:class:`numpy.random.SeedSequence` with spawn keys), so a subject's data do
        not depend on which other subjects are generated, nor on ``n_sessions``.
    n_eeg_channels : {32, 64}
        EEG montage size (10-10 subset of the 10-05 template).
    meg_sensors : {"both", "mag", "grad"}
        MEG channel types: 102 magnetometers, 204 planar gradiometers, or both.
    n_background_sources : int
        Number of distributed 1/f background dipoles.
    session_shift : float
        Scale of session-to-session changes (0: none beyond fresh noise; 1: default).

    Notes
    -----
    Each run is a continuous :class:`mne.io.RawArray` (volts, teslas, T/m) with the
    sensor channels, an ``EOG`` channel (EEG and MEG), and a ``STI`` stim channel
    holding a 100 ms pulse of the event code at each cue; the same cues are
    annotations (``left_hand`` / ``right_hand``, 4 s). A trial is a cue, 4 s of
    imagery (``interval = [0, 4]``), then 2.5-3.5 s of rest.

    Approximations: the head is four concentric spheres; the blink generator is a
    frontal dipole inside the brain sphere (the eyes are outside it); sEEG uses the
    infinite homogeneous-medium potential; EEG is average-referenced.
    """

    def __init__(
        self,
        n_subjects: int = 4,
        n_sessions: int = 3,
        n_runs: int = 2,
        n_trials: int = 20,
        modality: str = "eeg",
        sfreq: float = 160.0,
        seed: int = 42,
        n_eeg_channels: int = 64,
        meg_sensors: str = "both",
        n_background_sources: int = 128,
        session_shift: float = 1.0,
    ) -> None:
        self._n_subjects = _check_int("n_subjects", n_subjects, 1, 1000)
        _check_int("n_sessions", n_sessions, 1, 100)
        self.n_runs = _check_int("n_runs", n_runs, 1, 100)
        self.n_trials = _check_int("n_trials", n_trials, 1, 10000)
        self.seed = _check_int("seed", seed, 0)
        if not isinstance(modality, str) or modality.lower() not in MODALITIES:
            raise InvalidInputError(
                f"SimulatedMI: unknown modality {modality!r}; choose one of {list(MODALITIES)}."
            )
        self.modality = modality.lower()
        if isinstance(sfreq, bool) or not isinstance(sfreq, numbers.Real) or not 64 <= sfreq <= 2000:
            raise InvalidInputError(
                f"SimulatedMI: sfreq must be a number of Hz between 64 and 2000, got {sfreq!r}."
            )
        self.sfreq = float(sfreq)
        if n_eeg_channels not in EEG_CHANNELS or isinstance(n_eeg_channels, bool):
            raise InvalidInputError(
                f"SimulatedMI: n_eeg_channels must be one of {sorted(EEG_CHANNELS)}, got {n_eeg_channels!r}."
            )
        self.n_eeg_channels = int(n_eeg_channels)
        if meg_sensors not in ("both", "mag", "grad"):
            raise InvalidInputError(
                f"SimulatedMI: meg_sensors must be 'both', 'mag' or 'grad', got {meg_sensors!r}."
            )
        self.meg_sensors = meg_sensors
        self.n_background_sources = _check_int("n_background_sources", n_background_sources, 0, 5000)
        if (
            isinstance(session_shift, bool)
            or not isinstance(session_shift, numbers.Real)
            or not 0 <= session_shift <= 10
        ):
            raise InvalidInputError(
                f"SimulatedMI: session_shift must be a number between 0 and 10, got {session_shift!r}."
            )
        self.session_shift = float(session_shift)
        self.data_root = None
        super().__init__(
            subjects=list(range(1, self._n_subjects + 1)),
            sessions_per_subject=int(n_sessions),
            events=self._events(),
            code=self.code_base if self.modality == "eeg" else f"{self.code_base}-{self.modality}",
            interval=[0, self.task_s],
            paradigm=self.paradigm_kind,
            doi=None,
            unit_factor=1e6,
            return_all_modalities=_PICKS[self.modality],
        )

    #: MOABB code (``-meg`` / ``-seeg`` appended for those modalities), paradigm family and
    #: task length (s) of the dataset; subclasses simulating another task override them
    code_base = "SimulatedMI"
    paradigm_kind = "imagery"
    task_s = _IMAGERY_S

    def _events(self) -> dict[str, int]:
        """MOABB's ``event_id`` of the dataset."""
        return dict(EVENT_ID)

    # ------------------------------------------------------------------ identity
    def fingerprint_params(self) -> dict[str, Any]:
        """Every constructor option (and the simulator version): they all change the data."""
        return {
            "n_subjects": self._n_subjects,
            "n_sessions": self.n_sessions,
            "n_runs": self.n_runs,
            "n_trials": self.n_trials,
            "modality": self.modality,
            "sfreq": self.sfreq,
            "seed": self.seed,
            "n_eeg_channels": self.n_eeg_channels,
            "meg_sensors": self.meg_sensors,
            "n_background_sources": self.n_background_sources,
            "session_shift": self.session_shift,
            "simulator_version": SIMULATOR_VERSION,
        }

    def expected_files(self, subject: int) -> list:
        """Generated data: no files."""
        return []

    # ------------------------------------------------------------------ streams
    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=tuple(key)))

    def source_model(self, subject: int) -> SourceModel:
        """The sources of ``subject`` (identical for every modality)."""
        rng = self._rng(subject, 0)
        geometry = template_head().scaled(float(rng.uniform(0.95, 1.05)))
        return draw_source_model(geometry, rng, self.n_background_sources)

    def _nominal_array(self, model: SourceModel) -> SensorArray:
        geometry = model.geometry
        if self.modality == "eeg":
            return eeg_array(geometry, EEG_CHANNELS[self.n_eeg_channels])
        if self.modality == "meg":
            return meg_array(geometry, self.meg_sensors)
        targets = {"LM": model.rr[model.index("motor_left")], "RM": model.rr[model.index("motor_right")]}
        return seeg_array(geometry, targets)

    def _session_setup(
        self, subject: int, session: int, model: SourceModel
    ) -> tuple[SensorArray, SessionSensorState]:
        nominal = self._nominal_array(model)
        rng = self._rng(subject, 2, session, _MODALITY_INDEX[self.modality])
        state = draw_sensor_state(
            self.modality,
            len(nominal.names),
            model.geometry,
            rng,
            self.session_shift,
            electrode_pos=nominal.pos if self.modality == "eeg" else None,
        )
        if self.modality == "eeg":
            array = eeg_array(model.geometry, nominal.names, state.electrode_pos)
        elif self.modality == "meg":
            t = helmet_head_transform(model.geometry, state.head_translation, state.head_rotation)
            array = meg_array(model.geometry, self.meg_sensors, dev_head_t=t)
        else:
            array = nominal
        return array, state

    def sensor_array(self, subject: int, session: int = 0) -> SensorArray:
        """The sensor geometry of ``subject`` in ``session`` (after the session's shifts)."""
        return self._session_setup(subject, int(session), self.source_model(subject))[0]

    def source_activity(
        self, subject: int, session: int = 0, run: int = 0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ground truth of one run: dipole moments (A·m), event onsets (samples) and codes.

        The same for every modality (a separate random stream from sensor noise).
        """
        model = self.source_model(subject)
        moments, _, schedule = self._run_sources(subject, int(session), int(run), model)
        return moments, schedule.onsets, schedule.codes

    def _run_sources(self, subject: int, session: int, run: int, model: SourceModel):
        neural = draw_neural_state(self._rng(subject, 1, session), self.session_shift)
        rng = self._rng(subject, 3, session, run)
        schedule = make_schedule(self.n_trials, self.sfreq, rng, _IMAGERY_S)
        moments, blink = source_time_courses(model, schedule, neural, self.sfreq, rng)
        return moments, blink, schedule

    # ------------------------------------------------------------------ generation
    def _make_run(
        self,
        subject: int,
        session: int,
        run: int,
        model: SourceModel,
        array: SensorArray,
        state: SessionSensorState,
        info: mne.Info,
    ) -> mne.io.RawArray:
        moments, blink, schedule = self._run_sources(subject, session, run, model)
        gain = gain_matrix(array, model.rr, model.nn)
        signal = gain @ moments
        signal *= state.gains[:, None]
        noise_rng = self._rng(subject, 4, session, run, _MODALITY_INDEX[self.modality])
        sd = np.array([_SENSOR_NOISE[t] for t in array.types]) * state.noise_scale * state.channel_noise
        signal += sd[:, None] * noise_rng.standard_normal(signal.shape)

        rows = [signal]
        if self.modality in ("eeg", "meg"):
            eog = _EOG_BLINK * blink + _EOG_NOISE * noise_rng.standard_normal(blink.shape)
            rows.append(eog[None, :])
        stim = np.zeros(schedule.n_times)
        width = max(1, int(round(0.1 * self.sfreq)))
        idx = (schedule.onsets[:, None] + np.arange(width)[None, :]).ravel()
        stim[idx] = np.repeat(schedule.codes, width)
        rows.append(stim[None, :])

        raw = mne.io.RawArray(np.vstack(rows), info.copy(), verbose=False)
        date = _dt.datetime(2024, 1, 1, 9, tzinfo=_dt.UTC) + _dt.timedelta(
            days=30 * (subject - 1) + 7 * session, minutes=15 * run
        )
        raw.set_meas_date(date)
        labels = {v: k for k, v in self.event_id.items()}
        raw.set_annotations(
            mne.Annotations(
                onset=schedule.onsets / self.sfreq,
                duration=np.full(len(schedule.onsets), schedule.imagery_s),
                description=[labels[int(c)] for c in schedule.codes],
                orig_time=date,
            )
        )
        return raw

    def _get_single_subject_data(self, subject: int) -> dict:
        """MOABB's hook: ``{session: {run: RawArray}}`` for one subject."""
        check_subjects(self, [subject])
        model = self.source_model(subject)
        sessions: dict = {}
        for session in range(self.n_sessions):
            array, state = self._session_setup(subject, session, model)
            info = make_info(array, self.sfreq, eog=self.modality != "seeg", stim=True)
            sessions[str(session)] = {
                str(run): self._make_run(subject, session, run, model, array, state, info)
                for run in range(self.n_runs)
            }
            logger.debug("%s subject %d session %d generated", self.code, subject, session)
        return sessions

    def get_data(self, subjects=None, cache_config=None, process_pipeline=None, n_jobs=1):
        """MOABB's ``get_data``, with subjects checked first (``InvalidInputError``)."""
        subjects = check_subjects(self, subjects)
        return super().get_data(
            subjects, cache_config=cache_config, process_pipeline=process_pipeline, n_jobs=n_jobs
        )
