"""Pipelines that take ``mne.Epochs`` instead of arrays (MOABB's ``SSVEP_*`` classifiers).

MOABB 1.7's SSVEP classifiers (``SSVEP_CCA``, ``SSVEP_TRCA``, ``SSVEP_MsetCCA``,
``SSVEP_itCCA``, ``SSVEP_eCCA``, ``SSVEP_TRCA_R``, ``SSVEP_SSCOR``, ``SSVEP_TDCA``) read
the sampling rate, the epoch times and the event ids from an ``mne.Epochs`` and take
the stimulation frequencies from the labels (``"13"``, ``"17"``...). ``moabb.benchmark``
runs them with ``return_epochs=True, mne_labels=True``: the pipeline gets the paradigm's
epochs (in volts) and the dataset's string labels, not encoded ones. The engine does the
same for these pipelines: one ``mne.Epochs`` per loaded dataset, indexed per fold, and the
labels as they are; every other pipeline keeps the shared arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["epochs_only_step", "needs_epochs", "take"]

_EPOCHS_MODULE = "moabb.pipelines.classification"


def epochs_only_step(estimator: Any) -> str | None:
    """The class name of a step that takes ``mne.Epochs`` only, or ``None``.

    Steps are looked for in a ``Pipeline`` and inside a ``GridSearchCV``; a step is
    epochs-only when it is one of MOABB's ``SSVEP_*`` classifiers or declares the class
    attribute ``requires_epochs = True``.
    """
    inner = getattr(estimator, "estimator", None)
    if inner is not None and hasattr(estimator, "param_grid"):  # a GridSearchCV
        return epochs_only_step(inner)
    steps = [s for _, s in estimator.steps] if hasattr(estimator, "steps") else [estimator]
    for step in steps:
        cls = type(step)
        if getattr(cls, "requires_epochs", False) is True:
            return cls.__name__
        if cls.__module__.startswith(_EPOCHS_MODULE) and cls.__name__.startswith("SSVEP_"):
            return cls.__name__
    return None


def needs_epochs(estimator: Any) -> bool:
    """Whether ``estimator`` must be given ``mne.Epochs`` (:func:`epochs_only_step`)."""
    return epochs_only_step(estimator) is not None


def take(X: Any, index: np.ndarray) -> Any:
    """The trials ``index`` of ``X``: an array (``np.asarray``, reads memory maps) or an
    ``mne.Epochs`` (a new ``Epochs`` holding those trials, in that order)."""
    if isinstance(X, np.ndarray):
        return np.asarray(X[index])
    return X[np.asarray(index)]
