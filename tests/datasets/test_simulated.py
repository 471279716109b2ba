"""SimulatedMI: determinism, shapes/types per modality, events, MOABB compatibility,
decodability within a session and the cross-session drop, bad options."""

from __future__ import annotations

import warnings

import mne
import numpy as np
import pytest

from neurodec.datasets.simulated import SimulatedMI
from neurodec.errors import InvalidInputError

TINY = dict(n_subjects=2, n_sessions=2, n_runs=1, n_trials=5, n_background_sources=32)


@pytest.fixture(scope="module")
def eeg_data():
    ds = SimulatedMI(**TINY, n_eeg_channels=32)
    return ds, ds.get_data([1])


def test_structure_and_types_eeg(eeg_data):
    ds, data = eeg_data
    assert list(data) == [1]
    assert list(data[1]) == ["0", "1"]
    raw = data[1]["0"]["0"]
    assert isinstance(raw, mne.io.BaseRaw)
    assert raw.info["sfreq"] == 160.0
    types = raw.get_channel_types()
    assert types.count("eeg") == 32 and types.count("eog") == 1 and types.count("stim") == 1
    pos = np.array([raw.info["chs"][i]["loc"][:3] for i in mne.pick_types(raw.info, eeg=True)])
    assert np.all(np.isfinite(pos)) and np.all(np.linalg.norm(pos, axis=1) > 0.05)
    x = raw.get_data(picks="eeg")
    rms = np.sqrt((x**2).mean())
    assert 2e-6 < rms < 2e-4  # tens of microvolts, in volts


def test_events_in_stim_and_annotations(eeg_data):
    ds, data = eeg_data
    raw = data[1]["0"]["0"]
    events = mne.find_events(raw, stim_channel="STI", verbose=False)
    assert len(events) == 2 * ds.n_trials
    assert np.bincount(events[:, 2])[1:].tolist() == [ds.n_trials, ds.n_trials]
    desc = list(raw.annotations.description)
    assert sorted(set(desc)) == ["left_hand", "right_hand"]
    assert desc.count("left_hand") == ds.n_trials
    onsets = raw.time_as_index(raw.annotations.onset, use_rounding=True)
    np.testing.assert_array_equal(onsets, events[:, 0] - raw.first_samp)
    labels = {1: "left_hand", 2: "right_hand"}
    assert desc == [labels[c] for c in events[:, 2]]


def test_deterministic_and_subject_subset_independent(eeg_data):
    ds, data = eeg_data
    again = SimulatedMI(**TINY, n_eeg_channels=32).get_data([1])
    np.testing.assert_array_equal(data[1]["1"]["0"].get_data(), again[1]["1"]["0"].get_data())
    # more subjects/sessions do not change subject 1's first sessions
    bigger = SimulatedMI(**{**TINY, "n_subjects": 3, "n_sessions": 3}, n_eeg_channels=32)
    np.testing.assert_array_equal(bigger.get_data([1])[1]["0"]["0"].get_data(), data[1]["0"]["0"].get_data())
    other = SimulatedMI(**{**TINY, "seed": 7}, n_eeg_channels=32).get_data([1])
    a, b = other[1]["0"]["0"].get_data(), data[1]["0"]["0"].get_data()
    assert a.shape != b.shape or not np.allclose(a, b)


def test_sessions_differ_in_setup(eeg_data):
    ds, _ = eeg_data
    a0, a1 = ds.sensor_array(1, 0), ds.sensor_array(1, 1)
    shift_mm = 1e3 * np.linalg.norm(a0.pos - a1.pos, axis=1)
    assert 1.0 < np.median(shift_mm) < 15.0  # electrodes moved by a few mm
    still = SimulatedMI(**TINY, n_eeg_channels=32, session_shift=0.0)
    np.testing.assert_allclose(still.sensor_array(1, 0).pos, still.sensor_array(1, 1).pos)


