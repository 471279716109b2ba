"""Scoring metrics by name, as scikit-learn scorers.

The default follows MOABB: ROC-AUC for two classes, accuracy otherwise (or the
paradigm's own ``scoring`` attribute when it has one). Other names:
``balanced_accuracy``, ``kappa`` (Cohen's), ``log_loss`` (negated, higher is
better, as scikit-learn's ``neg_log_loss``) and ``ece`` (expected calibration
error, negated so higher is better).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.metrics import cohen_kappa_score, get_scorer, make_scorer

from neurodec.errors import UnknownNameError

__all__ = ["METRICS", "get_metric", "default_metric_name", "expected_calibration_error"]


def expected_calibration_error(y_true: np.ndarray, proba: np.ndarray, n_bins: int = 10) -> float:
    """Expected calibration error of the top-class probability.

    Parameters
    ----------
    y_true : ndarray, shape (n,)
        Integer class indices (columns of ``proba``).
    proba : ndarray, shape (n, n_classes)
        Predicted class probabilities.
    n_bins : int
        Equal-width confidence bins on [0, 1].

    Returns
    -------
    float
        Sum over bins of (bin weight) x |accuracy - mean confidence|.
    """
    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 1:
        proba = np.column_stack([1 - proba, proba])
    conf = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(y_true)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    weight = np.bincount(bins, minlength=n_bins) / len(conf)
    n = np.maximum(np.bincount(bins, minlength=n_bins), 1)
    acc = np.bincount(bins, weights=correct, minlength=n_bins) / n
    mean_conf = np.bincount(bins, weights=conf, minlength=n_bins) / n
    return float(np.sum(weight * np.abs(acc - mean_conf)))


def _neg_ece(y_true, proba) -> float:
    return -expected_calibration_error(y_true, proba)


#: metric name -> factory of a scikit-learn scorer
METRICS: dict[str, Callable[[], Callable]] = {
    "roc_auc": lambda: get_scorer("roc_auc"),
    "accuracy": lambda: get_scorer("accuracy"),
    "balanced_accuracy": lambda: get_scorer("balanced_accuracy"),
    "kappa": lambda: make_scorer(cohen_kappa_score),
    "log_loss": lambda: get_scorer("neg_log_loss"),
    "ece": lambda: make_scorer(_neg_ece, response_method="predict_proba"),
}


def default_metric_name(paradigm, n_classes: int | None = None) -> str:
    """MOABB's default: the paradigm's ``scoring`` if it names a metric, else
    ROC-AUC for two classes and accuracy otherwise."""
    scoring = getattr(paradigm, "scoring", None)
    if isinstance(scoring, str) and scoring in METRICS:
        return scoring
    return "roc_auc" if n_classes == 2 else "accuracy"


def get_metric(name: str) -> Callable:
    """The scikit-learn scorer ``scorer(estimator, X, y) -> float`` for ``name``.

    Raises
    ------
    UnknownNameError
        If ``name`` is not one of :data:`METRICS`.
    """
    try:
        return METRICS[name]()
    except KeyError:
        raise UnknownNameError(
            f"unknown metric {name!r}; choose one of {', '.join(sorted(METRICS))}"
        ) from None
