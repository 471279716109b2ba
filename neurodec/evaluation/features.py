"""Sharing the stateless head of pipelines across folds and pipelines.

Many pipelines start with steps whose ``fit`` learns nothing and whose
``transform`` treats each trial on its own (covariance estimation, time-delay
embedding). Their output on a trial is the same in every fold, so the engine
computes it once for all trials and lets every fold, and every pipeline with the
same head, index into it. A step is treated as such only when it is known to be
(:data:`STATELESS_STEPS`) or declares ``stateless_transform = True``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from neurodec.evaluation.identity import content_hash

__all__ = ["STATELESS_STEPS", "is_stateless", "split_stateless_head", "apply_head"]

#: import paths of steps whose fit is a no-op and whose transform is per-trial
STATELESS_STEPS: frozenset[str] = frozenset(
    {
        "pyriemann.estimation.Covariances",
        "pyriemann.estimation.Shrinkage",
        "pyriemann.estimation.CospCovariances",
        "pyriemann.estimation.CoherenceMatrices",
        "pyriemann.estimation.TimeDelayCovariances",
        "moabb.pipelines.features.AugmentedDataset",
        "moabb.pipelines.features.StandardScaler_Epoch",
        "mne.decoding.transformer.Vectorizer",
    }
)

#: steps that are stateless only for some parameters: import path -> predicate
CONDITIONALLY_STATELESS = {
    # a fixed embedding is per-trial; order/lag "auto" is chosen from the training fold
    "neurodec.riemann.estimators.AugmentedCovariances": lambda step: (
        step.order != "auto" and step.lag != "auto"
    ),
}

_TRIALS_PER_CHUNK = 64


def is_stateless(step: Any) -> bool:
    """Whether ``step``'s transform is per-trial and its fit a no-op."""
    flag = getattr(step, "stateless_transform", None)
    if callable(flag):
        flag = flag()
    if flag is not None:
        return bool(flag)
    cls = type(step)
    path = f"{cls.__module__}.{cls.__qualname__}"
    if path in CONDITIONALLY_STATELESS:
        return bool(CONDITIONALLY_STATELESS[path](step))
    return path in STATELESS_STEPS


def split_stateless_head(
    estimator: Any, tuned: set[str] | frozenset[str] = frozenset()
) -> tuple[list[tuple[str, Any]], Any, str | None]:
    """Split a pipeline into its shareable head and the rest.

    Parameters
    ----------
    estimator : estimator
        Usually a :class:`sklearn.pipeline.Pipeline`; anything else has no head.
    tuned : set of str
        Step names that a parameter grid tunes; the head stops before them.

    Returns
    -------
    head : list of (name, step)
        The leading stateless steps (never the last step).
    rest : estimator
        A pipeline of the remaining steps (same step names), or ``estimator``
        itself when there is no head.
    head_key : str | None
        Content hash of the head, ``None`` when there is no head.
    """
    if not isinstance(estimator, Pipeline):
        return [], estimator, None
    steps = list(estimator.steps)
    k = 0
    while (
        k < len(steps) - 1
        and steps[k][0] not in tuned
        and steps[k][1] not in (None, "passthrough")
        and is_stateless(steps[k][1])
    ):
        k += 1
    if k == 0:
        return [], estimator, None
    head = steps[:k]
    rest = Pipeline([(n, clone(s)) for n, s in steps[k:]], memory=estimator.memory)
    return head, rest, content_hash([(n, s) for n, s in head])


def apply_head(head: list[tuple[str, Any]], X: np.ndarray, chunk: int = _TRIALS_PER_CHUNK) -> np.ndarray:
    """Run the stateless head over all trials, ``chunk`` trials at a time
    (bounded memory for expanding steps such as time-delay embedding)."""
    steps = [clone(s) for _, s in head]
    for s in steps:
        s.fit(X[:1], None)
    parts = []
    for start in range(0, len(X), chunk):
        out = X[start : start + chunk]
        for s in steps:
            out = s.transform(out)
        parts.append(np.asarray(out))
    return np.concatenate(parts, axis=0) if parts else np.empty((0,))
