"""ERP amplitude features: block-averaged (decimated) epochs, flattened.

The classic P300 feature vector (Blankertz et al. 2011, "Single-trial analysis and
classification of ERP components"): the band-passed epoch averaged over
consecutive time blocks ("windowed means"), every channel's block means
concatenated. Averaging over a block of ``factor`` samples is a box-car low-pass
followed by decimation, so no separate anti-aliasing filter is needed.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from neurodec.errors import InvalidInputError
from neurodec.versioning import VersionedStateMixin

__all__ = ["decimate_epochs", "DecimatedEpochs"]


def decimate_epochs(X: np.ndarray, factor: int) -> np.ndarray:
    """Average ``X`` over consecutive blocks of ``factor`` time samples.

    Parameters
    ----------
    X : ndarray, shape (n_trials, n_channels, n_times)
    factor : int
        Samples per block (>= 1). Trailing samples that do not fill a block are
        dropped.

    Returns
    -------
    ndarray, shape (n_trials, n_channels, n_times // factor)
    """
    X = np.asarray(X, dtype=np.float64)
    n_blocks = X.shape[-1] // factor
    trimmed = X[..., : n_blocks * factor]
    return trimmed.reshape(X.shape[:-1] + (n_blocks, factor)).mean(axis=-1)


class DecimatedEpochs(VersionedStateMixin, TransformerMixin, BaseEstimator):
    """Block-average each epoch over time and flatten it to one vector per trial.

    Stateless (``fit`` only records the input shape), so the evaluation engine
    computes it once for all trials and shares it between folds.

    Parameters
    ----------
    factor : int, default=8
        Samples averaged per block: at 256 Hz, 8 samples = 31.25 ms, so a 0.8 s
        epoch gives 25 values per channel.

    Attributes
    ----------
    n_channels_ : int
    n_times_ : int
        Shape of the epochs seen in ``fit``.
    """

    #: the engine may share this step's output across folds (per-trial, no fitting)
    stateless_transform = True

    def __init__(self, factor: int = 8) -> None:
        self.factor = factor

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        tags.target_tags.required = False
        return tags

    def _check(self, X) -> np.ndarray:
        if not isinstance(self.factor, (int, np.integer)) or self.factor < 1:
            raise InvalidInputError(f"factor must be a positive int, got {self.factor!r}")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 3:
            raise InvalidInputError(
                f"expected epochs of shape (n_trials, n_channels, n_times), got shape {X.shape}"
            )
        if X.shape[-1] < self.factor:
            raise InvalidInputError(
                f"epochs have {X.shape[-1]} time samples, fewer than factor={self.factor}; "
                "lower the factor or lengthen the epochs"
            )
        if not np.all(np.isfinite(X)):
            raise InvalidInputError("epochs contain NaN or infinite values")
        return X

    def fit(self, X, y=None):
        """Record the epoch shape (nothing is learned).

        Parameters
        ----------
        X : ndarray, shape (n_trials, n_channels, n_times)
        y : ignored
        """
        X = self._check(X)
        self.n_channels_, self.n_times_ = int(X.shape[1]), int(X.shape[2])
        return self

    def transform(self, X) -> np.ndarray:
        """Block means, flattened channel by channel.

        Returns
        -------
        ndarray, shape (n_trials, n_channels * (n_times // factor))
        """
        check_is_fitted(self, "n_times_")
        X = self._check(X)
        if X.shape[1:] != (self.n_channels_, self.n_times_):
            raise InvalidInputError(
                f"epochs of shape {X.shape[1:]} (channels, times), but fitted on "
                f"{(self.n_channels_, self.n_times_)}"
            )
        return decimate_epochs(X, int(self.factor)).reshape(len(X), -1)
