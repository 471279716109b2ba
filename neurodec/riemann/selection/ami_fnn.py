"""The paper's unsupervised embedding estimate: average mutual information and Cao's E1.

The lag is the first local minimum of the average mutual information (AMI) of ``x(t)``
and ``x(t+k)`` averaged over trials and channels; the order is the first dimension
where Cao's false-nearest-neighbour statistic ``E1(d)`` saturates (``E1 >= e1_threshold``).
"""

from __future__ import annotations

import logging

import numpy as np

from neurodec.errors import InvalidInputError
from neurodec.riemann.selection.checks import check_signals, feasible
from neurodec.riemann.selection.result import EmbeddingChoice

__all__ = ["average_mutual_information", "first_local_minimum", "cao_e1", "select_ami_fnn"]

log = logging.getLogger(__name__)


def average_mutual_information(X: np.ndarray, max_lag: int = 10, n_bins: int = 16) -> np.ndarray:
    """AMI between ``x(t)`` and ``x(t+k)`` for ``k = 0..max_lag``, averaged over trials
    and channels (histogram estimate, equal-width bins per trial and channel).

    Returns
    -------
    ndarray, shape (max_lag + 1,)
        In nats.
    """
    X = check_signals(X)
    n_times = X.shape[-1]
    if max_lag >= n_times - 1:
        raise InvalidInputError(f"max_lag={max_lag} must be smaller than n_times - 1 = {n_times - 1}.")
    series = X.reshape(-1, n_times)
    lo = series.min(axis=1, keepdims=True)
    span = series.max(axis=1, keepdims=True) - lo
    span[span == 0] = 1.0
    codes = np.minimum((n_bins * (series - lo) / span).astype(np.int64), n_bins - 1)
    n_series = codes.shape[0]
    offsets = (np.arange(n_series) * n_bins * n_bins)[:, None]
    ami = np.empty(max_lag + 1)
    for k in range(max_lag + 1):
        a, b = codes[:, : n_times - k], codes[:, k:]
        joint = np.bincount((offsets + a * n_bins + b).ravel(), minlength=n_series * n_bins**2)
        joint = joint.reshape(n_series, n_bins, n_bins) / (n_times - k)
        pa, pb = joint.sum(axis=2), joint.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = joint * np.log(joint / (pa[:, :, None] * pb[:, None, :]))
        ami[k] = np.nansum(terms, axis=(1, 2)).mean()
    return ami


def first_local_minimum(curve: np.ndarray) -> int:
    """Index (>= 1) of the first local minimum of ``curve``; the global minimum over
    indices >= 1 if the curve keeps decreasing."""
    for k in range(1, len(curve) - 1):
        if curve[k] <= curve[k + 1] and curve[k] < curve[k - 1]:
            return k
    return int(np.argmin(curve[1:]) + 1)


def cao_e1(
    X: np.ndarray, lag: int, max_order: int = 10, n_series: int = 64, random_state: int | None = 0
) -> np.ndarray:
    """Cao's ``E1(d) = E(d+1)/E(d)`` for ``d = 1..max_order`` (max-norm neighbours).

    ``E(d)`` is the mean ratio of the distance of each delay vector to its nearest
    neighbour in dimension ``d+1`` over that in dimension ``d``. Computed on up to
    ``n_series`` randomly chosen (trial, channel) series and averaged.

    Returns
    -------
    ndarray, shape (max_order,)
    """
    X = check_signals(X)
    n_times = X.shape[-1]
    n_points = n_times - max_order * lag
    if n_points < 4:
        raise InvalidInputError(
            f"max_order={max_order} with lag={lag} leaves {n_points} delay vectors of "
            f"{n_times} samples; use a smaller max_order or lag."
        )
    series = X.reshape(-1, n_times)
    rng = np.random.default_rng(random_state)
    if len(series) > n_series:
        series = series[rng.choice(len(series), n_series, replace=False)]
    E = np.zeros(max_order + 1)
    chunk = 8
    for start in range(0, len(series), chunk):
        s = series[start : start + chunk]
        coords = [s[:, j * lag : j * lag + n_points] for j in range(max_order + 1)]
        D = np.abs(coords[0][:, :, None] - coords[0][:, None, :])
        diag = np.arange(n_points)
        for d in range(1, max_order + 1):
            Dm = D.copy()
            Dm[:, diag, diag] = np.inf
            nn = Dm.argmin(axis=2)
            dist_d = np.take_along_axis(Dm, nn[:, :, None], axis=2)[..., 0]
            nxt = np.abs(coords[d][:, :, None] - coords[d][:, None, :])
            extra = np.take_along_axis(nxt, nn[:, :, None], axis=2)[..., 0]
            dist_next = np.maximum(dist_d, extra)
            ok = dist_d > 0
            E[d] += np.sum(np.where(ok, dist_next / np.where(ok, dist_d, 1.0), 1.0)) / n_points
            D = np.maximum(D, nxt)
    E = E[1:] / len(series)
    # E has max_order entries E(1..max_order); E1(d) = E(d+1)/E(d) for d < max_order
    e1 = np.ones(max_order)
    e1[:-1] = E[1:] / E[:-1]
    e1[-1] = e1[-2] if max_order > 1 else 1.0
    return e1


def select_ami_fnn(
    X: np.ndarray,
    max_lag: int = 10,
    max_order: int = 10,
    n_bins: int = 16,
    e1_threshold: float = 0.9,
    n_series: int = 64,
    sample_ratio: float = 2.0,
    random_state: int | None = 0,
) -> EmbeddingChoice:
    """The paper's unsupervised estimate: lag from the first AMI minimum, order from Cao's E1.

    The order is the smallest ``d`` with ``E1(d) >= e1_threshold`` (adding a dimension no
    longer unfolds the trajectory), capped so that the embedding fits the trials and, unless
    ``sample_ratio`` is 0, so that at least ``sample_ratio * order * C`` samples remain
    (the paper has no such cap; without it 64-channel data at 160 Hz get orders of 7+,
    i.e. 450-dimensional, badly conditioned matrices that are slow to classify).
    ``details["order_uncapped"]`` keeps Cao's own choice.
    """
    X = check_signals(X)
    n_times = X.shape[-1]
    max_lag = int(min(max_lag, n_times // 2 - 1))
    if max_lag < 2:
        log.warning("trials of %d samples are too short for AMI/Cao; using order=1, lag=1", n_times)
        return EmbeddingChoice(order=1, lag=1)
    ami = average_mutual_information(X, max_lag, n_bins)
    lag = first_local_minimum(ami)
    max_order = int(min(max_order, (n_times - 4) // lag - 1))
    if max_order < 2:
        log.warning("trials of %d samples are too short for Cao's E1; using order=1", n_times)
        return EmbeddingChoice(order=1, lag=int(lag), details={"ami": ami})
    e1 = cao_e1(X, lag, max_order, n_series, random_state)
    above = np.flatnonzero(e1 >= e1_threshold)
    order = int(above[0] + 1) if above.size else max_order
    uncapped = order
    n_channels = X.shape[1]
    while order > 1 and not feasible(order, lag, n_channels, n_times, sample_ratio):
        order -= 1
    return EmbeddingChoice(
        order=order, lag=int(lag), details={"ami": ami, "e1": e1, "order_uncapped": uncapped}
    )