@pytest.mark.parametrize(
    "modality, kinds",
    [("meg", {"mag": 102, "grad": 204, "eog": 1, "stim": 1}), ("seeg", {"seeg": 64, "stim": 1})],
)
def test_other_modalities(modality, kinds):
    ds = SimulatedMI(**{**TINY, "n_sessions": 1}, modality=modality)
    raw = ds.get_data([1])[1]["0"]["0"]
    types = raw.get_channel_types()
    assert {t: types.count(t) for t in set(types)} == kinds
    assert ds.code == f"SimulatedMI-{modality}"
    if modality == "meg":
        meg = mne.pick_types(raw.info, meg=True)
        coils = {raw.info["chs"][i]["coil_type"] for i in meg}
        assert coils == {
            mne.io.constants.FIFF.FIFFV_COIL_VV_MAG_T3,
            mne.io.constants.FIFF.FIFFV_COIL_VV_PLANAR_T1,
        }
        normals = np.array([raw.info["chs"][i]["loc"][9:12] for i in meg])
        np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0)
        assert raw.info["dev_head_t"] is not None
        # every sensor outside the scalp, at most a few cm away from it
        head = mne.transforms.apply_trans(
            raw.info["dev_head_t"], np.array([raw.info["chs"][i]["loc"][:3] for i in meg])
        )
        geometry = ds.source_model(1).geometry
        gap = np.linalg.norm(head - geometry.center, axis=1) - geometry.radius
        assert 0.008 < gap.min() and gap.max() < 0.06
        mag = raw.get_data(picks="mag")
        assert 1e-14 < np.sqrt((mag**2).mean()) < 1e-11  # tens to thousands of fT
    else:
        pos = np.array([raw.info["chs"][i]["loc"][:3] for i in mne.pick_types(raw.info, seeg=True)])
        assert np.all(np.isfinite(pos))
        assert raw.info["chs"][0]["ch_name"] == "LM1"
        # the hand-area shafts pass within 1 cm of the hand-area dipoles
        model = ds.source_model(1)
        d = np.linalg.norm(pos[:8] - model.rr[model.index("motor_left")], axis=1)
        assert d.min() < 0.01


def test_same_sources_for_every_modality():
    eeg = SimulatedMI(**TINY, modality="eeg")
    meg = SimulatedMI(**TINY, modality="meg")
    m_eeg, on_eeg, codes_eeg = eeg.source_activity(2, 1, 0)
    m_meg, on_meg, codes_meg = meg.source_activity(2, 1, 0)
    np.testing.assert_array_equal(m_eeg, m_meg)
    np.testing.assert_array_equal(on_eeg, on_meg)
    np.testing.assert_array_equal(codes_eeg, codes_meg)


def test_moabb_left_right_imagery_accepts_it():
    from moabb.paradigms import LeftRightImagery

    ds = SimulatedMI(**{**TINY, "n_subjects": 1}, n_eeg_channels=32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X, y, meta = LeftRightImagery().get_data(ds, subjects=[1])
    assert X.shape == (2 * 2 * ds.n_trials, 32, 4 * 160 + 1)
    assert sorted(set(y)) == ["left_hand", "right_hand"]
    assert set(meta["session"]) == {"0", "1"} and set(meta["subject"]) == {1}


def test_fingerprint_tracks_options():
    a = SimulatedMI(**TINY)
    assert a.fingerprint() == SimulatedMI(**TINY).fingerprint()
    assert a.fingerprint() != SimulatedMI(**TINY, seed=1).fingerprint()
    assert a.fingerprint() != SimulatedMI(**TINY, modality="meg").fingerprint()
    assert set(a.fingerprint_params()) >= {
        "n_subjects",
        "n_sessions",
        "n_runs",
        "n_trials",
        "modality",
        "sfreq",
        "seed",
    }
    assert a.expected_files(1) == []


@pytest.mark.parametrize(
    "options, match",
    [
        ({"modality": "ecog"}, "modality"),
        ({"n_sessions": 0}, "n_sessions"),
        ({"n_subjects": 0}, "n_subjects"),
        ({"n_runs": 1.5}, "n_runs"),
        ({"n_trials": -1}, "n_trials"),
        ({"sfreq": 10.0}, "sfreq"),
        ({"seed": -3}, "seed"),
        ({"n_eeg_channels": 19}, "n_eeg_channels"),
        ({"meg_sensors": "axial"}, "meg_sensors"),
        ({"session_shift": -1}, "session_shift"),
    ],
)
def test_bad_options(options, match):
    with pytest.raises(InvalidInputError, match=match):
        SimulatedMI(**options)


def test_bad_subject():
    ds = SimulatedMI(**TINY)
    with pytest.raises(InvalidInputError, match="subject"):
        ds.get_data([3])
