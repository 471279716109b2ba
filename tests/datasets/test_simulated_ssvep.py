"""SimulatedSSVEP: events named by frequency, responses at the flicker frequency and its
harmonics from occipital generators, phase-locked, MOABB-compatible, decodable."""

from __future__ import annotations

import warnings

import mne
import numpy as np
import pytest

from neurodec.datasets.simulated import SimulatedMI, SimulatedSSVEP
from neurodec.errors import InvalidInputError
from neurodec.paradigms import SSVEP, FilterBankSSVEP

TINY = dict(n_subjects=2, n_sessions=2, n_runs=1, n_trials=6, n_background_sources=32, n_eeg_channels=32)
POSTERIOR = ["O1", "Oz", "O2", "P3", "Pz", "Cz", "Fz", "C3"]


@pytest.fixture(scope="module")
def ds():
    return SimulatedSSVEP(**TINY)


@pytest.fixture(scope="module")
def epochs(ds):
    """1-40 Hz, 4 s trials of subject 1 (arrays, µV)."""
    return SSVEP(fmin=1, fmax=40, channels=POSTERIOR, cache=False).get_data(ds, [1])


def _snr(X: np.ndarray, freq: float, sfreq: float) -> np.ndarray:
    """Power at ``freq`` over the mean of the neighbouring bins (1-2 Hz away), per channel."""
    spec = np.abs(np.fft.rfft(X, axis=-1)) ** 2
    f = np.fft.rfftfreq(X.shape[-1], 1 / sfreq)
    power = spec.mean(axis=0)
    i = np.argmin(np.abs(f - freq))
    near = (np.abs(f - freq) >= 1.0) & (np.abs(f - freq) <= 2.0)
    return power[:, i] / power[:, near].mean(axis=1)


def test_structure_events_and_registry(ds):
    assert ds.event_id == {"13": 1, "17": 2, "21": 3} and ds.paradigm == "ssvep"
    assert ds.code == "SimulatedSSVEP" and list(ds.interval) == [0, 4.0] and ds.n_sessions == 2
    raw = ds.get_data([1])[1]["1"]["0"]
    assert raw.info["sfreq"] == 256.0
    events = mne.find_events(raw, stim_channel="STI", verbose=False)
    assert np.bincount(events[:, 2])[1:].tolist() == [6, 6, 6]
    assert sorted(set(raw.annotations.description)) == ["13", "17", "21"]
    assert np.all(raw.annotations.duration == 4.0)
    from neurodec.datasets import dataset_table, get_dataset

    assert isinstance(get_dataset("SimulatedSSVEP", n_subjects=1), SimulatedSSVEP)
    row = dataset_table().set_index("name").loc["SimulatedSSVEP"]
    assert row["paradigm"] == "ssvep" and row["local"] == "generated"


def test_deterministic_and_distinct_from_the_mi_simulator(ds):
    again = SimulatedSSVEP(**TINY).get_data([2])[2]["0"]["0"].get_data()
    np.testing.assert_array_equal(ds.get_data([2])[2]["0"]["0"].get_data(), again)
    other = SimulatedSSVEP(**{**TINY, "frequencies": (8, 10, 12)})
    assert other.event_id == {"8": 1, "10": 2, "12": 3} and other.fingerprint() != ds.fingerprint()
    # the MI simulator is unchanged by the SSVEP mode (same sources for the shared part)
    mi = SimulatedMI(**TINY)
    assert mi.event_id == {"left_hand": 1, "right_hand": 2} and mi.paradigm == "imagery"
    model = ds.source_model(1)
    k = SimulatedMI(**TINY).source_model(1)
    assert model.names[: k.n_named] == k.names[: k.n_named]
    np.testing.assert_array_equal(model.rr[: k.n_named], k.rr[: k.n_named])


def test_generators_sit_over_occipital_cortex(ds):
    src = ds.ssvep_sources(1)
    head = ds.source_model(1).geometry
    oz = head.electrodes["Oz"] - head.center
    for pos in src.rr:
        d = pos - head.center
        assert d[1] < -0.04  # posterior (y points to the nose)
        cos = d @ oz / np.linalg.norm(d) / np.linalg.norm(oz)
        assert cos > 0.85  # within ~30 degrees of Oz
        assert head.radius - np.linalg.norm(d) < 0.03  # cortex, not deep brain


