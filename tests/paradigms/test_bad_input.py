"""Every bad input named by the issue gets a clear neurodec error."""

from __future__ import annotations

import numpy as np
import pytest

from neurodec import paradigms as nd
from neurodec.errors import InvalidDataError, InvalidInputError, UnknownNameError
from tests.paradigms.conftest import ArrayDataset, fake


def test_registry_builds_by_name_and_lists_names_on_unknown():
    p = nd.get_paradigm("leftrightimagery", fmin=7, fmax=30)
    assert isinstance(p, nd.LeftRightImagery) and p.get_params()["fmax"] == 30
    assert nd.list_paradigms() == [
        "FilterBankLeftRightImagery",
        "FilterBankMotorImagery",
        "FilterBankSSVEP",
        "LeftRightImagery",
        "MotorImagery",
        "P300",
        "SSVEP",
    ]
    with pytest.raises(UnknownNameError, match="LeftRightImagery, MotorImagery, P300, SSVEP"):
        nd.get_paradigm("CVEP")
    with pytest.raises(InvalidInputError, match="does not take"):
        nd.get_paradigm("P300", n_classes=2)


def test_subject_out_of_range(cache_dir):
    with pytest.raises(InvalidInputError, match=r"subject\(s\) \[99\] do not exist"):
        nd.LeftRightImagery().get_data(fake(n_subjects=2), [1, 99])


@pytest.mark.parametrize("dataset", ["PhysionetMI", {"code": "x"}, None])
def test_wrong_dataset_type(dataset):
    with pytest.raises(InvalidInputError, match="expected a dataset"):
        nd.LeftRightImagery().get_data(dataset, [1])
    assert not nd.LeftRightImagery().is_valid(dataset)


def test_paradigm_does_not_fit_dataset():
    mi = fake(n_subjects=1)
    assert nd.LeftRightImagery().is_valid(mi) and not nd.P300().is_valid(mi)
    with pytest.raises(InvalidInputError, match="needs a 'p300' dataset"):
        nd.P300().get_data(mi, [1])


def test_events_missing_in_dataset():
    ds = fake(events=("feet", "rest"), n_subjects=1)
    with pytest.raises(InvalidInputError, match=r"no \['left_hand', 'right_hand'\] events"):
        nd.LeftRightImagery().get_data(ds, [1])
    with pytest.raises(InvalidInputError, match="only"):
        nd.MotorImagery(events=["tongue", "feet"], n_classes=2).get_data(ds, [1])
    with pytest.raises(InvalidInputError, match="positive integer"):
        nd.MotorImagery(n_classes=1.5).get_data(ds, [1])
    with pytest.raises(InvalidInputError, match="fewer than n_classes"):
        nd.MotorImagery(n_classes=4).get_data(ds, [1])


@pytest.mark.parametrize(
    "params, message",
    [
        ({"tmax": 5.0}, "reaches past the end"),
        ({"tmin": 2.0, "tmax": 1.0}, "must be greater than tmin"),
        ({"fmin": 30, "fmax": 8}, "below fmax"),
        ({"fmin": -1}, "positive"),
        ({"resample": 0}, "positive"),
        ({"resample": "fast"}, "positive"),
        ({"channels": "C3"}, "list of names"),
        ({"baseline": (0.0,)}, "pair"),
    ],
)
def test_bad_parameters(params, message):
    with pytest.raises(InvalidInputError, match=message):
        nd.LeftRightImagery(cache=False, **params).get_data(fake(n_subjects=1), [1])


def test_tmin_past_interval_without_tmax():
    with pytest.raises(InvalidInputError, match="starts after the end"):
        nd.LeftRightImagery(cache=False, tmin=3.5, tmax=None).get_data(fake(n_subjects=1), [1])


def test_unknown_channel_and_fmax_above_nyquist():
    with pytest.raises(InvalidInputError, match=r"channels \['Oz'\] are not in this recording"):
        nd.LeftRightImagery(cache=False, channels=["C3", "Oz"]).get_data(fake(n_subjects=1), [1])
    with pytest.raises(InvalidInputError, match="Nyquist"):
        nd.LeftRightImagery(cache=False, fmax=100).get_data(fake(n_subjects=1), [1])


def test_nan_in_data_is_a_clear_error():
    data = np.random.default_rng(0).standard_normal((3, 2000)) * 1e-5
    data[1, 500:510] = np.nan
    with pytest.raises(InvalidDataError, match=r"subject 1 .*\['E1'\] contain NaN"):
        nd.LeftRightImagery(cache=False).get_data(ArrayDataset(data), [1])


def test_clean_array_dataset_works_and_params_are_untouched():
    data = np.random.default_rng(0).standard_normal((3, 2000)) * 1e-5
    p = nd.LeftRightImagery(cache=False, channels=("E2", "E0"))
    X, y, meta = p.get_data(ArrayDataset(data), [1])
    assert X.shape == (10, 2, 101) and set(y) == {"left_hand", "right_hand"}
    assert p.channels == ("E2", "E0") and meta.columns.tolist() == ["subject", "session", "run"]


def test_paradigms_follow_the_sklearn_parameter_contract():
    import pickle

    from sklearn.base import clone

    p = nd.MotorImagery(n_classes=2, events=["left_hand", "feet"], fmin=7, cache=False)
    assert clone(p).get_params() == p.get_params()
    assert pickle.loads(pickle.dumps(p)).get_params() == p.get_params()
    assert p.scoring == "roc_auc" and nd.MotorImagery(n_classes=3).scoring == "accuracy"
    assert "fmin=7" in repr(p)
