"""scikit-learn contract of the riemann estimators: checks, clone, pickle, mne.Epochs."""

from __future__ import annotations

import pickle

import mne
import numpy as np
import pytest
from pyriemann.tangentspace import TangentSpace
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_repr,
    check_estimators_unfitted,
    check_get_params_invariance,
    check_mixin_order,
    check_no_attributes_set_in_init,
    check_set_params,
    check_valid_tag_types,
    parametrize_with_checks,
)

from neurodec.errors import InvalidInputError, UnknownNameError
from neurodec.riemann import AugmentedCovariances, Recentering, augmented_covariances


# AugmentedCovariances runs every scikit-learn check: a 2-D array is read as single-channel
# trials (n_trials, n_times). The checks feed 2-10 "features" (samples per trial), so the
# instances use embeddings that fit in that; order > 1 with fixed lags is covered below.
@parametrize_with_checks(
    [
        AugmentedCovariances(order=1, lag=1),
        AugmentedCovariances(order="auto", lag="auto", selection="fast", orders=[1, 2], lags=[1, 2]),
        AugmentedCovariances(order="auto", lag="auto", selection="ami-fnn", orders=[1, 2], lags=[1, 2]),
    ]
)
def test_sklearn_checks(estimator, check):
    check(estimator)


# Recentering takes SPD matrices (n, C, C); none of scikit-learn's data-generating checks
# can produce those (its tags declare three_d_array and not two_d_array, so
# parametrize_with_checks would skip it). The API checks that need no data run here;
# fitting, transforming, cloning and pickling are tested with SPD data below.
@pytest.mark.parametrize(
    "check",
    [
        check_estimator_repr,
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_set_params,
        check_do_not_raise_errors_in_init_or_set_params,
        check_mixin_order,
        check_valid_tag_types,
        check_estimators_unfitted,
    ],
)
def test_recentering_api_checks(check):
    check("Recentering", Recentering())


def _epochs(X, sfreq=100.0):
    info = mne.create_info([f"EEG{i}" for i in range(X.shape[1])], sfreq, "eeg")
    return mne.EpochsArray(X, info, verbose="ERROR")


@pytest.mark.parametrize(
    "est",
    [
        AugmentedCovariances(order=3, lag=2),
        AugmentedCovariances(order="auto", lag="auto", orders=[1, 2], lags=[1, 3]),
    ],
)
def test_clone_set_params_pickle(lagged, est):
    X, y = lagged
    fitted = clone(est).fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.transform(X[:3]), fitted.transform(X[:3]))
    changed = clone(est).set_params(estimator="lwf")
    assert changed.get_params()["estimator"] == "lwf" and est.get_params()["estimator"] == "oas"


def test_fixed_embedding_transform_shape_and_values(lagged):
    X, _ = lagged
    out = AugmentedCovariances(order=4, lag=5).fit_transform(X)
    assert out.shape == (len(X), 16, 16)
    np.testing.assert_allclose(out, augmented_covariances(X, 4, 5, "oas"))


def test_accepts_mne_epochs(lagged):
    X, y = lagged
    est = AugmentedCovariances(order=2, lag=3)
    np.testing.assert_allclose(est.fit_transform(_epochs(X), y), est.fit_transform(X, y))


def test_auto_selects_on_training_data_only(lagged):
    X, y = lagged
    est = AugmentedCovariances(order="auto", lag="auto", orders=[1, 2, 3], lags=[1, 2, 3, 4, 5, 6])
    est.fit(X, y)
    assert est.order_ >= 2 and est.selection_ is not None
    pipe = make_pipeline(est, TangentSpace(), LogisticRegression())
    scores = cross_val_score(pipe, X, y, cv=3, scoring="roc_auc")
    base = cross_val_score(
        make_pipeline(AugmentedCovariances(1, 1), TangentSpace(), LogisticRegression()),
        X,
        y,
        cv=3,
        scoring="roc_auc",
    )
    assert scores.mean() > base.mean() + 0.2


def test_partial_auto_keeps_the_fixed_value(lagged):
    X, y = lagged
    est = AugmentedCovariances(order=2, lag="auto", lags=[1, 3, 5]).fit(X, y)
    assert est.order_ == 2 and est.lag_ in (1, 3, 5)


def test_estimator_errors(lagged):
    X, y = lagged
    with pytest.raises(UnknownNameError, match="oas"):
        AugmentedCovariances(estimator="nope").fit(X)
    with pytest.raises(UnknownNameError, match="ami-fnn"):
        AugmentedCovariances(order="auto", selection="nope").fit(X, y)
    with pytest.raises(InvalidInputError, match="positive integer or 'auto'"):
        AugmentedCovariances(order="four").fit(X)
    with pytest.raises(InvalidInputError, match="smaller order or lag"):
        AugmentedCovariances(order=50, lag=10).fit(X)
    with pytest.raises(InvalidInputError, match="supervised"):
        AugmentedCovariances(order="auto", lag="auto").fit(X)
    with pytest.raises(InvalidInputError, match="expecting 4 features"):
        AugmentedCovariances(order=2, lag=1).fit(X).transform(X[:, :3])
    with pytest.raises(InvalidInputError, match="Reshape"):
        AugmentedCovariances(order=2, lag=1).fit(X[..., None])
