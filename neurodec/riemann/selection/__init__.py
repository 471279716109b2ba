"""Choosing the ACM order and lag: nested grid search, AMI + Cao/FNN, and a fast selector.

Three selectors, each a pure function of the training signals (and labels where
supervised), one module each; :func:`select_embedding` dispatches between them.

* ``"grid"`` (:mod:`~neurodec.riemann.selection.grid`) — the paper's nested search.
* ``"ami-fnn"`` (:mod:`~neurodec.riemann.selection.ami_fnn`) — the paper's
  unsupervised estimate: lag from the first minimum of the average mutual information,
  order from Cao's false-nearest-neighbour statistic.
* ``"fast"`` (:mod:`~neurodec.riemann.selection.fast`) — ours: every candidate's ACM
  assembled from lagged covariances computed once
  (:mod:`~neurodec.riemann.selection.toeplitz`), scored by a kernel ridge classifier on
  repeated inner folds, the lowest order within one standard error of the best kept.
"""

from __future__ import annotations

import numpy as np

from neurodec.errors import UnknownNameError
from neurodec.riemann.selection.ami_fnn import (
    average_mutual_information,
    cao_e1,
    first_local_minimum,
    select_ami_fnn,
)
from neurodec.riemann.selection.checks import DEFAULT_LAGS, DEFAULT_ORDERS, feasible
from neurodec.riemann.selection.fast import FAST_RULES, binary_auc, pick_candidate, select_fast
from neurodec.riemann.selection.grid import select_grid
from neurodec.riemann.selection.result import EmbeddingChoice
from neurodec.riemann.selection.toeplitz import lagged_covariances, toeplitz_acm, toeplitz_error

__all__ = [
    "METHODS",
    "FAST_RULES",
    "DEFAULT_ORDERS",
    "DEFAULT_LAGS",
    "EmbeddingChoice",
    "select_embedding",
    "select_grid",
    "select_ami_fnn",
    "select_fast",
    "pick_candidate",
    "binary_auc",
    "feasible",
    "lagged_covariances",
    "toeplitz_acm",
    "toeplitz_error",
    "average_mutual_information",
    "first_local_minimum",
    "cao_e1",
]

#: Selection methods :func:`select_embedding` knows.
METHODS: tuple[str, ...] = ("fast", "ami-fnn", "grid")


def select_embedding(X: np.ndarray, y=None, method: str = "fast", **options) -> tuple[int, int]:
    """Choose the ACM ``(order, lag)`` from training data.

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Training signals (never the test fold).
    y : array-like or None
        Training labels; required by ``"fast"`` and ``"grid"``, ignored by ``"ami-fnn"``.
    method : {"fast", "ami-fnn", "grid"}
        Selector, see the module docstring.
    **options
        Passed to :func:`select_fast`, :func:`select_ami_fnn` or :func:`select_grid`.

    Returns
    -------
    (order, lag) : tuple of int
    """
    return _select(X, y, method, **options).as_tuple()


def _select(X, y, method: str, **options) -> EmbeddingChoice:
    if method == "fast":
        return select_fast(X, y, **options)
    if method == "ami-fnn":
        return select_ami_fnn(X, **options)
    if method == "grid":
        return select_grid(X, y, **options)
    raise UnknownNameError(f"unknown selection method {method!r}; choose one of {', '.join(METHODS)}.")
