"""ACM arrays: exact to MOABB's AugmentedDataset + pyRiemann's Covariances, SPD, errors."""

from __future__ import annotations

import numpy as np
import pytest
from moabb.pipelines.features import AugmentedDataset
from pyriemann.estimation import Covariances

from neurodec.errors import InvalidInputError, UnknownNameError
from neurodec.riemann import augmented_covariances, covariances, embed
from neurodec.riemann.acm import ESTIMATORS


@pytest.mark.parametrize("order,lag", [(1, 1), (1, 7), (2, 1), (4, 5), (3, 10)])
def test_embed_matches_moabb(signals, order, lag):
    ours = embed(signals, order, lag)
    ref = AugmentedDataset(order=order, lag=lag).transform(signals)
    np.testing.assert_array_equal(ours, ref)


def test_embed_blocks_follow_the_definition(signals):
    order, lag = 3, 4
    T = signals.shape[-1]
    C = signals.shape[1]
    out = embed(signals, order, lag)
    for p in range(order):
        np.testing.assert_array_equal(
            out[:, p * C : (p + 1) * C], signals[:, :, p * lag : T - (order - p) * lag]
        )


@pytest.mark.parametrize("estimator", ESTIMATORS)
@pytest.mark.parametrize("order,lag", [(1, 1), (4, 5)])
def test_acm_matches_moabb_and_pyriemann(signals, estimator, order, lag):
    ours = augmented_covariances(signals, order, lag, estimator)
    ref = Covariances(estimator=estimator).transform(AugmentedDataset(order, lag).transform(signals))
    assert ours.shape == (len(signals), order * signals.shape[1], order * signals.shape[1])
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("estimator", ["oas", "lwf"])
def test_shrinkage_is_spd_when_rank_deficient(estimator):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 16, 40))  # order 4 -> 64 dims from 20 samples
    covs = augmented_covariances(X, 4, 5, estimator)
    assert np.linalg.eigvalsh(covs).min() > 0
    assert np.linalg.eigvalsh(augmented_covariances(X, 4, 5, "cov")).min() < 1e-8


def test_unknown_estimator_lists_names(signals):
    with pytest.raises(UnknownNameError, match="oas"):
        covariances(signals, "bogus")


@pytest.mark.parametrize("order,lag", [(0, 1), (2, 0), (2.5, 1), (True, 1), (30, 5)])
def test_bad_order_or_lag(signals, order, lag):
    with pytest.raises(InvalidInputError):
        augmented_covariances(signals, order, lag)
