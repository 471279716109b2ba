"""Unsupervised adaptation while streaming: online re-centering of covariance decoders.

A pipeline trained with :class:`neurodec.riemann.Recentering` expects every session's
covariance matrices whitened by that session's own mean (``C -> M^-1/2 C M^-1/2``).
Offline the mean comes from the whole test session; live, only the windows seen so far
exist. :class:`OnlineRecentering` takes the place of the fitted ``Recentering`` step in
the streamed pipeline: it keeps a running mean of the incoming unlabelled windows
(:mod:`neurodec.riemann.running`) and whitens each window by the mean that includes it.

Only windows that reach the estimator update the mean: windows the
:class:`~neurodec.online.StreamingDecoder` flags (settling, gaps, NaN samples, backward
timestamps) are never decoded, and a window whose covariance is not finite and positive
definite is whitened but not added. The update is deterministic (no randomness).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from neurodec.errors import InvalidInputError
from neurodec.riemann.alignment import MEANS, domain_mean
from neurodec.riemann.running import running_means, spd_mask, update_weights, whiten

__all__ = ["OnlineRecentering", "bind_adaptation", "recentering_steps"]

log = logging.getLogger(__name__)


class OnlineRecentering(TransformerMixin, BaseEstimator):
    """Re-centre covariance matrices by a running mean of the stream (a stateful transform).

    Each call to :meth:`transform` adds its valid matrices, in order, to the running
    mean and whitens each matrix by the mean that includes it, so a stream decoded
    window by window or in batches gives the same result.

    Parameters
    ----------
    metric : {"riemann", "logeuclid", "euclid"} | None
        Geometry of the running mean; ``None``: that of the ``Recentering`` step it
        replaces (``"riemann"`` when used on its own).
    memory : float | None
        Effective number of windows the mean remembers once it holds that many (an
        exponential forgetting with that time constant, so it follows a drifting
        session); ``None``: every window counts equally (the stationary case).
    prior_weight : float
        Windows' worth of weight given to the reference mean of the training data
        at the start (0: the stream's own mean from its first window, as offline
        re-centering of a session; ``inf``: the reference is never updated, i.e. no
        adaptation).

    Attributes
    ----------
    reference_ : ndarray, shape (C, C)
        Mean of the training domains (the start when ``prior_weight > 0``).
    mean_ : ndarray, shape (C, C) | None
        The current running mean (``None`` before the first window without a prior).
    n_seen_ : int
        Windows added to the mean.
    n_rejected_ : int
        Windows not added (covariance not finite / not positive definite).
    """

    def __init__(self, metric: str | None = None, memory: float | None = None, prior_weight: float = 0.0):
        self.metric = metric
        self.memory = memory
        self.prior_weight = prior_weight

    def _check_params(self) -> str:
        metric = "riemann" if self.metric is None else self.metric
        if metric not in MEANS:
            raise InvalidInputError(f"unknown mean {metric!r}; choose one of {', '.join(MEANS)}")
        try:
            prior = float(self.prior_weight)
        except (TypeError, ValueError):
            prior = -1.0
        if not prior >= 0:
            raise InvalidInputError(
                f"prior_weight must be a number >= 0 (inf: no adaptation), got {self.prior_weight!r}"
            )
        update_weights(0, 0, memory=self.memory)  # checks memory
        return metric

    def start(self, reference: np.ndarray) -> OnlineRecentering:
        """Start from a reference mean (C, C) (the training data's); forget the stream."""
        self._check_params()
        ref = np.asarray(reference, dtype=np.float64)
        if ref.ndim != 2 or ref.shape[0] != ref.shape[1] or not spd_mask(ref[None])[0]:
            raise InvalidInputError(f"the reference must be one SPD matrix (C, C), got shape {ref.shape}")
        self.reference_ = ref
        self.n_features_in_ = ref.shape[0]
        return self.reset()

    def fit(self, X: Any, y: Any = None) -> OnlineRecentering:
        """Take the mean of the training matrices ``X`` (n, C, C) as the reference."""
        metric = self._check_params()
        covs = np.asarray(X, dtype=np.float64)
        if covs.ndim != 3 or covs.shape[1] != covs.shape[2] or not spd_mask(covs).all():
            raise InvalidInputError("fit takes SPD matrices of shape (n, C, C)")
        return self.start(domain_mean(covs, metric))

    def reset(self) -> OnlineRecentering:
        """Forget the stream: back to the reference (or to no mean without a prior)."""
        self.mean_ = self.reference_.copy() if float(self.prior_weight) > 0 else None
        self.n_seen_ = 0
        self.n_rejected_ = 0
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Add the valid matrices of ``X`` (n, C, C) to the mean; return them whitened."""
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "reference_")
        metric = self._check_params()
        covs = np.asarray(X, dtype=np.float64)
        c = self.n_features_in_
        if covs.ndim != 3 or covs.shape[1:] != (c, c):
            raise InvalidInputError(
                f"OnlineRecentering takes matrices of shape (n, {c}, {c}), got {covs.shape}"
            )
        valid = spd_mask(covs)
        n_valid = int(valid.sum())
        before = self.mean_ if self.mean_ is not None else self.reference_
        means = np.empty_like(covs)
        if n_valid:
            prior = float(self.prior_weight)
            if np.isinf(prior):  # no adaptation: the reference stays
                after = np.broadcast_to(self.mean_, (n_valid, c, c))
            else:
                weights = update_weights(self.n_seen_, n_valid, prior_weight=prior, memory=self.memory)
                after = running_means(self.mean_, covs[valid], weights, metric)
            means[valid] = after
            self.mean_ = after[-1]
            self.n_seen_ += n_valid
        if n_valid < len(covs):
            # a matrix that is not SPD never moves the mean: it is whitened by the mean before it
            bad = np.flatnonzero(~valid)
            self.n_rejected_ += bad.size
            log.warning(
                "%d window(s) whose covariance is not SPD were not added to the running mean", bad.size
            )
            last = np.maximum.accumulate(np.where(valid, np.arange(len(covs)), -1))
            for i in bad:
                means[i] = means[last[i]] if last[i] >= 0 else before
            covs = np.where(np.isfinite(covs), covs, 0.0)
        return whiten(covs, means)


def recentering_steps(estimator: Any) -> list[int]:
    """Indices of the top-level :class:`~neurodec.riemann.Recentering` steps of a pipeline."""
    from sklearn.pipeline import Pipeline

    if not isinstance(estimator, Pipeline):
        return []
    from neurodec.riemann.estimators import Recentering

    return [i for i, (_, step) in enumerate(estimator.steps) if isinstance(step, Recentering)]


def _training_reference(step: Any, metric: str) -> np.ndarray:
    means = list(getattr(step, "means_", {}).values())
    if not means:
        raise InvalidInputError("the Recentering step is not fitted (no training means)")
    return means[0] if len(means) == 1 else domain_mean(np.stack(means), metric)


def bind_adaptation(estimator: Any, adapt: Any = "auto") -> tuple[Any, OnlineRecentering | None]:
    """The estimator a stream decodes with, and its online re-centering step (if any).

    Parameters
    ----------
    estimator : fitted estimator
    adapt : "auto" | bool | None | dict | OnlineRecentering
        ``"auto"`` / ``True``: a pipeline with a ``Recentering`` step re-centres the
        stream by its running mean (:class:`OnlineRecentering` with default
        options); others are used as they are. A dict: those
        :class:`OnlineRecentering` options. An :class:`OnlineRecentering`: used as
        given (unfitted; it is started from the training reference). ``False`` /
        ``None``: no adaptation; a ``Recentering`` step whitens every window by the
        fixed mean of its training sessions (the step's own ``transform`` would
        re-centre each small batch of windows by itself).

    Returns
    -------
    model : estimator
        A :class:`~sklearn.pipeline.Pipeline` sharing the fitted steps with the
        ``Recentering`` step replaced, or ``estimator`` itself.
    adapter : OnlineRecentering | None

    Raises
    ------
    InvalidInputError
        Adaptation was asked for a decoder not trained with re-centering, or one with
        several ``Recentering`` steps.
    """
    from sklearn.pipeline import Pipeline

    if isinstance(adapt, str) and adapt != "auto":
        raise InvalidInputError(
            f"adapt must be 'auto', True/False, a dict of options or an OnlineRecentering, got {adapt!r}"
        )
    idx = recentering_steps(estimator)
    explicit = adapt is not None and adapt is not False and adapt != "auto" and adapt is not True
    if not idx:
        if explicit:
            raise InvalidInputError(
                "online re-centering needs a decoder trained with re-centering (a Recentering step after "
                "the covariance step, e.g. pipelines/p300_xdawncov_recenter_ts_lr.yml); this one has none"
            )
        return estimator, None
    if len(idx) > 1:
        raise InvalidInputError(
            f"the pipeline has {len(idx)} Recentering steps; online re-centering handles one"
        )
    i = idx[0]
    name, step = estimator.steps[i]
    if adapt is None or adapt is False:
        adapter = OnlineRecentering(metric=step.metric, prior_weight=float("inf"))
    elif isinstance(adapt, OnlineRecentering):
        adapter = adapt
    elif isinstance(adapt, dict):
        unknown = set(adapt) - {"metric", "memory", "prior_weight"}
        if unknown:
            raise InvalidInputError(
                f"unknown online re-centering option(s) {sorted(unknown)}; use metric, memory, prior_weight"
            )
        adapter = OnlineRecentering(**adapt)
    else:
        adapter = OnlineRecentering()
    if adapter.metric is None:
        adapter.set_params(metric=step.metric)
    metric = adapter._check_params()
    adapter.start(_training_reference(step, metric))
    steps = list(estimator.steps)
    steps[i] = (name, adapter)
    model = Pipeline(steps)
    log.info(
        "streaming with %s re-centering (%s mean, memory %s, prior weight %s)",
        "fixed" if np.isinf(float(adapter.prior_weight)) else "online",
        metric,
        adapter.memory,
        adapter.prior_weight,
    )
    return model, adapter
