"""neurodec paradigms return exactly what MOABB's paradigms return."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from moabb import paradigms as mp

from neurodec import paradigms as nd
from tests.paradigms.conftest import ArrayDataset, fake


def _moabb(paradigm, dataset, subjects):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return paradigm.get_data(dataset, subjects=subjects)


def _assert_same(ours, theirs):
    X1, y1, m1 = ours
    X2, y2, m2 = theirs
    assert X1.dtype == np.float64 and X1.shape == X2.shape
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    pd.testing.assert_frame_equal(m1, m2)


@pytest.mark.parametrize("stim", [True, False], ids=["stim-channel", "annotations"])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"tmin": 0.5, "tmax": 2.0},
        {"baseline": (-0.25, 0.0)},
        {"resample": 100.0},
        {"channels": ["Cz", "C3"], "fmin": 7, "fmax": 30},
    ],
    ids=["defaults", "window", "baseline", "resample", "channels"],
)
def test_left_right_imagery_equals_moabb_on_fake_data(stim, params):
    ds = fake(stim=stim, n_subjects=2)
    ours = nd.LeftRightImagery(cache=False, **params).get_data(ds, [1, 2])
    _assert_same(ours, _moabb(mp.LeftRightImagery(**params), ds, [1, 2]))


def test_motor_imagery_and_p300_equal_moabb_on_fake_data():
    ds = fake(events=("left_hand", "right_hand", "feet"), n_subjects=1)
    ours = nd.MotorImagery(n_classes=3, cache=False).get_data(ds, [1])
    _assert_same(ours, _moabb(mp.MotorImagery(n_classes=3), ds, [1]))
    ours = nd.MotorImagery(events=["feet", "left_hand"], n_classes=2, cache=False).get_data(ds, [1])
    _assert_same(ours, _moabb(mp.MotorImagery(events=["feet", "left_hand"], n_classes=2), ds, [1]))
    erp = fake(paradigm="p300", events=("Target", "NonTarget"), n_subjects=1, n_events=12)
    ours = nd.P300(cache=False).get_data(erp, [1])
    _assert_same(ours, _moabb(mp.P300(), erp, [1]))


def test_n_jobs_and_return_epochs_give_the_same_data():
    ds = ArrayDataset(n_subjects=2)
    X, y, meta = nd.LeftRightImagery(cache=False).get_data(ds, [1, 2])
    from joblib import parallel_config

    with parallel_config(backend="threading"):  # same code path, no process start-up cost
        X2, y2, meta2 = nd.LeftRightImagery(cache=False).get_data(ds, [1, 2], n_jobs=2)
    np.testing.assert_array_equal(X, X2)
    epochs, y3, meta3 = nd.LeftRightImagery(cache=False).get_data(ds, [1, 2], return_epochs=True)
    np.testing.assert_allclose(epochs.get_data() * ds.unit_factor, X, rtol=1e-12, atol=0)
    assert y3.tolist() == y.tolist() and meta3.equals(meta)


@pytest.mark.data
def test_physionet_left_right_equals_moabb(data_root, cache_dir):
    """The issue's acceptance check: 2 real subjects, arrays equal to MOABB's."""
    from moabb.datasets import PhysionetMI

    folder = data_root / "PhysionetMI"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    os.environ["MNE_DATASETS_EEGBCI_PATH"] = str(folder)
    ref_ds = PhysionetMI(imagined=True, executed=False)
    ref_ds.feet_runs = []
    theirs = _moabb(mp.LeftRightImagery(), ref_ds, [1, 2])
    assert theirs[0].shape == (90, 64, 481)
    # neurodec's paradigm on MOABB's own dataset class ...
    _assert_same(nd.LeftRightImagery(cache=False).get_data(ref_ds, [1, 2]), theirs)
    # ... and on neurodec's offline dataset, cold then warm from the epoch cache.
    from neurodec.datasets import get_dataset

    ds = get_dataset("PhysionetMI", data_root=data_root)
    _assert_same(nd.LeftRightImagery().get_data(ds, [1, 2]), theirs)
    _assert_same(nd.LeftRightImagery().get_data(ds, [1, 2]), theirs)
    assert len(list(cache_dir.rglob("manifest.json"))) == 2


def test_return_epochs_equals_moabb_epochs():
    ds = fake(n_subjects=1)
    ours, y, meta = nd.LeftRightImagery(cache=False, resample=64).get_data(ds, [1], return_epochs=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, y2, meta2 = mp.LeftRightImagery(resample=64).get_data(ds, [1], return_epochs=True)
    np.testing.assert_array_equal(ours.get_data(), theirs.get_data())
    np.testing.assert_array_equal(ours.events, theirs.events)
    assert ours.ch_names == theirs.ch_names and ours.info["sfreq"] == theirs.info["sfreq"]
    assert ours.times[0] == theirs.times[0] and len(ours.times) == len(theirs.times)
    np.testing.assert_array_equal(y, y2)
    pd.testing.assert_frame_equal(meta, meta2)


@pytest.mark.data
def test_p300_on_real_muse_recordings_equals_moabb(data_root, cache_dir):
    """P300 on the one real ERP dataset here (neurodec's EEGNotebooks reader)."""
    from neurodec.datasets import get_dataset

    if not (data_root / "EEGNotebooks_VisualP300").is_dir():
        pytest.skip("EEGNotebooks_VisualP300 is missing")
    ds = get_dataset("EEGNotebooks_VisualP300", data_root=data_root)
    subject = [ds.subject_list[0]]
    theirs = _moabb(mp.P300(), ds, subject)
    _assert_same(nd.P300().get_data(ds, subject), theirs)
    assert set(theirs[1]) == {"Target", "NonTarget"}


@pytest.mark.parametrize("stim", [True, False], ids=["stim-channel", "annotations"])
def test_interval_not_starting_at_the_cue_equals_moabb(stim):
    ds = fake(stim=stim, n_subjects=1)
    ds.interval = [0.5, 2.5]  # like BNCI2014_001's [2, 6]: the task starts after the cue
    params = {"tmin": 0.25, "tmax": 1.5, "baseline": (-0.5, 0.0)}
    ours = nd.LeftRightImagery(cache=False, **params).get_data(ds, [1])
    _assert_same(ours, _moabb(mp.LeftRightImagery(**params), ds, [1]))


def test_return_epochs_joins_meg_sessions_recorded_at_other_head_positions(caplog):
    """MNE (and so MOABB) refuse to concatenate runs whose dev_head_t differ; the epochs keep
    the first run's transform, a warning says so, the data are those of the arrays."""
    from neurodec.datasets import get_dataset
    from neurodec.evaluation.data import clear_memory_cache, epochs_info

    ds = get_dataset(
        "SimulatedMI", n_subjects=1, n_sessions=2, n_runs=1, n_trials=2, modality="meg", meg_sensors="mag"
    )
    paradigm = nd.LeftRightImagery(cache=False)
    X, y, meta = paradigm.get_data(ds, [1])
    raws = ds.get_data([1])[1]
    first, second = (raws[s]["0"].info["dev_head_t"]["trans"] for s in ("0", "1"))
    assert not np.allclose(first, second)  # the sessions' head positions differ
    with caplog.at_level("WARNING", logger="neurodec.paradigms.base"):
        epochs, y2, meta2 = paradigm.get_data(ds, [1], return_epochs=True)
    assert "head positions (dev_head_t) differ" in caplog.text
    np.testing.assert_array_equal(epochs.info["dev_head_t"]["trans"], first)
    np.testing.assert_allclose(epochs.get_data() * ds.unit_factor, X, rtol=1e-12, atol=0)
    assert y2.tolist() == y.tolist() and meta2.equals(meta)
    clear_memory_cache()
    assert epochs_info(paradigm, ds, 1)["ch_names"] == epochs.ch_names  # what the engine gives info steps
    clear_memory_cache()
