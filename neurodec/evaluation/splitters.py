"""Evaluation protocols as cross-validation splitters over the metadata table.

Every splitter follows scikit-learn's CV-splitter API with the metadata
DataFrame (columns ``subject``, ``session``) in place of ``groups``:
``split(X, y, metadata)`` yields ``(train, test)`` arrays of *positions*
(0..n-1) and ``get_n_splits(X, y, metadata)`` counts them. The folds are the
ones MOABB 1.7 builds for the same ``random_state`` (tested), and they depend
only on the metadata, the labels and the seed: every pipeline sees the same
folds.

Each yielded fold also has a descriptor (:meth:`BaseSplitter.iter_folds`)
naming its subject, session and fold number, which the engine uses as the key
of a results row.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold, LeaveOneGroupOut, StratifiedKFold

from neurodec.errors import InvalidInputError

__all__ = [
    "Fold",
    "WithinSessionSplitter",
    "CrossSessionSplitter",
    "CrossSubjectSplitter",
    "CalibratedCrossSubjectSplitter",
    "LeaveOneRunOutSplitter",
]


@dataclass(frozen=True)
class Fold:
    """One train/test split with what it stands for.

    Attributes
    ----------
    train, test : ndarray of int
        Positions into ``X``/``y``/``metadata``.
    subject : int
        The test subject.
    session : str
        The test session, or ``""`` when the test set spans sessions (scores
        are then reported per session).
    fold : int
        Fold number within the (subject, session) group for within-session;
        the running fold number otherwise.
    """

    train: np.ndarray
    test: np.ndarray
    subject: int
    session: str
    fold: int
    calibration: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))


def _check_metadata(metadata: pd.DataFrame, y: np.ndarray | None) -> None:
    if not isinstance(metadata, pd.DataFrame):
        raise InvalidInputError(
            "metadata must be the pandas DataFrame returned by paradigm.get_data "
            f"(columns subject, session), got {type(metadata).__name__}"
        )
    missing = {"subject", "session"} - set(metadata.columns)
    if missing:
        raise InvalidInputError(
            f"metadata lacks the column(s) {sorted(missing)}; pass the DataFrame "
            "returned by paradigm.get_data"
        )
    if y is not None and len(y) != len(metadata):
        raise InvalidInputError(
            f"y has {len(y)} labels but metadata has {len(metadata)} rows; they must match"
        )


class BaseSplitter:
    """Shared plumbing: ``split`` and ``get_n_splits`` from :meth:`iter_folds`."""

    def iter_folds(self, y: np.ndarray, metadata: pd.DataFrame) -> Iterator[Fold]:
        """Yield :class:`Fold` objects (override)."""
        raise NotImplementedError

    def split(self, X=None, y=None, metadata: pd.DataFrame | None = None):
        """Yield ``(train, test)`` position arrays, as scikit-learn splitters do."""
        if metadata is None:
            raise InvalidInputError("split needs the metadata DataFrame (third argument)")
        y = np.asarray(y) if y is not None else np.zeros(len(metadata))
        for fold in self.iter_folds(y, metadata):
            yield fold.train, fold.test

    def get_n_splits(self, X=None, y=None, metadata: pd.DataFrame | None = None) -> int:
        """Number of folds :meth:`split` yields for this metadata."""
        if metadata is None:
            raise InvalidInputError("get_n_splits needs the metadata DataFrame")
        y = np.asarray(y) if y is not None else np.zeros(len(metadata))
        return sum(1 for _ in self.iter_folds(y, metadata))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({params})"


class WithinSessionSplitter(BaseSplitter):
    """Stratified k-fold inside each (subject, session).

    Parameters
    ----------
    n_folds : int
        Folds per session (MOABB: 5).
    random_state : int | None
        Seed of the shuffle; each session gets a fresh generator from it, so a
        session's folds do not depend on the other sessions.
    """

    def __init__(self, n_folds: int = 5, random_state: int | None = None) -> None:
        self.n_folds = n_folds
        self.random_state = random_state

    def iter_folds(self, y: np.ndarray, metadata: pd.DataFrame) -> Iterator[Fold]:
        _check_metadata(metadata, y)
        y = np.asarray(y)
        subjects = metadata["subject"].to_numpy()
        sessions = metadata["session"].astype(str).to_numpy()
        for subject in pd.unique(subjects):
            in_subject = subjects == subject
            for session in pd.unique(sessions[in_subject]):
                positions = np.flatnonzero(in_subject & (sessions == session))
                cv = StratifiedKFold(self.n_folds, shuffle=True, random_state=self.random_state)
                for k, (tr, te) in enumerate(cv.split(positions, y[positions])):
                    yield Fold(positions[tr], positions[te], int(subject), str(session), k)


class CrossSessionSplitter(BaseSplitter):
    """Leave one session out, per subject (subjects with one session are skipped)."""

    def iter_folds(self, y: np.ndarray, metadata: pd.DataFrame) -> Iterator[Fold]:
        _check_metadata(metadata, y)
        subjects = metadata["subject"].to_numpy()
        sessions = metadata["session"].astype(str).to_numpy()
        for subject in pd.unique(subjects):
            positions = np.flatnonzero(subjects == subject)
            groups = sessions[positions]
            if len(np.unique(groups)) < 2:
                continue
            for k, (tr, te) in enumerate(LeaveOneGroupOut().split(positions, groups=groups)):
                yield Fold(positions[tr], positions[te], int(subject), str(groups[te][0]), k)


class CrossSubjectSplitter(BaseSplitter):
    """Leave one subject out, or group k-fold over subjects.

    Parameters
    ----------
    n_splits : int | None
        ``None``: leave one subject out (MOABB's default). An int: scikit-learn
        ``GroupKFold(n_splits)`` over subjects (a fold then tests several
        subjects; the engine scores each subject-session separately).
    """

    def __init__(self, n_splits: int | None = None) -> None:
        self.n_splits = n_splits

    def _outer(self):
        return LeaveOneGroupOut() if self.n_splits is None else GroupKFold(self.n_splits)

    def iter_folds(self, y: np.ndarray, metadata: pd.DataFrame) -> Iterator[Fold]:
        _check_metadata(metadata, y)
        subjects = metadata["subject"].to_numpy()
        if len(np.unique(subjects)) < 2:
            raise InvalidInputError(
                f"cross-subject evaluation needs at least 2 subjects; got {len(np.unique(subjects))}"
            )
        positions = np.arange(len(metadata))
        for k, (tr, te) in enumerate(self._outer().split(positions, groups=subjects)):
            test_subjects = np.unique(subjects[te])
            subject = int(test_subjects[0]) if len(test_subjects) == 1 else -1
            yield Fold(tr, te, subject, "", k)


class CalibratedCrossSubjectSplitter(CrossSubjectSplitter):
    """Cross-subject with target calibration: a few labelled trials of each test
    subject-session move to the training set.

    Parameters
    ----------
    n_calibration : int | float
        Trials per test subject-session moved to training: an int count, or a
        fraction in (0, 1) of that session's trials (at least 1, at most all
        but one). Taken per class in turn, in a shuffled order set by
        ``random_state``, so the calibration set is balanced.
    n_splits : int | None
        As in :class:`CrossSubjectSplitter`.
    random_state : int | None
        Seed of the calibration draw.
    """

    def __init__(
        self,
        n_calibration: int | float = 10,
        n_splits: int | None = None,
        random_state: int | None = None,
    ) -> None:
        super().__init__(n_splits=n_splits)
        self.n_calibration = n_calibration
        self.random_state = random_state

    def _count(self, n: int) -> int:
        c = self.n_calibration
        if isinstance(c, float) and 0 < c < 1:
            k = int(np.floor(c * n))
        elif isinstance(c, (int, np.integer)) and c >= 1:
            k = int(c)
        else:
            raise InvalidInputError(f"n_calibration must be a count >= 1 or a fraction in (0, 1), got {c!r}")
        return min(max(k, 1), n - 1)

    def iter_folds(self, y: np.ndarray, metadata: pd.DataFrame) -> Iterator[Fold]:
        y = np.asarray(y)
        sessions = metadata["session"].astype(str).to_numpy()
        subjects = metadata["subject"].to_numpy()
        for base in super().iter_folds(y, metadata):
            rng = np.random.RandomState(self.random_state)
            calib = []
            for subject in pd.unique(subjects[base.test]):
                for session in pd.unique(sessions[base.test][subjects[base.test] == subject]):
                    pos = base.test[(subjects[base.test] == subject) & (sessions[base.test] == session)]
                    pos = pos[rng.permutation(len(pos))]
                    k = self._count(len(pos))
                    # interleave classes so the first k trials are balanced
                    labels = y[pos]
                    rank = np.empty(len(pos), dtype=int)
                    for lab in np.unique(labels):
                        idx = np.flatnonzero(labels == lab)
                        rank[idx] = np.arange(len(idx))
                    order = np.lexsort((np.arange(len(pos)), rank))
                    calib.append(pos[order[:k]])
            calib_idx = np.sort(np.concatenate(calib)) if calib else np.empty(0, dtype=int)
            test = np.setdiff1d(base.test, calib_idx)
            train = np.sort(np.concatenate([base.train, calib_idx]))
            yield Fold(train, test, base.subject, base.session, base.fold, calib_idx)


class LeaveOneRunOutSplitter(BaseSplitter):
    """Leave one run out inside each (subject, session); a session recorded as a single
    run is tested on a model trained on the subject's other sessions.

    The metadata needs a ``run`` column (what neurodec's and MOABB's paradigms give).
    Folds whose training or test trials hold a single class are skipped (nothing to
    learn or score). ``fold`` is the run's rank in its session, in recording order.
    Used by the pseudo-online evaluation, which replays each held-out run as a stream.
    """

    def iter_folds(self, y: np.ndarray, metadata: pd.DataFrame) -> Iterator[Fold]:
        _check_metadata(metadata, y)
        if "run" not in metadata.columns:
            raise InvalidInputError(
                "leave-one-run-out needs a 'run' metadata column; pass the DataFrame returned by "
                "paradigm.get_data"
            )
        y = np.asarray(y)
        subjects = metadata["subject"].to_numpy()
        sessions = metadata["session"].astype(str).to_numpy()
        runs = metadata["run"].astype(str).to_numpy()
        for subject in pd.unique(subjects):
            in_subject = subjects == subject
            for session in pd.unique(sessions[in_subject]):
                same = in_subject & (sessions == session)
                for k, run in enumerate(pd.unique(runs[same])):
                    test = same & (runs == run)
                    train = same & ~test
                    if not train.any():
                        train = in_subject & ~same
                    if len(np.unique(y[train])) < 2 or len(np.unique(y[test])) < 2:
                        continue
                    yield Fold(np.flatnonzero(train), np.flatnonzero(test), int(subject), str(session), k)
