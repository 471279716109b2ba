"""Choosing the ACM order and lag: nested grid search, AMI + Cao/FNN, and a fast selector.

Three selectors, each a pure function of the training signals (and labels where
supervised); :func:`select_embedding` dispatches between them.

* ``"grid"`` — the paper's nested search: ``GridSearchCV`` over order x lag x SVM ``C``
  and kernel of (ACM, tangent space, SVC), inner stratified k-fold.
* ``"ami-fnn"`` — the paper's data-driven estimate, unsupervised: the lag is the first
  local minimum of the average mutual information (AMI) of ``x(t)`` and ``x(t+k)``
  averaged over trials and channels; the order is the first dimension where Cao's
  false-nearest-neighbour statistic ``E1(d)`` saturates (``E1 >= e1_threshold``).
* ``"fast"`` — ours. The lagged cross-covariances ``R_k = 1/T sum_t x(t) x(t+k)^T`` of
  every trial are computed once for every lag any candidate needs; the ACM of every
  (order, lag) candidate is then assembled from them as a block-Toeplitz matrix (block
  ``(p, q)`` is ``R_{(q-p)*lag}``) with OAS shrinkage — no re-embedding, no new products
  over time. Each candidate is scored by the inner-fold ROC-AUC (accuracy for more than
  two classes) of a dual ridge classifier on linearised tangent vectors at the
  training mean (``M^-1/2 C M^-1/2 - I``); the
  kernel matrix is computed once per candidate and shared by all inner folds, so the
  inner k-fold is repeated (``n_repeats`` shuffles, default 5) at almost no cost. With
  100 candidates scored on a few dozen trials, the best single-split score mostly picks
  the luckiest candidate; averaging repeats and then taking the lowest order whose mean
  is within one standard error of the best (the "one-standard-error rule" of CART and
  the lasso path) makes the choice stable.
  Candidates whose dimension ``order*C`` exceeds ``(T - order*lag) / sample_ratio`` are
  skipped: their covariance is too ill-conditioned to be worth scoring.

The biased normalisation (``1/T`` for every lag) makes the block-Toeplitz matrix the
covariance of the zero-padded embedding, hence positive semi-definite; it differs from
the exact ACM by edge effects of order ``order*lag/T`` (see ``toeplitz_error``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

from neurodec.errors import InvalidInputError, UnknownNameError
from neurodec.riemann.acm import (
    _oas_shrinkage,
    _shrink_to_identity,
    augmented_covariances,
)

__all__ = [
    "METHODS",
    "EmbeddingChoice",
    "select_embedding",
    "select_grid",
    "select_ami_fnn",
    "select_fast",
    "pick_candidate",
    "binary_auc",
    "lagged_covariances",
    "toeplitz_acm",
    "toeplitz_error",
    "average_mutual_information",
    "cao_e1",
]

log = logging.getLogger(__name__)

#: Selection methods :func:`select_embedding` knows.
METHODS: tuple[str, ...] = ("fast", "ami-fnn", "grid")
#: How :func:`select_fast` picks among scored candidates.
FAST_RULES: tuple[str, ...] = ("one-se", "best")

DEFAULT_ORDERS: tuple[int, ...] = tuple(range(1, 11))
DEFAULT_LAGS: tuple[int, ...] = tuple(range(1, 11))


@dataclass
class EmbeddingChoice:
    """Result of a selector: the chosen ``order``/``lag`` and what led to them.

    Attributes
    ----------
    order, lag : int
        The chosen embedding.
    scores : dict
        ``{(order, lag): score}`` for the supervised selectors (inner-fold score).
    details : dict
        Selector-specific curves (e.g. ``"ami"`` and ``"e1"`` arrays).
    """

    order: int
    lag: int
    scores: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)

    def as_tuple(self) -> tuple[int, int]:
        """``(order, lag)`` as plain ints."""
        return int(self.order), int(self.lag)


# --------------------------------------------------------------------------- helpers


def _check_signals(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3:
        raise InvalidInputError(
            f"X must be a 3-D array (n_trials, n_channels, n_times), got shape {X.shape}."
        )
    if not np.all(np.isfinite(X)):
        raise InvalidInputError("X contains NaN or infinite values; clean or drop those trials.")
    return X


def _check_labels(y, n: int) -> np.ndarray:
    if y is None:
        raise InvalidInputError("this selection method is supervised: pass the labels y.")
    from sklearn.utils.multiclass import type_of_target

    y = np.asarray(y)
    if y.shape != (n,):
        raise InvalidInputError(f"y must have one label per trial ({n}), got shape {y.shape}.")
    if n < 2:
        raise InvalidInputError(f"got {n} sample(s) (n_samples = {n}); selection needs more trials.")
    type_of_target(y, input_name="y", raise_unknown=True)
    if np.unique(y).size < 2:
        raise InvalidInputError("y holds a single class; selection needs at least two.")
    return y


def _check_grid(values: Sequence[int], name: str) -> tuple[int, ...]:
    values = tuple(int(v) for v in values)
    if not values or min(values) < 1:
        raise InvalidInputError(f"{name} must be a non-empty list of positive integers.")
    return values


def _n_splits(y: np.ndarray, cv: int) -> int:
    smallest = np.unique(y, return_counts=True)[1].min()
    if smallest < 2:
        raise InvalidInputError(
            "each class needs at least 2 trials for the inner cross-validation of the "
            "selector; give more training trials or fix order/lag by hand."
        )
    return int(min(cv, smallest))


# --------------------------------------------------------------------------- fast (ours)


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
            k: np.matmul(Xc[..., : n_times - k], np.swapaxes(Xc[..., k:], -1, -2)) / n_times
            for k in lags
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
    from pyriemann.utils.distance import distance_riemann

    X = _check_signals(X)
    exact = augmented_covariances(X, order, lag, "oas")
    R = lagged_covariances(X, [j * lag for j in range(order)])
    approx = _shrunk_toeplitz(R, order, lag, X.shape[-1])
    rel = np.linalg.norm(approx - exact, axis=(-2, -1)) / np.linalg.norm(exact, axis=(-2, -1))
    dist = distance_riemann(approx, exact).ravel()
    between = distance_riemann(exact[1:], exact[:-1]).ravel() if len(exact) > 1 else dist
    return {
        "relative_frobenius": float(np.median(rel)),
        "riemann_distance": float(np.median(dist)),
        "riemann_between_trials": float(np.median(between)),
    }


def _shrunk_toeplitz(R: dict[int, np.ndarray], order: int, lag: int, n_times: int) -> np.ndarray:
    emp = toeplitz_acm(R, order, lag)
    n_samples = n_times if order == 1 else n_times - order * lag
    return _shrink_to_identity(emp, _oas_shrinkage(emp, n_samples))


def _tangent_vectors(covs: np.ndarray) -> np.ndarray:
    """Linearised tangent vectors at the arithmetic mean ``M`` of ``covs``.

    ``M^-1/2 C M^-1/2 - I`` is the first-order term of the log-map ``log(M^-1/2 C M^-1/2)``;
    it needs one eigendecomposition per candidate instead of one per trial. Upper
    triangle, off-diagonal entries scaled by sqrt(2) (the tangent-space norm).
    """
    d = covs.shape[-1]
    w, v = np.linalg.eigh(covs.mean(axis=0))
    w = np.maximum(w, w.max() * 1e-12)
    isqrt = ((v / np.sqrt(w)) @ v.T).astype(np.float32)  # scoring only: single precision
    white = isqrt @ covs.astype(np.float32) @ isqrt
    iu = np.triu_indices(d)
    coef = np.where(iu[0] == iu[1], 1.0, np.sqrt(2.0)).astype(np.float32)
    vec = (white[:, iu[0], iu[1]] * coef).astype(np.float64)
    vec[:, iu[0] == iu[1]] -= 1.0
    return vec


def binary_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """ROC-AUC as the share of (positive, negative) pairs ranked right, ties counting one
    half (the Mann-Whitney statistic; equal to ``sklearn.metrics.roc_auc_score``).

    Hundreds of times cheaper than ``roc_auc_score`` on the small inner folds the selector
    scores thousands of times (no input validation; the pair matrix is tiny there).

    Parameters
    ----------
    positive : ndarray of bool, shape (n,)
        Which samples belong to the positive class (both classes must be present).
    scores : ndarray, shape (n,)
        Decision values, higher meaning more positive.
    """
    positive = np.asarray(positive, dtype=bool)
    scores = np.asarray(scores, dtype=float)
    pos, neg = scores[positive], scores[~positive]
    if pos.size == 0 or neg.size == 0:
        raise InvalidInputError("ROC-AUC needs both classes in the scored fold.")
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def _ridge_fold_scores(K: np.ndarray, y: np.ndarray, folds, alpha: float = 1.0) -> np.ndarray:
    """Score on each inner fold of a dual (kernel) ridge classifier on the linear kernel ``K``."""
    classes = np.unique(y)
    scores = []
    for train, test in folds:
        Ktr = K[np.ix_(train, train)]
        # centre the kernel on the training fold (an intercept)
        row = Ktr.mean(axis=0)
        total = row.mean()
        Kc = Ktr - row[None, :] - row[:, None] + total
        Kte = K[np.ix_(test, train)]
        Kt = Kte - row[None, :] - Kte.mean(axis=1)[:, None] + total
        lam = alpha * np.trace(Kc) / len(train)
        targets = (y[train][:, None] == classes[None, :]).astype(float) * 2 - 1
        targets -= targets.mean(axis=0)
        coef = np.linalg.solve(Kc + lam * np.eye(len(train)), targets)
        dec = Kt @ coef
        if classes.size == 2:
            scores.append(binary_auc(y[test] == classes[1], dec[:, 1] - dec[:, 0]))
        else:
            scores.append(float(np.mean(classes[dec.argmax(axis=1)] == y[test])))
    return np.asarray(scores, dtype=float)


def _check_rule(rule: str) -> None:
    if rule not in FAST_RULES:
        raise UnknownNameError(f"unknown rule {rule!r}; choose one of {', '.join(FAST_RULES)}.")


def pick_candidate(fold_scores: dict[tuple[int, int], np.ndarray], rule: str = "one-se") -> tuple[int, int]:
    """Choose an ``(order, lag)`` from per-fold inner scores.

    Parameters
    ----------
    fold_scores : dict
        ``{(order, lag): ndarray (n_folds,)}``, higher is better.
    rule : {"one-se", "best"}
        ``"best"``: the highest mean score, ties to the smaller order, then lag.
        ``"one-se"``: among candidates whose mean is at least the best mean minus one
        standard error of the best candidate's fold scores, the smallest order; within it
        the highest mean, then the smaller lag.

    Returns
    -------
    (order, lag) : tuple of int
    """
    _check_rule(rule)
    if not fold_scores:
        raise InvalidInputError("no candidate was scored; nothing to pick from.")
    means = {key: float(np.mean(v)) for key, v in fold_scores.items()}
    best = max(means, key=lambda k: (round(means[k], 10), -k[0], -k[1]))
    if rule == "best":
        return best
    scores = np.asarray(fold_scores[best], dtype=float)
    se = float(np.std(scores, ddof=1) / np.sqrt(scores.size)) if scores.size > 1 else 0.0
    close = [k for k, m in means.items() if m >= means[best] - se - 1e-12]
    return min(close, key=lambda k: (k[0], -round(means[k], 10), k[1]))


def feasible(order: int, lag: int, n_channels: int, n_times: int, sample_ratio: float) -> bool:
    """Whether an (order, lag) candidate is worth scoring (enough samples per dimension)."""
    remaining = n_times if order == 1 else n_times - order * lag
    if remaining < 2:
        return False
    return order == 1 or remaining >= sample_ratio * order * n_channels


def select_fast(
    X: np.ndarray,
    y,
    orders: Sequence[int] = DEFAULT_ORDERS,
    lags: Sequence[int] = DEFAULT_LAGS,
    cv: int = 3,
    n_repeats: int = 5,
    rule: str = "one-se",
    sample_ratio: float = 2.0,
    random_state: int | None = 0,
) -> EmbeddingChoice:
    """Fast data-driven order/lag selection from block-Toeplitz ACMs (see module docstring).

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
        Training signals only.
    y : array-like, shape (n_trials,)
        Training labels.
    orders, lags : sequence of int
        Candidate grid.
    cv : int
        Number of inner stratified folds.
    n_repeats : int
        How many times the inner k-fold is repeated with a new shuffle (the candidate's
        kernel matrix is shared, so repeats cost only small ridge solves).
    rule : {"one-se", "best"}
        How the candidate is picked from its inner scores (see :func:`pick_candidate`).
        ``"best"`` with ``n_repeats=1`` is the selector of neurodec 0.1.
    sample_ratio : float
        Skip candidates with fewer than ``sample_ratio * order * n_channels`` samples left
        after embedding (order 1 is always kept). Use 0 to score every candidate.
    random_state : int or None
        Seed of the inner folds.

    Returns
    -------
    EmbeddingChoice
        ``scores`` holds each candidate's mean inner score, ``details["fold_scores"]``
        the per-fold scores.
    """
    X = _check_signals(X)
    y = _check_labels(y, len(X))
    orders, lags = _check_grid(orders, "orders"), _check_grid(lags, "lags")
    _check_rule(rule)
    if int(n_repeats) < 1:
        raise InvalidInputError(f"n_repeats must be a positive integer, got {n_repeats!r}.")
    n_channels, n_times = X.shape[1], X.shape[2]
    candidates = [
        (m, t)
        for m in sorted(set(orders))
        for t in (sorted(set(lags)) if m > 1 else [min(lags)])
        if feasible(m, t, n_channels, n_times, sample_ratio)
    ]
    if not candidates:
        raise InvalidInputError(
            f"no (order, lag) candidate fits {n_times} samples of {n_channels} channels; "
            "lower the orders/lags or sample_ratio."
        )
    needed = sorted({j * t for m, t in candidates for j in range(m)})
    R = lagged_covariances(X, needed)
    splitter = RepeatedStratifiedKFold(
        n_splits=_n_splits(y, cv), n_repeats=int(n_repeats), random_state=random_state
    )
    folds = list(splitter.split(np.zeros(len(y)), y))
    fold_scores: dict[tuple[int, int], np.ndarray] = {}
    for m, t in candidates:
        V = _tangent_vectors(_shrunk_toeplitz(R, m, t, n_times))
        fold_scores[(m, t)] = _ridge_fold_scores(V @ V.T, y, folds)
        log.debug("fast selector: order=%d lag=%d score=%.4f", m, t, fold_scores[(m, t)].mean())
    order, lag = pick_candidate(fold_scores, rule)
    scores = {key: float(v.mean()) for key, v in fold_scores.items()}
    return EmbeddingChoice(order=order, lag=lag, scores=scores, details={"fold_scores": fold_scores})


# --------------------------------------------------------------------------- AMI + Cao


def average_mutual_information(X: np.ndarray, max_lag: int = 10, n_bins: int = 16) -> np.ndarray:
    """AMI between ``x(t)`` and ``x(t+k)`` for ``k = 0..max_lag``, averaged over trials
    and channels (histogram estimate, equal-width bins per trial and channel).

    Returns
    -------
    ndarray, shape (max_lag + 1,)
        In nats.
    """
    X = _check_signals(X)
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
    X = _check_signals(X)
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
    X = _check_signals(X)
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


# --------------------------------------------------------------------------- grid


def select_grid(
    X: np.ndarray,
    y,
    orders: Sequence[int] = DEFAULT_ORDERS,
    lags: Sequence[int] = DEFAULT_LAGS,
    Cs: Sequence[float] = (0.5, 1.0, 1.5),
    kernels: Sequence[str] = ("rbf", "linear"),
    cv: int = 3,
    estimator: str = "cov",
    n_jobs: int | None = None,
    random_state: int | None = 0,
) -> EmbeddingChoice:
    """The paper's nested grid search over (ACM order, lag, SVM C, kernel) of ACM+TS+SVC.

    Slow by design (every candidate refits embedding, covariances and tangent space on
    every inner fold); use it as the reference the fast selector is measured against.
    """
    from pyriemann.tangentspace import TangentSpace
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    from neurodec.riemann.estimators import AugmentedCovariances

    X = _check_signals(X)
    y = _check_labels(y, len(X))
    orders, lags = _check_grid(orders, "orders"), _check_grid(lags, "lags")
    pipe = Pipeline(
        [
            ("acm", AugmentedCovariances(order=1, lag=1, estimator=estimator)),
            ("ts", TangentSpace(metric="riemann")),
            ("svc", SVC()),
        ]
    )
    grid = {
        "acm__order": list(orders),
        "acm__lag": list(lags),
        "svc__C": list(Cs),
        "svc__kernel": list(kernels),
    }
    scoring = "roc_auc" if np.unique(y).size == 2 else "accuracy"
    splitter = StratifiedKFold(_n_splits(y, cv), shuffle=True, random_state=random_state)
    search = GridSearchCV(pipe, grid, cv=splitter, scoring=scoring, n_jobs=n_jobs, error_score=np.nan)
    search.fit(X, y)
    res = search.cv_results_
    scores: dict[tuple[int, int], float] = {}
    for params, score in zip(res["params"], res["mean_test_score"]):
        key = (params["acm__order"], params["acm__lag"])
        if np.isfinite(score):
            scores[key] = max(scores.get(key, -np.inf), float(score))
    best = search.best_params_
    return EmbeddingChoice(
        order=int(best["acm__order"]),
        lag=int(best["acm__lag"]),
        scores=scores,
        details={"svc__C": best["svc__C"], "svc__kernel": best["svc__kernel"]},
    )


# --------------------------------------------------------------------------- dispatch


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
    raise UnknownNameError(
        f"unknown selection method {method!r}; choose one of {', '.join(METHODS)}."
    )
