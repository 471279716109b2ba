"""Unsupervised re-centering of covariance matrices per domain (Riemannian alignment).

Each domain (subject, session, ...) is whitened by its own mean ``M``: ``C -> M^-1/2 C
M^-1/2``, which moves the domain's mean to the identity (Zanini et al. 2018). No labels
are used, so it can be applied to a test domain from its unlabelled trials.
"""

from __future__ import annotations

import logging

import numpy as np

from neurodec.errors import InvalidInputError, UnknownNameError

__all__ = ["MEANS", "domain_mean", "recenter", "check_covariances", "check_domains"]

log = logging.getLogger(__name__)

#: Means :func:`domain_mean` knows.
MEANS: tuple[str, ...] = ("riemann", "logeuclid", "euclid")


def check_covariances(covs) -> np.ndarray:
    """Return ``covs`` as a float64 (n, C, C) array of symmetric positive definite matrices.

    Raises :class:`InvalidInputError` on any other shape, NaN/inf, asymmetry or a
    non-positive eigenvalue.
    """
    covs = np.asarray(covs, dtype=np.float64)
    if covs.ndim != 3 or covs.shape[1] != covs.shape[2]:
        raise InvalidInputError(
            f"expected covariance matrices of shape (n_trials, n_channels, n_channels), got "
            f"{covs.shape}; put a covariance step (e.g. AugmentedCovariances) before this one."
        )
    if not np.all(np.isfinite(covs)):
        raise InvalidInputError("covariance matrices contain NaN or infinite values.")
    scale = np.abs(covs).max() if covs.size else 1.0
    if not np.allclose(covs, np.swapaxes(covs, 1, 2), atol=1e-10 * max(scale, 1e-300)):
        raise InvalidInputError("covariance matrices must be symmetric.")
    if covs.size and np.linalg.eigvalsh(covs).min() <= 0:
        raise InvalidInputError(
            "covariance matrices must be positive definite; use a shrinkage estimator "
            "(estimator='oas' or 'lwf')."
        )
    return covs


def check_domains(domains, n: int) -> np.ndarray:
    """Return one domain id per trial (all the same when ``domains`` is None)."""
    if domains is None:
        return np.zeros(n, dtype=int)
    domains = np.asarray(domains)
    if domains.shape != (n,):
        raise InvalidInputError(
            f"domains must give one domain id per trial ({n}), got shape {domains.shape}."
        )
    return domains


def _eig_apply(covs: np.ndarray, func) -> np.ndarray:
    w, v = np.linalg.eigh(covs)
    return (v * func(w)[..., None, :]) @ np.swapaxes(v, -1, -2)


def domain_mean(covs: np.ndarray, metric: str = "riemann") -> np.ndarray:
    """Mean of SPD matrices: ``"riemann"`` (affine-invariant), ``"logeuclid"`` or ``"euclid"``."""
    if metric == "riemann":
        from pyriemann.geometry.mean import mean_riemann

        return mean_riemann(covs)
    if metric == "logeuclid":
        return _eig_apply(_eig_apply(covs, np.log).mean(axis=0), np.exp)
    if metric == "euclid":
        return covs.mean(axis=0)
    raise UnknownNameError(f"unknown mean {metric!r}; choose one of {', '.join(MEANS)}.")


def recenter(covs, domains=None, metric: str = "riemann") -> np.ndarray:
    """Whiten each domain's covariance matrices by that domain's own mean.

    Parameters
    ----------
    covs : ndarray, shape (n_trials, C, C)
        SPD matrices.
    domains : array-like, shape (n_trials,), optional
        Domain id of each trial; None treats the whole batch as one domain.
    metric : {"riemann", "logeuclid", "euclid"}
        Mean used as each domain's centre.

    Returns
    -------
    ndarray, shape (n_trials, C, C)
        Each domain's mean (in ``metric``) is the identity afterwards (exactly for
        "riemann" and "euclid"; approximately for "logeuclid", which is not
        affine-invariant).
    """
    covs = check_covariances(covs)
    domains = check_domains(domains, len(covs))
    if metric not in MEANS:
        raise UnknownNameError(f"unknown mean {metric!r}; choose one of {', '.join(MEANS)}.")
    out = np.empty_like(covs)
    for dom in np.unique(domains):
        sel = domains == dom
        if sel.sum() < 2:
            log.warning("domain %r has a single trial: re-centering maps it to the identity", dom)
        isqrt = _eig_apply(domain_mean(covs[sel], metric), lambda w: 1.0 / np.sqrt(w))
        out[sel] = isqrt @ covs[sel] @ isqrt
    return out
