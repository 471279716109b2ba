"""Unsupervised per-session latency alignment of ERP epochs.

The delay between a stimulus marker and the EEG samples it evokes is not the same in
every recording setup (with the Muse headband the samples travel over Bluetooth LE,
~40 +/- 20 ms, and the stimulus PC, the driver and the recorder changed between the
2017 and the 2018 sessions of EEGNotebooks_VisualP300). A decoder trained on one
session then reads another session's response at the wrong times.

Every epoch, target or not, holds the visual evoked response to the image, so each
session's **label-free grand average** (all its epochs, classes pooled) gives that
session's timing. :func:`estimate_lag` finds the shift that best matches a grand
average to a reference (cross-correlation, summed over channels), and
:class:`LatencyAlignment` crops a fixed-length window from each session's epochs,
shifted by that session's lag. No labels are used, neither in training nor in the
test session.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from neurodec.errors import InvalidInputError
from neurodec.versioning import VersionedStateMixin

__all__ = ["estimate_lag", "shifted_crop", "LatencyAlignment"]

log = logging.getLogger(__name__)


def _candidate_shifts(max_shift: int) -> np.ndarray:
    """0, -1, 1, -2, 2, ...: ``argmax`` then breaks ties towards the smallest shift."""
    s = np.arange(1, max_shift + 1)
    return np.concatenate([[0], np.ravel(np.column_stack([-s, s]))]).astype(int)


def estimate_lag(evoked: np.ndarray, reference: np.ndarray, start: int, max_shift: int) -> int:
    """Shift (samples) at which ``evoked`` best matches ``reference``.

    Parameters
    ----------
    evoked : ndarray, shape (n_channels, n_times)
        A grand average (or any evoked response) on the epoch's full time axis.
    reference : ndarray, shape (n_channels, length)
        The reference response, aligned with ``evoked[:, start:start + length]``
        at shift 0.
    start : int
        Where the reference window starts in ``evoked`` at shift 0.
    max_shift : int
        Shifts from ``-max_shift`` to ``+max_shift`` are tried; ``start - max_shift >= 0``
        and ``start + length + max_shift <= n_times`` are required.

    Returns
    -------
    int
        The shift ``s`` maximising ``sum_c <evoked[c, start+s : start+s+length], reference[c]>``
        (the cross-correlation summed over channels; ties go to the smallest ``|s|``).
        A positive lag means the response comes later than the reference's.
    """
    evoked = np.asarray(evoked, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    length = reference.shape[-1]
    windows = sliding_window_view(evoked, length, axis=-1)  # (C, n_times - length + 1, length)
    shifts = _candidate_shifts(max_shift)
    score = np.einsum("ckl,cl->k", windows[:, start + shifts], reference)
    return int(shifts[int(np.argmax(score))])


def shifted_crop(X: np.ndarray, start: int, length: int, shift: int = 0) -> np.ndarray:
    """``X[..., start + shift : start + shift + length]`` (a copy)."""
    return np.array(X[..., start + shift : start + shift + length], dtype=np.float64)


class LatencyAlignment(VersionedStateMixin, TransformerMixin, BaseEstimator):
    """Crop each session's epochs at its own stimulus-to-EEG delay (no labels).

    ``fit`` aligns the training sessions to each other: the reference is the mean of the
    sessions' grand averages (all epochs, classes pooled) at their current crops; each
    session's lag is re-estimated against it (:func:`estimate_lag`), ``n_iter`` times,
    keeping the mean training lag at 0. ``transform`` estimates the lag of each domain of
    the batch it gets from that domain's own grand average against the training reference
    and returns ``length`` samples starting ``start + lag``.

    The epochs must leave a margin around the nominal window: by default the window is
    centred and the lag searched over all the margin. For the Muse P300 data at 256 Hz,
    ``P300(tmin=-0.1)`` gives 0.9 s epochs (-0.1 to 0.8 s, 232 samples) and ``length=180``
    crops 0.7 s starting between -0.1 and +0.1 s (lags of +/-26 samples); on the default
    0-0.8 s epochs (206 samples) the same step crops 0.7 s starting between 0 and 0.1 s
    (+/-13 samples).

    The evaluation engine passes ``domains`` (one id per trial, "subject/session") to
    steps that set ``requires_domains = True`` at fit, and predicts each test domain on
    its own, so a test session is aligned from its own unlabelled epochs. A batch without
    ``domains`` is one domain. A lag from few epochs is noisy: give whole sessions.

    Parameters
    ----------
    length : int
        Samples in the output window.
    max_shift : int or None, default=None
        Largest lag tried, in samples, either way. None: all the margin the epochs leave
        around the nominal window (``min(start, n_times - length - start)``, set at fit as
        ``max_shift_``). 0 makes the step a fixed crop.
    start : int or None, default=None
        Start of the nominal (lag 0) window in the input epochs; None centres it,
        ``(n_times - length) // 2``.
    n_iter : int, default=3
        Alternations of (reference, training lags) in ``fit``.

    Attributes
    ----------
    reference_ : ndarray, shape (n_channels, length)
        The aligned training grand average test domains are matched to.
    lags_ : dict
        The lag (samples) of each training domain.
    start_ : int
        The nominal window start used.
    max_shift_ : int
        The largest lag searched.
    n_features_in_ : int
        Channels seen in ``fit``.
    n_times_in_ : int
        Samples per epoch seen in ``fit``.
    """

    requires_domains = True

    def __init__(self, length: int, max_shift: int | None = None, start: int | None = None, n_iter: int = 3):
        self.length = length
        self.max_shift = max_shift
        self.start = start
        self.n_iter = n_iter

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.required = False
        return tags

    # -- checks ---------------------------------------------------------------
    @staticmethod
    def _int(name: str, value, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise InvalidInputError(f"{name} must be an integer >= {minimum}, got {value!r}.")
        return int(value)

    def _check_X(self, X) -> np.ndarray:
        from neurodec.riemann.estimators import as_signals

        return as_signals(X)

    def _window(self, n_times: int) -> tuple[int, int]:
        """The nominal start and the largest shift for epochs of ``n_times`` samples."""
        length = self._int("length", self.length, 1)
        self._int("n_iter", self.n_iter, 1)
        start = (n_times - length) // 2 if self.start is None else self._int("start", self.start, 0)
        if self.max_shift is None:
            max_shift = max(min(start, n_times - length - start), 0)
        else:
            max_shift = self._int("max_shift", self.max_shift, 0)
        if start - max_shift < 0 or start + length + max_shift > n_times:
            raise InvalidInputError(
                f"epochs of {n_times} samples are too short for a {length}-sample window "
                f"starting at sample {start} and shifted by up to +/-{max_shift} samples. Epoch "
                "with a margin on both sides (e.g. P300(tmin=-0.1) for the Muse data), or "
                "lower length/max_shift."
            )
        return start, max_shift

    @staticmethod
    def _domains(domains, n: int) -> np.ndarray:
        from neurodec.riemann.alignment import check_domains

        return check_domains(domains, n)

    # -- fit / transform --------------------------------------------------------
    def _reference(self, averages: dict, lags: dict) -> np.ndarray:
        return np.mean(
            [shifted_crop(averages[d], self.start_, self.length, lags[d]) for d in averages], axis=0
        )

    def fit(self, X, y=None, domains=None):
        """Align the training domains' grand averages to each other (labels ignored).

        Parameters
        ----------
        X : ndarray, shape (n_trials, n_channels, n_times)
            Epochs with a margin of ``max_shift`` samples around the nominal window.
        y : ignored
        domains : array-like, shape (n_trials,), optional
            Domain (session) of each trial; None: one domain.
        """
        X = self._check_X(X)
        return self._fit(X, self._domains(domains, len(X)))

    def estimate_lags(self, X, domains=None) -> dict:
        """Lag (samples) of each domain of ``X`` against the training reference.

        Parameters
        ----------
        X : ndarray, shape (n_trials, n_channels, n_times)
        domains : array-like, shape (n_trials,), optional
            None: the batch is one domain.

        Returns
        -------
        dict
            Domain id -> lag (positive: the response comes later than in training).
        """
        X = self._check_X(X)
        return self._estimate_lags(X, self._domains(domains, len(X)))

    def transform(self, X, domains=None):
        """Crop every domain of ``X`` at its own lag.

        Parameters
        ----------
        X : ndarray, shape (n_trials, n_channels, n_times)
        domains : array-like, shape (n_trials,), optional
            None: the batch is one domain.

        Returns
        -------
        ndarray, shape (n_trials, n_channels, length)
        """
        X = self._check_X(X)
        domains = self._domains(domains, len(X))
        lags = self._estimate_lags(X, domains)
        log.debug("LatencyAlignment: lags %s (samples)", lags)
        return self._crop(X, domains, lags)

    def fit_transform(self, X, y=None, domains=None):
        """``fit(X, y, domains)``, then each training domain cropped at its fitted lag."""
        X = self._check_X(X)
        domains = self._domains(domains, len(X))
        return self._crop(X, domains, self._fit(X, domains).lags_)

    # -- the work, on checked arrays ----------------------------------------------
    @staticmethod
    def _domain_averages(X: np.ndarray, domains: np.ndarray) -> dict:
        """Each domain's grand average (all its trials, labels unused), in order of appearance."""
        return {d: X[domains == d].mean(axis=0) for d in dict.fromkeys(domains.tolist())}

    def _fit(self, X: np.ndarray, domains: np.ndarray):
        self.start_, self.max_shift_ = self._window(X.shape[-1])
        self.n_features_in_, self.n_times_in_ = X.shape[1], X.shape[2]
        averages = self._domain_averages(X, domains)
        lags = dict.fromkeys(averages, 0)
        ms = self.max_shift_
        for _ in range(int(self.n_iter) if ms else 0):
            ref = self._reference(averages, lags)
            new = {d: estimate_lag(a, ref, self.start_, ms) for d, a in averages.items()}
            centre = int(np.round(np.mean(list(new.values()))))
            new = {d: int(np.clip(v - centre, -ms, ms)) for d, v in new.items()}
            if new == lags:
                break
            lags = new
        self.lags_ = lags
        self.reference_ = self._reference(averages, lags)
        log.debug("LatencyAlignment: training lags %s (samples)", lags)
        return self

    def _estimate_lags(self, X: np.ndarray, domains: np.ndarray) -> dict:
        check_is_fitted(self, "reference_")
        if X.shape[1:] != (self.n_features_in_, self.n_times_in_):
            raise InvalidInputError(
                f"X has epochs of shape {X.shape[1:]} (channels, samples), but LatencyAlignment "
                f"was fitted on {(self.n_features_in_, self.n_times_in_)}; epoch the same way."
            )
        return {
            d: estimate_lag(a, self.reference_, self.start_, self.max_shift_)
            for d, a in self._domain_averages(X, domains).items()
        }

    def _crop(self, X: np.ndarray, domains: np.ndarray, lags: dict) -> np.ndarray:
        """Each domain's trials cropped at that domain's lag."""
        out = np.empty(X.shape[:2] + (int(self.length),))
        for d, lag in lags.items():
            out[domains == d] = shifted_crop(X[domains == d], self.start_, self.length, lag)
        return out
