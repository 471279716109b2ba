"""Filter-bank and SSVEP paradigms return exactly what MOABB's return."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest
from moabb import paradigms as mp

from neurodec import paradigms as nd
from neurodec.errors import InvalidInputError
from tests.paradigms.conftest import fake


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


def _ssvep(n_subjects=2, stim=True):
    return fake(
        paradigm="ssvep",
        events=("13", "15", "17.5"),
        n_subjects=n_subjects,
        n_events=9,
        stim=stim,
        channels=("O1", "Oz", "O2", "POz"),
    )


@pytest.mark.parametrize(
    "params",
    [{}, {"filters": [[8, 14], [14, 30]], "resample": 100.0, "tmin": 0.5}, {"baseline": (-0.25, 0.0)}],
    ids=["defaults", "bank-resample-window", "baseline"],
)
def test_filter_bank_left_right_equals_moabb(params):
    ds = fake(n_subjects=2)
    ours = nd.FilterBankLeftRightImagery(cache=False, **params).get_data(ds, [1, 2])
    theirs = _moabb(mp.FilterBankLeftRightImagery(**params), ds, [1, 2])
    _assert_same(ours, theirs)
    assert ours[0].ndim == 4 and ours[0].shape[-1] == len(
        params.get("filters", nd.filter_bank.DEFAULT_FILTERS)
    )


def test_filter_bank_motor_imagery_equals_moabb():
    ds = fake(events=("feet", "left_hand", "right_hand"), n_subjects=1, stim=False)
    # default: the dataset's first two events, as MOABB
    ours = nd.FilterBankMotorImagery(cache=False).get_data(ds, [1])
    _assert_same(ours, _moabb(mp.FilterBankMotorImagery(), ds, [1]))
    assert set(ours[1]) == {"feet", "left_hand"}
    params = {"n_classes": 3, "events": ["right_hand", "feet", "left_hand"], "filters": [[8, 30]]}
    ours = nd.FilterBankMotorImagery(cache=False, **params).get_data(ds, [1])
    _assert_same(ours, _moabb(mp.FilterBankMotorImagery(**params), ds, [1]))
    assert ours[0].ndim == 3  # one band: 3-D, as MOABB


@pytest.mark.parametrize("stim", [True, False], ids=["stim-channel", "annotations"])
@pytest.mark.parametrize(
    "cls, params",
    [
        ("SSVEP", {}),
        ("SSVEP", {"n_classes": 2, "tmax": 2.0, "fmin": 5, "fmax": 40}),
        ("FilterBankSSVEP", {}),
        ("FilterBankSSVEP", {"n_classes": 2, "resample": 100.0}),
        ("FilterBankSSVEP", {"filters": [[12, 14], [14, 20]], "events": ["17.5", "13"], "n_classes": 2}),
    ],
)
def test_ssvep_paradigms_equal_moabb_on_fake_ssvep_data(cls, params, stim):
    ds = _ssvep(stim=stim)
    ours = getattr(nd, cls)(cache=False, **params).get_data(ds, [1, 2])
    _assert_same(ours, _moabb(getattr(mp, cls)(**params), ds, [1, 2]))


def test_filter_bank_ssvep_centres_a_band_on_each_frequency():
    ds = _ssvep(n_subjects=1)
    p = nd.FilterBankSSVEP()
    assert p._bands(ds) == ((12.5, 13.5), (14.5, 15.5), (17.0, 18.0))
    assert nd.ssvep.stimulation_frequencies({"13": 1, "rest": 2, "7.5": 3}) == [13.0, 7.5]
    assert p.scoring == "accuracy" and nd.FilterBankSSVEP(n_classes=2).scoring == "roc_auc"


def test_filter_bank_arrays_are_cached(cache_dir):
    ds = fake(n_subjects=2)
    p = nd.FilterBankLeftRightImagery(filters=[[8, 12], [12, 30]])
    first = p.get_data(ds, [1, 2])
    assert len(list(cache_dir.rglob("manifest.json"))) == 2
    _assert_same(p.get_data(ds, [1, 2]), first)
    # another bank is another cache entry, not a hit
    other = nd.FilterBankLeftRightImagery(filters=[[8, 12], [12, 31]]).get_data(ds, [1])
    assert len(list(cache_dir.rglob("manifest.json"))) == 3
    assert not np.array_equal(other[0][..., 1], first[0][: len(other[0]), ..., 1])


@pytest.mark.parametrize(
    "cls, params, match",
    [
        (nd.FilterBankLeftRightImagery, {"filters": []}, "non-empty list of"),
        (nd.FilterBankLeftRightImagery, {"filters": [[8, 12, 16]]}, r"filters\[0\] must be a pair"),
        (
            nd.FilterBankLeftRightImagery,
            {"filters": [[12, 8]]},
            r"filters\[0\]: fmin \(12 Hz\) must be below",
        ),
        (nd.FilterBankMotorImagery, {"n_classes": 0}, "n_classes must be a positive integer"),
        (nd.FilterBankMotorImagery, {"n_classes": 3, "events": ["feet"]}, "exceeds the 1 events"),
        (nd.SSVEP, {"fmin": -1}, "fmin must be a positive number"),
        (nd.FilterBankSSVEP, {"filters": "8-12"}, "non-empty list of"),
    ],
)
def test_bad_parameters_are_one_line_errors(cls, params, match):
    ds = _ssvep(n_subjects=1) if cls in (nd.SSVEP, nd.FilterBankSSVEP) else fake(n_subjects=1)
    with pytest.raises(InvalidInputError, match=match) as e:
        cls(cache=False, **params).get_data(ds, [1])
    assert "\n" not in str(e.value)


def test_wrong_datasets_and_unsupported_requests():
    mi, ss = fake(n_subjects=1), _ssvep(n_subjects=1)
    with pytest.raises(InvalidInputError, match="needs a 'ssvep' dataset"):
        nd.SSVEP(cache=False).get_data(mi, [1])
    with pytest.raises(InvalidInputError, match="needs a 'imagery' dataset"):
        nd.FilterBankMotorImagery(cache=False).get_data(ss, [1])
    with pytest.raises(InvalidInputError, match=r"has no \['20'\] events"):
        nd.SSVEP(events=["13", "20"], cache=False).get_data(ss, [1])
    with pytest.raises(InvalidInputError, match="need 4"):
        nd.SSVEP(n_classes=4, cache=False).get_data(ss, [1])
    named = fake(paradigm="ssvep", events=("left", "right"), n_subjects=1)
    with pytest.raises(InvalidInputError, match="named by a frequency.*pass filters"):
        nd.FilterBankSSVEP(cache=False).get_data(named, [1])
    with pytest.raises(InvalidInputError, match="return_epochs=True is not supported for filter banks"):
        nd.FilterBankSSVEP(cache=False).get_data(ss, [1], return_epochs=True)
    epochs, _, _ = nd.SSVEP(cache=False).get_data(ss, [1], return_epochs=True)  # one band: fine
    assert len(epochs) == 36  # 2 sessions x 2 runs x 9 trials


@pytest.mark.data
def test_physionet_filter_bank_equals_moabb(data_root, cache_dir):
    """Real data: MOABB's default 6-band bank on 2 PhysionetMI subjects, equal arrays."""
    from moabb.datasets import PhysionetMI

    from neurodec.datasets import get_dataset

    folder = data_root / "PhysionetMI"
    if not folder.is_dir():
        pytest.skip(f"{folder} is missing")
    os.environ["MNE_DATASETS_EEGBCI_PATH"] = str(folder)
    ref = PhysionetMI(imagined=True, executed=False)
    ref.feet_runs = []
    theirs = _moabb(mp.FilterBankLeftRightImagery(), ref, [1, 2])
    assert theirs[0].shape == (90, 64, 481, 6)
    _assert_same(
        nd.FilterBankLeftRightImagery().get_data(get_dataset("PhysionetMI", data_root=data_root), [1, 2]),
        theirs,
    )
    ours = nd.FilterBankMotorImagery().get_data(get_dataset("PhysionetMI", data_root=data_root), [1])
    _assert_same(ours, _moabb(mp.FilterBankMotorImagery(), ref, [1]))


def test_the_bank_is_part_of_the_evaluation_identity():
    """Two banks are two contexts in the results store and two entries in the engine's memory."""
    from neurodec.evaluation.data import paradigm_description

    a = paradigm_description(nd.FilterBankLeftRightImagery(filters=[[8, 12], [12, 16]]))
    b = paradigm_description(nd.FilterBankLeftRightImagery(filters=[[8, 12], [12, 17]]))
    assert a != b and "[12, 16]" in a
    assert paradigm_description(nd.LeftRightImagery()) == paradigm_description(nd.LeftRightImagery())
