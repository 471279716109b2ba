"""DecimatedEpochs: block means, shape, estimator contract, engine sharing."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import make_pipeline

from neurodec.errors import InvalidInputError
from neurodec.evaluation.features import split_stateless_head
from neurodec.features import DecimatedEpochs, decimate_epochs


def test_block_means_and_trailing_samples_dropped():
    X = np.arange(2 * 3 * 10, dtype=float).reshape(2, 3, 10)
    out = decimate_epochs(X, 4)
    assert out.shape == (2, 3, 2)
    np.testing.assert_allclose(out[0, 0], [1.5, 5.5])  # mean of 0..3 and 4..7; 8, 9 dropped
    np.testing.assert_allclose(decimate_epochs(X, 1), X)


def test_transform_flattens_channel_by_channel():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 4, 206))
    est = DecimatedEpochs(factor=8).fit(X)
    Z = est.transform(X)
    assert Z.shape == (5, 4 * 25)
    np.testing.assert_allclose(Z[:, :25], X[:, 0, :200].reshape(5, 25, 8).mean(-1))


@pytest.mark.parametrize(
    "factor, X, match",
    [
        (0, np.zeros((2, 2, 10)), "factor must be a positive int"),
        (2.5, np.zeros((2, 2, 10)), "factor must be a positive int"),
        (4, np.zeros((2, 10)), r"shape \(n_trials, n_channels, n_times\)"),
        (20, np.zeros((2, 2, 10)), "fewer than factor=20"),
        (2, np.full((2, 2, 10), np.nan), "NaN"),
    ],
)
def test_bad_input(factor, X, match):
    with pytest.raises(InvalidInputError, match=match):
        DecimatedEpochs(factor=factor).fit(X)


def test_shape_mismatch_after_fit():
    est = DecimatedEpochs(4).fit(np.zeros((2, 3, 16)))
    with pytest.raises(InvalidInputError, match="fitted on"):
        est.transform(np.zeros((2, 4, 16)))


def test_clone_pickle_and_engine_shares_it():
    pipe = make_pipeline(DecimatedEpochs(factor=4), LinearDiscriminantAnalysis())
    assert clone(pipe).get_params()["decimatedepochs__factor"] == 4
    X = np.random.default_rng(1).normal(size=(20, 2, 16))
    y = np.repeat([0, 1], 10)
    fitted = pickle.loads(pickle.dumps(pipe.fit(X, y)))
    np.testing.assert_array_equal(fitted.predict(X), pipe.predict(X))
    head, rest, key = split_stateless_head(pipe)
    assert [n for n, _ in head] == ["decimatedepochs"] and key is not None
