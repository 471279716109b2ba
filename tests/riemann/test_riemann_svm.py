"""TunedSVC: the ACM pipelines' SVM step with C/kernel chosen by inner CV."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from neurodec.errors import InvalidInputError, UnknownNameError
from neurodec.riemann import TunedSVC
from neurodec.riemann.selection import binary_auc


@parametrize_with_checks([TunedSVC(), TunedSVC(Cs=[1.0], kernels=["linear"], cv=2)])
def test_sklearn_checks(estimator, check):
    check(estimator)


def _linear_problem(seed=0, n=60, d=20):
    """Classes separated along one direction, with many noise dimensions: the linear kernel
    generalises better than the RBF kernel at default gamma."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    X = rng.standard_normal((n, d)) * 3.0
    X[:, 0] += np.where(y == 1, 1.5, -1.5)
    return X, y


def test_tuning_matches_a_hand_made_grid_search():
    X, y = _linear_problem()
    model = TunedSVC(random_state=3).fit(X, y)
    # the same candidates and folds, by hand
    expected = {}
    for C in (0.5, 1.0, 1.5):
        for kernel in ("rbf", "linear"):
            scores = []
            for tr, te in StratifiedKFold(3, shuffle=True, random_state=3).split(X, y):
                svc = SVC(C=C, kernel=kernel).fit(X[tr], y[tr])
                scores.append(binary_auc(y[te] == 1, svc.decision_function(X[te])))
            expected[(C, kernel)] = np.mean(scores)
    assert model.cv_scores_ == pytest.approx(expected)
    best = max(expected.values())
    assert expected[(model.C_, model.kernel_)] == best
    assert model.kernel_ == "linear"  # the noise dimensions hurt the RBF kernel here
    refit = SVC(C=model.C_, kernel=model.kernel_).fit(X, y)
    np.testing.assert_allclose(model.decision_function(X), refit.decision_function(X))


def test_multiclass_scores_accuracy_and_clone_pickle():
    rng = np.random.default_rng(1)
    y = np.repeat(["a", "b", "c"], 15)
    X = rng.standard_normal((45, 4)) + (np.unique(y, return_inverse=True)[1][:, None] * 2.0)
    model = TunedSVC(kernels=["linear"]).fit(X, y)
    assert set(model.predict(X)) <= {"a", "b", "c"}
    assert all(0 <= s <= 1 for s in model.cv_scores_.values())
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    assert clone(model).get_params() == model.get_params()


def test_too_few_samples_uses_the_first_candidate():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0, 0, 1, 2])  # classes 1 and 2 have one sample: no inner folds
    model = TunedSVC(Cs=[0.5, 1.0], kernels=["linear"]).fit(X, y)
    assert (model.C_, model.kernel_) == (0.5, "linear") and model.cv_scores_ == {}


def test_bad_parameters_and_input():
    X, y = _linear_problem()
    with pytest.raises(InvalidInputError, match="Cs"):
        TunedSVC(Cs=[0.0]).fit(X, y)
    with pytest.raises(UnknownNameError, match="kernel"):
        TunedSVC(kernels=["gaussian"]).fit(X, y)
    with pytest.raises(InvalidInputError, match="one class"):
        TunedSVC().fit(X, np.zeros(len(X)))
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        TunedSVC().fit(bad, y)
    with pytest.raises(InvalidInputError, match="features"):
        TunedSVC().fit(X, y).predict(X[:, :5])
