"""Small synthetic signals for the riemann tests."""

from __future__ import annotations

import numpy as np
import pytest


def lagged_classes(
    n_trials: int = 40, n_channels: int = 4, n_times: int = 200, delay: int = 3, seed: int = 0
):
    """Two classes with the same spatial covariance but opposite time delays.

    Class "a": channel 1 follows channel 0 by ``delay`` samples; class "b": channel 0
    follows channel 1. Order-1 covariances cannot tell them apart; an ACM with a lag that
    reaches the delay can.
    """
    rng = np.random.default_rng(seed)
    src = rng.standard_normal((n_trials, n_times + delay))
    X = 0.5 * rng.standard_normal((n_trials, n_channels, n_times))
    y = np.array(["a", "b"] * (n_trials // 2))
    lead, follow = src[:, delay:], src[:, :n_times]
    X[y == "a", 0] += lead[y == "a"]
    X[y == "a", 1] += follow[y == "a"]
    X[y == "b", 1] += lead[y == "b"]
    X[y == "b", 0] += follow[y == "b"]
    return X, y


@pytest.fixture(scope="session")
def lagged():
    return lagged_classes()


@pytest.fixture(scope="session")
def signals():
    rng = np.random.default_rng(1)
    return rng.standard_normal((12, 5, 120))
