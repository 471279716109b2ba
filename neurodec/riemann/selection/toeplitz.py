"""Block-Toeplitz ACMs from lagged cross-covariances, computed once for every candidate.

``R_k = 1/T sum_t x(t) x(t+k)^T`` is computed for every lag any candidate needs; the
ACM of an (order, lag) candidate is then the block-Toeplitz matrix whose block
``(p, q)`` is ``R_{(q-p)*lag}``. The biased normalisation (``1/T`` for every lag) makes
it the covariance of the zero-padded embedding, hence positive semi-definite; it
differs from the exact ACM by edge effects of order ``order*lag/T`` (see
:func:`toeplitz_error`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurodec.riemann.acm import _oas_shrinkage, _shrink_to_identity, augmented_covariances
from neurodec.riemann.selection.checks import check_signals

__all__ = ["lagged_covariances", "toeplitz_acm", "toeplitz_error", "shrunk_toeplitz"]


def lagged_covariances(X: np.ndarray, lags: Sequence[int]) -> dict[int, np.ndarray]:
    """Biased lagged cross-covariances ``R_k = 1/T sum_t xc(t) xc(t+k)^T`` of every trial.

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
    lags : sequence of int
        The lags ``k >= 0`` to compute.

    Returns
    -------
    dict
        ``{k: ndarray (n_trials, n_channels, n_channels)}``.
    """
    X = np.asarray(X, dtype=np.float64)
    n_trials, n_channels, n_times = X.shape
    lags = sorted(set(int(k) for k in lags))
    Xc = X - X.mean(axis=-1, keepdims=True)
    if len(lags) <= 4:  # a few direct products beat the FFT
        return {
            k: np.matmul(Xc[..., : n_times - k], np.swapaxes(Xc[..., k:], -1, -2)) / n_times for k in lags
        }
    # all lags at once through the cross-spectrum (zero-padded: no circular wrap-around)
    nfft = 1 << int(np.ceil(np.log2(n_times + max(lags))))
    spectra = np.fft.rfft(Xc, n=nfft, axis=-1)
    picked = np.asarray(lags)
    out = np.empty((len(lags), n_trials, n_channels, n_channels))
    chunk = max(1, int(2**25 // (n_channels * n_channels * nfft)))
    for start in range(0, n_trials, chunk):
        F = spectra[start : start + chunk]
        cross = np.conj(F)[:, :, None, :] * F[:, None, :, :]
        corr = np.fft.irfft(cross, n=nfft, axis=-1)[..., picked]  # sum_t x_i(t) x_j(t+k)
        out[:, start : start + chunk] = np.moveaxis(corr, -1, 0) / n_times
    return {k: out[i] for i, k in enumerate(lags)}


def toeplitz_acm(R: dict[int, np.ndarray], order: int, lag: int) -> np.ndarray:
    """Assemble the block-Toeplitz approximation of the ACM from lagged covariances.

    Block ``(p, q)`` is ``R[(q-p)*lag]`` for ``q >= p`` and its transpose below the diagonal.

    Parameters
    ----------
    R : dict
        Output of :func:`lagged_covariances` holding at least lags ``0, lag, ..., (order-1)*lag``.
    order, lag : int

    Returns
    -------
    ndarray, shape (n_trials, order * n_channels, order * n_channels)
        Positive semi-definite (no shrinkage applied).
    """
    if order == 1:
        return R[0].copy()
    blocks = np.stack([R[j * lag] for j in range(order)])  # (m, n, C, C)
    both = np.concatenate([blocks, np.swapaxes(blocks[1:], -1, -2)])  # lags 0..m-1, then -1..-(m-1)
    p = np.arange(order)
    diff = p[None, :] - p[:, None]  # q - p
    index = np.where(diff >= 0, diff, order - 1 - diff)  # -j -> order - 1 + j
    gathered = both[index]  # (m, m, n, C, C)
    n, C = blocks.shape[1], blocks.shape[2]
    return gathered.transpose(2, 0, 3, 1, 4).reshape(n, order * C, order * C)


def toeplitz_error(X: np.ndarray, order: int, lag: int) -> dict[str, float]:
    """How close the block-Toeplitz ACM is to the exact one (both with OAS shrinkage).

    Returns
    -------
    dict
        ``relative_frobenius`` (median over trials of ``||T - A||_F / ||A||_F``) and
        ``riemann_distance`` (median affine-invariant distance, with the median distance
        between two different trials' exact ACMs, ``riemann_between_trials``, as a scale).
    """
    from pyriemann.geometry.distance import distance_riemann

    X = check_signals(X)
    exact = augmented_covariances(X, order, lag, "oas")
    R = lagged_covariances(X, [j * lag for j in range(order)])
    approx = shrunk_toeplitz(R, order, lag, X.shape[-1])
    rel = np.linalg.norm(approx - exact, axis=(-2, -1)) / np.linalg.norm(exact, axis=(-2, -1))
    dist = distance_riemann(approx, exact).ravel()
    between = distance_riemann(exact[1:], exact[:-1]).ravel() if len(exact) > 1 else dist
    return {
        "relative_frobenius": float(np.median(rel)),
        "riemann_distance": float(np.median(dist)),
        "riemann_between_trials": float(np.median(between)),
    }


def shrunk_toeplitz(R: dict[int, np.ndarray], order: int, lag: int, n_times: int) -> np.ndarray:
    emp = toeplitz_acm(R, order, lag)
    n_samples = n_times if order == 1 else n_times - order * lag
    return _shrink_to_identity(emp, _oas_shrinkage(emp, n_samples))
