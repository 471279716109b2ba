"""Protocol splitters: same folds as MOABB's, deterministic, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from moabb.evaluations.splitters import CrossSessionSplitter as MCross
from moabb.evaluations.splitters import CrossSubjectSplitter as MSubj
from moabb.evaluations.splitters import WithinSessionSplitter as MWithin

from neurodec.errors import InvalidInputError
from neurodec.evaluation import (
    CalibratedCrossSubjectSplitter,
    CrossSessionSplitter,
    CrossSubjectSplitter,
    WithinSessionSplitter,
)


def _as_set(folds):
    return {(tuple(np.sort(tr)), tuple(np.sort(te))) for tr, te in folds}


@pytest.mark.parametrize("seed", [0, 42])
def test_within_session_folds_equal_moabb(metadata, seed):
    meta, y = metadata
    ours = list(WithinSessionSplitter(5, seed).split(None, y, meta))
    theirs = list(MWithin(n_folds=5, shuffle=True, random_state=seed).split(y, meta))
    assert len(ours) == 30 == WithinSessionSplitter(5, seed).get_n_splits(None, y, meta)
    assert _as_set(ours) == _as_set(theirs)


def test_within_session_same_seed_same_folds_other_seed_differs(metadata):
    meta, y = metadata
    a = list(WithinSessionSplitter(5, 1).split(None, y, meta))
    b = list(WithinSessionSplitter(5, 1).split(None, y, meta))
    c = list(WithinSessionSplitter(5, 2).split(None, y, meta))
    assert _as_set(a) == _as_set(b)
    assert _as_set(a) != _as_set(c)
    for tr, te in a:  # stratified, inside one session, disjoint
        assert len(np.intersect1d(tr, te)) == 0
        assert meta.iloc[np.r_[tr, te]].groupby(["subject", "session"]).ngroups == 1
        assert set(y[te]) == {"left_hand", "right_hand"}


def test_cross_session_folds_equal_moabb(metadata):
    meta, y = metadata
    ours = list(CrossSessionSplitter().split(None, y, meta))
    theirs = list(MCross().split(y, meta))
    assert len(ours) == 6
    assert _as_set(ours) == _as_set(theirs)


def test_cross_session_skips_single_session_subjects(metadata):
    meta, y = metadata
    keep = ~((meta.subject == 3) & (meta.session == "1"))
    folds = list(CrossSessionSplitter().iter_folds(y[keep.to_numpy()], meta[keep].reset_index(drop=True)))
    assert {f.subject for f in folds} == {1, 2}


def test_cross_subject_folds_equal_moabb(metadata):
    meta, y = metadata
    ours = list(CrossSubjectSplitter().split(None, y, meta))
    theirs = list(MSubj().split(y, meta))
    assert len(ours) == 3
    assert _as_set(ours) == _as_set(theirs)
    two = list(CrossSubjectSplitter(n_splits=2).iter_folds(y, meta))
    assert len(two) == 2 and all(f.subject in (-1, 1, 2, 3) for f in two)


def test_calibrated_cross_subject_moves_labelled_target_trials(metadata):
    meta, y = metadata
    folds = list(CalibratedCrossSubjectSplitter(n_calibration=4, random_state=0).iter_folds(y, meta))
    assert len(folds) == 3
    for f in folds:
        target = meta.subject.to_numpy() == f.subject
        assert len(f.calibration) == 8  # 4 per test session x 2 sessions
        assert target[f.calibration].all() and target[f.test].all()
        assert np.isin(f.calibration, f.train).all()
        assert len(np.intersect1d(f.train, f.test)) == 0
        assert (y[f.calibration] == "left_hand").sum() == 4  # balanced
    again = list(CalibratedCrossSubjectSplitter(n_calibration=4, random_state=0).iter_folds(y, meta))
    assert all(np.array_equal(a.calibration, b.calibration) for a, b in zip(folds, again))


def test_splitters_reject_bad_metadata(metadata):
    meta, y = metadata
    with pytest.raises(InvalidInputError, match="session"):
        list(WithinSessionSplitter().split(None, y, meta.drop(columns="session")))
    with pytest.raises(InvalidInputError, match="DataFrame"):
        list(CrossSessionSplitter().split(None, y, meta.to_numpy()))
    with pytest.raises(InvalidInputError, match="labels"):
        list(CrossSessionSplitter().split(None, y[:5], meta))
    with pytest.raises(InvalidInputError, match="2 subjects"):
        list(CrossSubjectSplitter().split(None, y[:40], meta.iloc[:40]))
    with pytest.raises(InvalidInputError, match="n_calibration"):
        list(CalibratedCrossSubjectSplitter(n_calibration=0).split(None, y, meta))


def test_leave_one_run_out_within_the_session_else_across_sessions():
    import pandas as pd

    from neurodec.evaluation import LeaveOneRunOutSplitter

    meta = pd.DataFrame(
        {
            "subject": [1] * 10 + [2] * 4,
            "session": ["0"] * 6 + ["1"] * 4 + ["0"] * 4,
            "run": ["b", "b", "a", "a", "c", "c", "d", "d", "d", "d", "x", "x", "y", "y"],
        }
    )
    y = np.array(["l", "r"] * 5 + ["l", "r", "l", "l"])
    folds = list(LeaveOneRunOutSplitter().iter_folds(y, meta))
    got = [(f.subject, f.session, f.fold, f.test.tolist(), f.train.tolist()) for f in folds]
    assert got == [
        (1, "0", 0, [0, 1], [2, 3, 4, 5]),  # runs in recording order, the others of the session train
        (1, "0", 1, [2, 3], [0, 1, 4, 5]),
        (1, "0", 2, [4, 5], [0, 1, 2, 3]),
        (1, "1", 0, [6, 7, 8, 9], [0, 1, 2, 3, 4, 5]),  # a one-run session: the other sessions train
        # subject 2: testing x trains on y (one class), testing y scores one class: both skipped
    ]
    with pytest.raises(InvalidInputError, match="'run' metadata column"):
        next(LeaveOneRunOutSplitter().iter_folds(y, meta.drop(columns="run")))
