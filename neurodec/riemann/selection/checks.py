"""Input checks shared by the selectors, the default candidate grid, and which candidates fit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from neurodec.errors import InvalidInputError

__all__ = [
    "DEFAULT_ORDERS",
    "DEFAULT_LAGS",
    "check_signals",
    "check_labels",
    "check_grid",
    "n_inner_splits",
    "feasible",
]

DEFAULT_ORDERS: tuple[int, ...] = tuple(range(1, 11))
DEFAULT_LAGS: tuple[int, ...] = tuple(range(1, 11))


def check_signals(X: np.ndarray) -> np.ndarray:
    """``X`` as a finite float64 array of shape (n_trials, n_channels, n_times)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3:
        raise InvalidInputError(
            f"X must be a 3-D array (n_trials, n_channels, n_times), got shape {X.shape}."
        )
    if not np.all(np.isfinite(X)):
        raise InvalidInputError("X contains NaN or infinite values; clean or drop those trials.")
    return X


def check_labels(y, n: int) -> np.ndarray:
    """``y`` as one label per trial, with at least two classes."""
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


def check_grid(values: Sequence[int], name: str) -> tuple[int, ...]:
    """A candidate list of positive integers, as a tuple."""
    values = tuple(int(v) for v in values)
    if not values or min(values) < 1:
        raise InvalidInputError(f"{name} must be a non-empty list of positive integers.")
    return values


def n_inner_splits(y: np.ndarray, cv: int) -> int:
    """``cv`` inner folds, fewer if the smallest class has fewer trials."""
    smallest = np.unique(y, return_counts=True)[1].min()
    if smallest < 2:
        raise InvalidInputError(
            "each class needs at least 2 trials for the inner cross-validation of the "
            "selector; give more training trials or fix order/lag by hand."
        )
    return int(min(cv, smallest))


def feasible(order: int, lag: int, n_channels: int, n_times: int, sample_ratio: float) -> bool:
    """Whether an (order, lag) candidate is worth scoring (enough samples per dimension)."""
    remaining = n_times if order == 1 else n_times - order * lag
    if remaining < 2:
        return False
    return order == 1 or remaining >= sample_ratio * order * n_channels
