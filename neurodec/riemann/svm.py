"""The SVM step of the ACM pipelines, with the paper's C/kernel grid tuned by inner CV.

The paper's nested grid tunes the SVM's ``C`` and kernel *jointly* with the embedding,
refitting embedding, covariances and tangent space for each of its 600 candidates.
:class:`TunedSVC` tunes only the classifier, on the features it is given (the tangent
vectors of an embedding already chosen by a data-driven selector): 6 candidates on 3
inner folds, a few small SVC fits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from neurodec.errors import InvalidInputError, UnknownNameError
from neurodec.riemann.selection import binary_auc
from neurodec.versioning import VersionedStateMixin

__all__ = ["TunedSVC", "KERNELS"]

#: Kernels :class:`TunedSVC` can try (scikit-learn's SVC kernels without a custom callable).
KERNELS: tuple[str, ...] = ("rbf", "linear", "poly", "sigmoid")


def _check_grid(Cs: Sequence[float], kernels: Sequence[str]) -> list[tuple[float, str]]:
    Cs = [float(C) for C in Cs]
    kernels = [str(k) for k in kernels]
    if not Cs or min(Cs) <= 0 or not np.all(np.isfinite(Cs)):
        raise InvalidInputError(f"Cs must be a non-empty list of positive numbers, got {Cs}.")
    if not kernels:
        raise InvalidInputError("kernels must name at least one SVC kernel.")
    unknown = [k for k in kernels if k not in KERNELS]
    if unknown:
        raise UnknownNameError(f"unknown SVC kernel(s) {unknown}; choose among {', '.join(KERNELS)}.")
    return [(C, k) for C in Cs for k in kernels]


def _validated(estimator: TunedSVC, *args, **kwargs):
    """``validate_data(estimator, *args, **kwargs)``, its errors raised as
    :class:`InvalidInputError` (still a ``ValueError``; scikit-learn's message kept)."""
    try:
        return validate_data(estimator, *args, **kwargs)
    except ValueError as exc:
        raise InvalidInputError(
            f"{exc} TunedSVC expects a finite 2-D feature matrix (e.g. tangent vectors)."
        ) from exc


def _fold_score(svc: SVC, X: np.ndarray, y: np.ndarray) -> float:
    """ROC-AUC for two classes, accuracy otherwise."""
    if svc.classes_.size == 2:
        return binary_auc(y == svc.classes_[1], svc.decision_function(X))
    return float(np.mean(svc.predict(X) == y))


class TunedSVC(VersionedStateMixin, ClassifierMixin, BaseEstimator):
    """Support vector classifier whose ``C`` and kernel are picked by inner cross-validation.

    Parameters
    ----------
    Cs : sequence of float, default=(0.5, 1.0, 1.5)
        Candidate regularisation values (the paper's grid).
    kernels : sequence of str, default=("rbf", "linear")
        Candidate kernels (the paper's grid).
    cv : int, default=3
        Inner stratified folds (fewer when a class has fewer training samples; with fewer
        than 2 per class the first candidate is used without tuning).
    random_state : int or None, default=0
        Seed of the inner folds' shuffle.

    Attributes
    ----------
    C_, kernel_ : float, str
        The chosen setting (the first of the best-scoring candidates, in grid order).
    cv_scores_ : dict
        ``{(C, kernel): mean inner score}`` (ROC-AUC for two classes, else accuracy);
        empty when there were too few samples to tune.
    svc_ : sklearn.svm.SVC
        The SVC refitted on all training samples with the chosen setting.
    classes_ : ndarray
    n_features_in_ : int
    """

    def __init__(
        self,
        Cs: Sequence[float] = (0.5, 1.0, 1.5),
        kernels: Sequence[str] = ("rbf", "linear"),
        cv: int = 3,
        random_state: int | None = 0,
    ):
        self.Cs = Cs
        self.kernels = kernels
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y) -> TunedSVC:
        """Score every (C, kernel) on the inner folds, then refit the best on all of ``X``."""
        candidates = _check_grid(self.Cs, self.kernels)
        X, y = _validated(self, X, y)
        check_classification_targets(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        if self.classes_.size < 2:
            raise InvalidInputError("y holds one class only; a classifier needs at least two.")
        n_splits = int(min(self.cv, counts.min()))
        self.cv_scores_ = {}
        if n_splits >= 2 and len(candidates) > 1:
            splitter = StratifiedKFold(n_splits, shuffle=True, random_state=self.random_state)
            totals = np.zeros(len(candidates))
            for train, test in splitter.split(X, y):
                for i, (C, kernel) in enumerate(candidates):
                    svc = SVC(C=C, kernel=kernel).fit(X[train], y[train])
                    totals[i] += _fold_score(svc, X[test], y[test])
            self.cv_scores_ = {cand: float(t / n_splits) for cand, t in zip(candidates, totals)}
            self.C_, self.kernel_ = candidates[int(np.argmax(totals))]
        else:
            self.C_, self.kernel_ = candidates[0]
        self.svc_ = SVC(C=self.C_, kernel=self.kernel_).fit(X, y)
        return self

    def decision_function(self, X) -> np.ndarray:
        """Signed distance to the separating surface of the refitted SVC."""
        check_is_fitted(self, "svc_")
        X = _validated(self, X, reset=False)
        return self.svc_.decision_function(X)

    def predict(self, X) -> np.ndarray:
        """Predicted class labels."""
        check_is_fitted(self, "svc_")
        X = _validated(self, X, reset=False)
        return self.svc_.predict(X)
