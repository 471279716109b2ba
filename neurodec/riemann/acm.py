"""Augmented covariance matrices (ACM): delay embedding + covariance, vectorised over trials.

Pure array functions, no estimator state. The definition is the one of Carrara &
Papadopoulo (2023) as MOABB's ``AugmentedDataset`` implements it: for order ``m`` and lag
``tau`` the trial ``X`` (C, T) is replaced by the (m*C, T - m*tau) matrix whose block ``p``
(p = 0..m-1) is ``X[:, p*tau : T-(m-p)*tau]``; order 1 keeps ``X`` whole. The ACM is the
covariance of that matrix, computed for every trial at once with batched matrix products.

The covariance estimators follow pyRiemann's names and numbers:

* ``"cov"``: ``numpy.cov`` (centred, divided by ``T - 1``), as MOABB's ACM pipeline uses;
* ``"scm"``: sample covariance (centred, divided by ``T``);
* ``"corr"``: correlation coefficients;
* ``"lwf"``: Ledoit-Wolf shrinkage (scikit-learn's formula);
* ``"oas"``: oracle approximating shrinkage (scikit-learn's formula).

``"lwf"`` and ``"oas"`` shrink towards a scaled identity and are symmetric positive
definite whenever the trial is not all-constant, even when ``m*C`` exceeds the number of
samples (PhysionetMI with 64 channels at 160 Hz).
"""

from __future__ import annotations

import numpy as np

from neurodec.errors import InvalidInputError, UnknownNameError

__all__ = [
    "ESTIMATORS",
    "embed",
    "covariances",
    "augmented_covariances",
    "check_embedding",
]

#: Covariance estimators :func:`covariances` knows (pyRiemann's names).
ESTIMATORS: tuple[str, ...] = ("cov", "scm", "corr", "lwf", "oas")


