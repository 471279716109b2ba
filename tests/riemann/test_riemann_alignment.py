"""Per-domain re-centering: each domain's mean becomes the identity, no labels used."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from pyriemann.geometry.mean import mean_riemann
from sklearn.base import clone

from neurodec.errors import InvalidInputError, UnknownNameError
from neurodec.riemann import Recentering, augmented_covariances, recenter
from neurodec.riemann.alignment import domain_mean


@pytest.fixture(scope="module")
def two_domains():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4, 100))
    covs = augmented_covariances(X, 1, 1, "oas")
    A = rng.standard_normal((4, 4)) + 3 * np.eye(4)  # a domain shift
    covs[15:] = A @ covs[15:] @ A.T
    return covs, np.repeat(["s1", "s2"], 15)


@pytest.mark.parametrize("metric", ["riemann", "logeuclid", "euclid"])
def test_each_domain_mean_is_identity(two_domains, metric):
    covs, domains = two_domains
    out = recenter(covs, domains, metric)
    # the log-Euclidean mean is not affine-invariant: identity only up to small terms
    atol = 1e-2 if metric == "logeuclid" else 1e-6
    for d in ("s1", "s2"):
        np.testing.assert_allclose(domain_mean(out[domains == d], metric), np.eye(4), atol=atol)


def test_batch_without_domains_is_one_domain(two_domains):
    covs, _ = two_domains
    out = recenter(covs)
    np.testing.assert_allclose(mean_riemann(out), np.eye(4), atol=1e-6)


def test_transformer_uses_each_batch_domain_own_mean(two_domains):
    covs, domains = two_domains
    est = Recentering().fit(covs[:15], domains=domains[:15])
    assert Recentering.requires_domains is True
    assert set(est.means_) == {"s1"}
    test = est.transform(covs[15:])  # an unseen domain, no labels, no domains: one domain
    np.testing.assert_allclose(mean_riemann(test), np.eye(4), atol=1e-6)
    np.testing.assert_allclose(est.fit_transform(covs, None, domains=domains), recenter(covs, domains))
    again = pickle.loads(pickle.dumps(clone(est).set_params(metric="logeuclid").fit(covs)))
    assert again.metric == "logeuclid"


def test_recentering_reduces_domain_shift(two_domains):
    covs, domains = two_domains
    before = np.linalg.norm(mean_riemann(covs[:15]) - mean_riemann(covs[15:]))
    out = recenter(covs, domains)
    after = np.linalg.norm(mean_riemann(out[:15]) - mean_riemann(out[15:]))
    assert after < 1e-5 < before


def test_recentering_errors(two_domains):
    covs, domains = two_domains
    with pytest.raises(InvalidInputError, match="covariance step"):
        Recentering().fit(np.ones((3, 4, 5)))
    with pytest.raises(InvalidInputError, match="positive definite"):
        recenter(-covs)
    with pytest.raises(InvalidInputError, match="symmetric"):
        bad = covs.copy()
        bad[0, 0, 1] += 1.0
        recenter(bad)
    with pytest.raises(InvalidInputError, match="one domain id per trial"):
        recenter(covs, domains[:3])
    with pytest.raises(UnknownNameError, match="riemann"):
        Recentering(metric="median").fit(covs)
    with pytest.raises(InvalidInputError, match="fitted on 4x4"):
        Recentering().fit(covs).transform(np.tile(np.eye(3), (2, 1, 1)))
