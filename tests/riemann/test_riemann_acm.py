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


def test_corr_with_a_flat_channel_names_it(signals):
    from neurodec.errors import InvalidDataError

    X = signals.copy()
    X[:, 2] = 3.7  # constant (a disconnected electrode)
    X[4, 0] = 0.0  # flat in one trial only
    with pytest.raises(InvalidDataError, match=r"channel\(s\) \[0, 2\].*trial\(s\) \[0, 1, 2") as info:
        covariances(X, "corr")
    assert "\n" not in str(info.value)
    # with an embedding the message names the input channels, not the embedded rows
    with pytest.raises(InvalidDataError, match=r"channel\(s\) \[0, 2\]"):
        augmented_covariances(X, 3, 4, "corr")
    # a channel flat only in a delayed block's window is still found
    Y = signals.copy()
    Y[:, 1, :20] = 1.0  # order 2, lag 50: the first block is samples 0-19
    with pytest.raises(InvalidDataError, match=r"channel\(s\) \[1\]"):
        augmented_covariances(Y, 2, 50, "corr")
    assert np.all(np.isfinite(augmented_covariances(Y, 2, 5, "corr")))
    for est in ("oas", "lwf", "scm", "cov"):  # only the correlation divides by the deviation
        assert np.all(np.isfinite(covariances(X, est)))


def test_estimator_with_corr_and_flat_channel(signals):
    from neurodec.errors import InvalidDataError
    from neurodec.riemann import AugmentedCovariances

    X = signals.copy()
    X[:, 1] = 0.0
    est = AugmentedCovariances(order=2, lag=3, estimator="corr").fit(X)
    with pytest.raises(InvalidDataError, match=r"channel\(s\) \[1\]"):
        est.transform(X)


def test_acm_too_large_for_memory_is_refused_before_allocating():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 64, 1002))  # 26 MB of input
    # order 1000 x 64 channels: 50 matrices of 64000 x 64000 (1.6 TB)
    with pytest.raises(InvalidInputError, match=r"needs .* GiB .* available.*lower the order") as info:
        augmented_covariances(X, 1000, 1, "oas")
    assert "order=1000" in str(info.value) and "64 channels" in str(info.value)
    assert "\n" not in str(info.value)


def test_memory_check_uses_available_memory(monkeypatch, signals):
    import neurodec.riemann.acm as acm

    monkeypatch.setattr(acm, "available_memory", lambda: 1000)
    with pytest.raises(InvalidInputError, match="available"):
        augmented_covariances(signals, 2, 3)
    monkeypatch.setattr(acm, "available_memory", lambda: 2**40)
    assert augmented_covariances(signals, 2, 3).shape == (12, 10, 10)