def check_embedding(order: int, lag: int, n_times: int) -> None:
    """Raise :class:`InvalidInputError` unless ``order``/``lag`` fit in ``n_times`` samples.

    Parameters
    ----------
    order, lag : int
        Embedding order (number of delayed copies, >= 1) and lag in samples (>= 1).
    n_times : int
        Number of samples per trial.
    """
    for name, value in (("order", order), ("lag", lag)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise InvalidInputError(
                f"{name} must be a positive integer, got {value!r}; "
                f"use e.g. order=4, lag=5 (or 'auto' in AugmentedCovariances)."
            )
    remaining = n_times if order == 1 else n_times - order * lag
    if remaining < 2:
        raise InvalidInputError(
            f"order={order} and lag={lag} leave {remaining} samples of the {n_times} in each "
            f"trial (order*lag must be at most n_times - 2); use a smaller order or lag, or "
            f"longer epochs."
        )


def embed(X: np.ndarray, order: int, lag: int) -> np.ndarray:
    """Stack ``order`` delayed copies of each trial (MOABB's ``AugmentedDataset``).

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Signals.
    order : int
        Number of delayed copies ``m``; 1 returns ``X`` itself.
    lag : int
        Delay ``tau`` between copies, in samples.

    Returns
    -------
    ndarray, shape (n_trials, order * n_channels, n_times - order * lag)
        Block ``p`` is ``X[:, :, p*lag : n_times - (order - p)*lag]`` (order 1: ``X``).
    """
    n_times = X.shape[-1]
    check_embedding(order, lag, n_times)
    if order == 1:
        return X
    width = n_times - order * lag
    return np.concatenate([X[..., p * lag : p * lag + width] for p in range(order)], axis=-2)


def _shrink_to_identity(emp: np.ndarray, shrinkage: np.ndarray) -> np.ndarray:
    """``(1 - s) * emp + s * mu * I`` with ``mu = trace(emp)/d``, per matrix."""
    d = emp.shape[-1]
    mu = np.trace(emp, axis1=-2, axis2=-1) / d
    out = emp * (1.0 - shrinkage)[:, None, None]
    idx = np.arange(d)
    out[:, idx, idx] += (shrinkage * mu)[:, None]
    return out


def _oas_shrinkage(emp: np.ndarray, n_samples: int) -> np.ndarray:
    d = emp.shape[-1]
    alpha = np.mean(emp**2, axis=(-2, -1))
    mu = np.trace(emp, axis1=-2, axis2=-1) / d
    num = alpha + mu**2
    den = (n_samples + 1) * (alpha - mu**2 / d)
    with np.errstate(divide="ignore", invalid="ignore"):
        shrink = np.where(den == 0, 1.0, np.minimum(num / np.where(den == 0, 1.0, den), 1.0))
    return shrink


def _lwf_shrinkage(Xc: np.ndarray, emp: np.ndarray) -> np.ndarray:
    n_samples = Xc.shape[-1]
    d = Xc.shape[-2]
    sq = Xc**2
    emp_trace = sq.sum(axis=-1) / n_samples  # (n, d): diagonal of emp
    mu = emp_trace.sum(axis=-1) / d
    # sum_ij <x_i^2, x_j^2> = sum_t (sum_i x_it^2)^2
    beta_ = np.sum(sq.sum(axis=-2) ** 2, axis=-1)
    delta_ = np.sum(emp**2, axis=(-2, -1))
    beta = (beta_ / n_samples - delta_) / (d * n_samples)
    delta = (delta_ - 2.0 * mu * emp_trace.sum(axis=-1) + d * mu**2) / d
    beta = np.minimum(beta, delta)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(beta == 0, 0.0, beta / np.where(delta == 0, 1.0, delta))


def covariances(X: np.ndarray, estimator: str = "oas") -> np.ndarray:
    """Covariance matrix of every trial, vectorised (pyRiemann's estimator names).

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Signals.
    estimator : {"cov", "scm", "corr", "lwf", "oas"}
        Covariance estimator, see the module docstring.

    Returns
    -------
    ndarray, shape (n_trials, n_channels, n_channels)
    """
    if estimator not in ESTIMATORS:
        raise UnknownNameError(
            f"unknown covariance estimator {estimator!r}; choose one of {', '.join(ESTIMATORS)}."
        )
    X = np.asarray(X, dtype=np.float64)
    n_times = X.shape[-1]
    Xc = X - X.mean(axis=-1, keepdims=True)
    gram = np.matmul(Xc, np.swapaxes(Xc, -1, -2))
    if estimator == "cov":
        return gram / (n_times - 1)
    emp = gram / n_times
    if estimator == "scm":
        return emp
    if estimator == "corr":
        std = np.sqrt(np.diagonal(emp, axis1=-2, axis2=-1))
        return emp / (std[..., :, None] * std[..., None, :])
    if emp.shape[-1] == 1:  # one feature: sklearn returns the variance, no shrinkage
        return emp
    if estimator == "oas":
        return _shrink_to_identity(emp, _oas_shrinkage(emp, n_times))
    return _shrink_to_identity(emp, _lwf_shrinkage(Xc, emp))


def augmented_covariances(X: np.ndarray, order: int = 4, lag: int = 5, estimator: str = "oas") -> np.ndarray:
    """Augmented covariance matrices of every trial.

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Signals.
    order : int
        Embedding order ``m`` (1 = ordinary spatial covariance).
    lag : int
        Embedding lag ``tau`` in samples.
    estimator : {"cov", "scm", "corr", "lwf", "oas"}
        Covariance estimator; ``"oas"``/``"lwf"`` are always SPD.

    Returns
    -------
    ndarray, shape (n_trials, order * n_channels, order * n_channels)
        Equal to MOABB's ``AugmentedDataset(order, lag)`` followed by pyRiemann's
        ``Covariances(estimator)``.
    """
    return covariances(embed(X, order, lag), estimator)
