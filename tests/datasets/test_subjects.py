"""``check_subjects``: the one validation of a ``subjects`` argument (datasets and paradigms)."""

from __future__ import annotations

import numpy as np
import pytest

from neurodec import paradigms as nd
from neurodec.datasets import get_dataset
from neurodec.datasets.base import check_subjects
from neurodec.errors import DataNotFoundError, InvalidInputError
from tests.paradigms.conftest import fake


def test_integral_floats_and_numpy_integers_become_ints():
    ds = fake(n_subjects=3)
    out = check_subjects(ds, [1.0, np.int64(2), np.float64(3.0)])
    assert out == [1, 2, 3] and all(type(s) is int for s in out)
    assert check_subjects(ds, 2.0) == [2]
    assert check_subjects(ds, np.array([3, 1])) == [3, 1]


@pytest.mark.parametrize("bad", [[1.5], ["1"], [True], [None], [float("nan")]])
def test_non_whole_numbers_are_refused(bad):
    with pytest.raises(InvalidInputError, match="whole numbers"):
        check_subjects(fake(n_subjects=3), bad)


def test_duplicates_are_refused_naming_them():
    with pytest.raises(InvalidInputError, match=r"subject\(s\) \[1\] are listed more than once"):
        check_subjects(fake(n_subjects=3), [1, 2, 1.0])


def test_paradigm_refuses_a_repeated_subject(cache_dir):
    # Before: every trial of subject 1 came back twice.
    with pytest.raises(InvalidInputError, match="more than once"):
        nd.LeftRightImagery().get_data(fake(n_subjects=2), [1, 1])


def test_paradigm_accepts_a_float_subject(cache_dir):
    X, y, meta = nd.LeftRightImagery().get_data(fake(n_subjects=2), [2.0])
    X1, _, _ = nd.LeftRightImagery().get_data(fake(n_subjects=2), [2])
    assert meta["subject"].tolist() == [2] * len(y) and meta["subject"].dtype == np.int64
    np.testing.assert_array_equal(X, X1)


def test_offline_dataset_float_subject_reaches_the_file_check(tmp_path):
    # Before: 1.0 passed the check and failed later in a "{subject:03d}" format code.
    ds = get_dataset("PhysionetMI", data_root=tmp_path)
    with pytest.raises(DataNotFoundError, match="S001R04.edf"):
        ds.get_data([1.0])
