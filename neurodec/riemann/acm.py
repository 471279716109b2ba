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
samples (PhysionetMI with 64 channels at 160 Hz). ``"corr"`` divides by each channel's
standard deviation, so a flat (constant) channel raises :class:`InvalidDataError` naming it.

:func:`augmented_covariances` computes the memory its arrays need before allocating them
and raises :class:`InvalidInputError` when that exceeds the memory available.
"""

from __future__ import annotations

import numpy as np

from neurodec.errors import InvalidDataError, InvalidInputError, UnknownNameError
from neurodec.memory import available_memory, format_bytes

__all__ = [
    "ESTIMATORS",
    "embed",
    "covariances",
    "augmented_covariances",
    "check_embedding",
    "acm_bytes",
    "check_acm_memory",
]

#: Covariance estimators :func:`covariances` knows (pyRiemann's names).
ESTIMATORS: tuple[str, ...] = ("cov", "scm", "corr", "lwf", "oas")

#: A row whose standard deviation is below this fraction of its largest absolute value is
#: flat: the rounding left by centring a constant row is ~1e-16 of its value.
_FLAT_RTOL = 1e-13


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


def _flat_rows(X: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """``(n_trials, n_rows)`` mask of rows that do not vary (see :data:`_FLAT_RTOL`)."""
    scale = np.max(np.abs(X), axis=-1)
    return variances <= (_FLAT_RTOL * scale) ** 2


def _flat_error(flat: np.ndarray, n_channels: int) -> InvalidDataError:
    trials = np.flatnonzero(flat.any(axis=1))
    channels = sorted({int(r) % n_channels for r in np.flatnonzero(flat.any(axis=0))})
    shown = ", ".join(str(t) for t in trials[:10]) + (", ..." if len(trials) > 10 else "")
    return InvalidDataError(
        f"covariance estimator 'corr' divides by each channel's standard deviation, but "
        f"channel(s) {channels} are flat (constant) in trial(s) [{shown}] ({len(trials)} of "
        f"{len(flat)}); drop or interpolate those channels, drop those trials, or use "
        f"estimator='oas'."
    )


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

    Raises
    ------
    InvalidDataError
        ``"corr"`` and a channel is flat in some trial (its correlations are undefined).
    """
    return _covariances(X, estimator, np.shape(X)[-2])


def _covariances(X: np.ndarray, estimator: str, n_channels: int) -> np.ndarray:
    """:func:`covariances`; rows of ``X`` are channel ``row % n_channels`` (a delay
    embedding stacks blocks of ``n_channels`` rows), which is what errors name."""
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
        var = np.diagonal(emp, axis1=-2, axis2=-1)
        flat = _flat_rows(X, var)
        if flat.any():
            raise _flat_error(flat, n_channels)
        std = np.sqrt(var)
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

    Raises
    ------
    InvalidInputError
        The arrays would need more memory than is available (checked before allocating).
    InvalidDataError
        ``"corr"`` and a channel is flat in some trial.
    """
    X = np.asarray(X)
    check_embedding(order, lag, X.shape[-1])
    check_acm_memory(X.shape, order, lag, estimator)
    return _covariances(embed(X, order, lag), estimator, X.shape[-2])


def acm_bytes(shape: tuple[int, ...], order: int, lag: int, estimator: str = "oas") -> int:
    """Peak bytes :func:`augmented_covariances` allocates for signals of ``shape``.

    The embedded signals and their centred copy (one more for ``"lwf"``), each
    ``(n, m*C, T - m*lag)``, and three ``(n, m*C, m*C)`` matrices (products, scaled copy,
    result), in float64.
    """
    n, n_channels, n_times = (int(v) for v in shape[-3:]) if len(shape) >= 3 else (1, *shape)
    d = order * n_channels
    width = n_times if order == 1 else n_times - order * lag
    signals = (3 if estimator == "lwf" else 2) * d * width
    return 8 * n * (signals + 3 * d * d)


def check_acm_memory(shape: tuple[int, ...], order: int, lag: int, estimator: str = "oas") -> None:
    """Raise :class:`InvalidInputError` when :func:`acm_bytes` exceeds the available memory."""
    need = acm_bytes(shape, order, lag, estimator)
    have = available_memory()
    if have is None or need <= have:
        return
    n, n_channels = (shape[0], shape[1]) if len(shape) >= 3 else (1, shape[0])
    d = order * n_channels
    raise InvalidInputError(
        f"augmented covariances with order={order} of {n_channels} channels ({n} trials of "
        f"{d}x{d} matrices) needs {format_bytes(need)} of memory but {format_bytes(have)} is "
        f"available; lower the order, use fewer channels, or transform fewer trials at a time."
    )
