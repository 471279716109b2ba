"""Running (recursive) means of SPD matrices, for re-centering a stream as it comes.

A mean ``M`` is moved towards each new matrix ``C`` along the geodesic of the chosen
metric by a weight ``w``: ``M <- M #_w C``. With ``w_k = 1 / k`` (no prior, no
forgetting) the affine-invariant recursion converges to the batch Riemannian (Karcher)
mean of a stationary stream (Ho, Cheng, Salehian, Vemuri, "Recursive Karcher expectation
estimators and geometric law of large numbers", AISTATS 2013); for ``"logeuclid"`` and
``"euclid"`` it *is* the batch mean of what was seen. A floor on ``w`` (``memory``: the
effective number of matrices remembered) forgets old matrices exponentially so the mean
follows a drifting session; a prior mean counted as ``prior_weight`` matrices starts the
stream from a reference (e.g. the training sessions') instead of from its first matrix.

Everything here is a pure function on arrays; the state is ``(mean, n_seen)``.
"""

from __future__ import annotations

import numpy as np

from neurodec.errors import InvalidInputError, UnknownNameError
from neurodec.riemann.alignment import MEANS

__all__ = ["spd_mask", "update_weights", "geodesic_step", "running_means", "whiten"]


def _eig_apply(covs: np.ndarray, func) -> np.ndarray:
    w, v = np.linalg.eigh(covs)
    return (v * func(w)[..., None, :]) @ np.swapaxes(v, -1, -2)


def _check_metric(metric: str) -> None:
    if metric not in MEANS:
        raise UnknownNameError(f"unknown mean {metric!r}; choose one of {', '.join(MEANS)}.")


def spd_mask(covs: np.ndarray, rtol: float = 1e-10) -> np.ndarray:
    """Which matrices of ``covs`` (n, C, C) are finite, symmetric and positive definite.

    A matrix whose smallest eigenvalue is at most ``rtol`` times its largest counts as
    singular (not positive definite): a flat or zeroed window gives one.
    """
    covs = np.asarray(covs, dtype=np.float64)
    if covs.ndim != 3 or covs.shape[1] != covs.shape[2]:
        raise InvalidInputError(f"expected matrices of shape (n, C, C), got {covs.shape}")
    ok = np.isfinite(covs).all(axis=(1, 2))
    if not ok.any():
        return ok
    sub = covs[ok]
    scale = np.abs(sub).max(axis=(1, 2))
    sym = np.abs(sub - np.swapaxes(sub, 1, 2)).max(axis=(1, 2)) <= 1e-10 * np.maximum(scale, 1e-300)
    w = np.linalg.eigvalsh(0.5 * (sub + np.swapaxes(sub, 1, 2)))
    pd = (w[:, 0] > rtol * np.maximum(w[:, -1], 0)) & (w[:, -1] > 0)
    ok[np.flatnonzero(ok)] = sym & pd
    return ok


def update_weights(
    n_seen: int, n_new: int, *, prior_weight: float = 0.0, memory: float | None = None
) -> np.ndarray:
    """Geodesic step of each of ``n_new`` matrices arriving after ``n_seen``.

    ``w_k = max(1 / (prior_weight + n_seen + k), 1 / memory)`` for ``k = 1..n_new``:
    the running mean of everything seen (with the prior counted as ``prior_weight``
    matrices) until it holds ``memory`` matrices, an exponential forgetting with time
    constant ``memory`` matrices afterwards.
    """
    if prior_weight < 0 or not np.isfinite(prior_weight):
        raise InvalidInputError(f"prior_weight must be a number >= 0, got {prior_weight!r}")
    if memory is not None and (not np.isfinite(memory) or memory < 1):
        raise InvalidInputError(f"memory must be a number of windows >= 1 or None, got {memory!r}")
    k = np.arange(1, int(n_new) + 1, dtype=np.float64)
    w = 1.0 / (float(prior_weight) + int(n_seen) + k)
    if memory is not None:
        w = np.maximum(w, 1.0 / float(memory))
    return np.minimum(w, 1.0)


def geodesic_step(mean: np.ndarray, cov: np.ndarray, weight: float, metric: str = "riemann") -> np.ndarray:
    """The point a fraction ``weight`` of the way from ``mean`` to ``cov`` on the
    geodesic of ``metric`` (``mean`` at 0, ``cov`` at 1)."""
    _check_metric(metric)
    if metric == "euclid":
        return (1.0 - weight) * mean + weight * cov
    if metric == "logeuclid":
        return _eig_apply(
            (1.0 - weight) * _eig_apply(mean, np.log) + weight * _eig_apply(cov, np.log), np.exp
        )
    w, v = np.linalg.eigh(mean)
    sqrt = (v * np.sqrt(w)) @ v.T
    isqrt = (v * (1.0 / np.sqrt(w))) @ v.T
    inner = isqrt @ cov @ isqrt
    inner = 0.5 * (inner + inner.T)
    out = sqrt @ _eig_apply(inner, lambda e: e**weight) @ sqrt
    return 0.5 * (out + out.T)


def running_means(
    mean: np.ndarray | None, covs: np.ndarray, weights: np.ndarray, metric: str = "riemann"
) -> np.ndarray:
    """The running mean after each of ``covs``.

    Parameters
    ----------
    mean : ndarray, shape (C, C) | None
        The mean before ``covs`` (``None``: no mean yet; the first weight must then be 1).
    covs : ndarray, shape (n, C, C)
        SPD matrices, in arrival order.
    weights : ndarray, shape (n,)
        Geodesic step of each (:func:`update_weights`).
    metric : {"riemann", "logeuclid", "euclid"}

    Returns
    -------
    ndarray, shape (n, C, C)
        ``out[k]`` is the mean once ``covs[:k + 1]`` are in.
    """
    _check_metric(metric)
    covs = np.asarray(covs, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    n = len(covs)
    if weights.shape != (n,):
        raise InvalidInputError(f"one weight per matrix: {n} matrices, weights of shape {weights.shape}")
    out = np.empty_like(covs)
    if n == 0:
        return out
    if mean is None and weights[0] != 1.0:
        raise InvalidInputError("without a starting mean the first weight must be 1")
    if metric in ("euclid", "logeuclid"):
        # linear recursion in the (log-)matrix space; the matrix functions are batched
        pts = covs if metric == "euclid" else _eig_apply(covs, np.log)
        acc = None if mean is None else (mean if metric == "euclid" else _eig_apply(mean, np.log))
        lin = np.empty_like(pts)
        for k in range(n):
            acc = pts[k].copy() if acc is None else (1.0 - weights[k]) * acc + weights[k] * pts[k]
            lin[k] = acc
        return lin if metric == "euclid" else _eig_apply(lin, np.exp)
    cur = None if mean is None else np.asarray(mean, dtype=np.float64)
    for k in range(n):
        cur = covs[k].copy() if cur is None or weights[k] >= 1.0 else geodesic_step(cur, covs[k], weights[k])
        out[k] = cur
    return out


def whiten(covs: np.ndarray, means: np.ndarray) -> np.ndarray:
    """``M^-1/2 C M^-1/2`` of each matrix with its own mean (``means`` (n, C, C) or one (C, C))."""
    covs = np.asarray(covs, dtype=np.float64)
    isqrt = _eig_apply(np.asarray(means, dtype=np.float64), lambda w: 1.0 / np.sqrt(w))
    out = isqrt @ covs @ isqrt
    return 0.5 * (out + np.swapaxes(out, -1, -2))