def test_response_at_flicker_frequency_and_harmonics_over_occipital_sites(epochs):
    X, y, _ = epochs
    oz, cz, fz = POSTERIOR.index("Oz"), POSTERIOR.index("Cz"), POSTERIOR.index("Fz")
    for label in ("13", "17", "21"):
        f = float(label)
        own = _snr(X[y == label], f, 256.0)
        others = _snr(X[y != label], f, 256.0)
        assert own[oz] > 2.0, label  # a peak at the flicker frequency ...
        assert own[oz] > 2 * others[oz], label  # ... only when that flicker is on
        assert own[oz] > own[cz] and own[oz] > own[fz], label  # largest over occipital cortex
    second = _snr(X[y == "13"], 26.0, 256.0)
    assert second[oz] > 1.5  # the second harmonic


def test_response_is_phase_locked_to_the_flicker(epochs):
    X, y, _ = epochs
    oz = POSTERIOR.index("Oz")
    trials = X[y == "17", oz, 64:]  # after the build-up
    f = np.fft.rfftfreq(trials.shape[-1], 1 / 256.0)
    i = np.argmin(np.abs(f - 17.0))
    phases = np.angle(np.fft.rfft(trials, axis=-1)[:, i])
    itc = np.abs(np.exp(1j * phases).mean())
    assert itc > 0.6  # inter-trial phase coherence (random phases: ~1/sqrt(12) ≈ 0.3)


def test_paradigms_equal_moabb_and_decode(ds):
    from moabb import paradigms as mp
    from moabb.pipelines import ExtendedSSVEPSignal
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    channels = ["O1", "Oz", "O2", "Pz"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = mp.FilterBankSSVEP(channels=channels).get_data(ds, [2])
    X, y, meta = FilterBankSSVEP(channels=channels, cache=False).get_data(ds, [2])
    np.testing.assert_array_equal(X, theirs[0])
    np.testing.assert_array_equal(y, theirs[1])
    assert X.shape == (36, 4, 1025, 3)
    first = (meta["session"] == "0").to_numpy()
    pipe = make_pipeline(ExtendedSSVEPSignal(), Covariances("oas"), TangentSpace(), LogisticRegression())
    acc = cross_val_score(pipe, X[first], y[first], cv=3).mean()
    assert acc > 0.8  # chance: 1/3


def test_seeg_shafts_see_the_occipital_response():
    ds = SimulatedSSVEP(
        n_subjects=1, n_sessions=1, n_runs=1, n_trials=4, n_background_sources=16, modality="seeg"
    )
    assert ds.code == "SimulatedSSVEP-seeg"
    X, y, _ = SSVEP(fmin=1, fmax=40, cache=False).get_data(ds, [1])
    names = ds.sensor_array(1).names
    occ = [i for i, n in enumerate(names) if n.startswith(("LO", "RO"))]
    motor = [i for i, n in enumerate(names) if n.startswith(("LM", "RM"))]
    snr = _snr(X[y == "17"], 17.0, 256.0)
    assert snr[occ].mean() > 3 * snr[motor].mean()


@pytest.mark.parametrize(
    "options, match",
    [
        ({"frequencies": (13, 13)}, "at least two distinct frequencies"),
        ({"frequencies": (13, 200)}, r"\[200.0\] Hz are outside"),
        ({"frequencies": "13,17"}, "at least two distinct|list of numbers"),
        ({"n_harmonics": 0}, "n_harmonics must be an integer"),
        ({"sfreq": 20}, r"outside 1 Hz .. Nyquist \(10 Hz at sfreq=20\)"),
        ({"sfreq": 5000}, "sfreq must be a number"),
    ],
)
def test_bad_options(options, match):
    with pytest.raises(InvalidInputError, match=match):
        SimulatedSSVEP(**{**TINY, **options})
