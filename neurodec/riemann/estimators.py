"""Thin scikit-learn estimators over :mod:`neurodec.riemann`'s array functions.

* :class:`AugmentedCovariances` — signals (n, C, T) -> ACMs (n, m*C, m*C); with
  ``order="auto"``/``lag="auto"`` the embedding is chosen inside ``fit`` from the training
  data only (``selection="fast" | "ami-fnn" | "grid"``).
* :class:`Recentering` — per-domain unsupervised re-centering of covariance matrices.

Signals may be given as arrays or as ``mne.Epochs`` (read with ``get_data()``); a 2-D
array ``(n_trials, n_times)`` is read as single-channel trials.
"""

from __future__ import annotations

import logging

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from neurodec.errors import InvalidInputError, UnknownNameError
from neurodec.riemann.acm import ESTIMATORS, augmented_covariances, check_embedding
from neurodec.riemann.alignment import MEANS, check_covariances, check_domains, recenter
from neurodec.riemann.selection import METHODS, _select
from neurodec.versioning import VersionedStateMixin

__all__ = ["AugmentedCovariances", "Recentering", "as_signals"]

log = logging.getLogger(__name__)


class InvalidDtypeError(InvalidInputError, TypeError):
    """Input values that are not numbers (also a ``TypeError``, as NumPy raises)."""


def _reject_sparse(X) -> None:
    import scipy.sparse

    if scipy.sparse.issparse(X):
        raise InvalidInputError(
            "sparse input is not supported; pass a dense array of trials (n_trials, n_channels, n_times)."
        )


def _to_float_array(X) -> np.ndarray:
    _reject_sparse(X)
    try:
        arr = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise InvalidInputError(
            "X must be an array of trials (n_trials, n_channels, n_times) or mne.Epochs."
        ) from exc
    if np.iscomplexobj(arr):
        raise InvalidInputError("Complex data not supported; pass real-valued signals.")
    try:
        return arr.astype(np.float64, copy=False)
    except TypeError as exc:
        raise InvalidDtypeError(f"X must hold numbers: {exc}") from exc
    except ValueError as exc:
        raise InvalidInputError(f"X must hold numbers, got dtype {arr.dtype}: {exc}") from exc


def as_signals(X) -> np.ndarray:
    """Return trials as a float64 (n_trials, n_channels, n_times) array.

    Accepts ``mne.Epochs`` (``get_data()``), 3-D arrays, and 2-D arrays read as
    single-channel trials ``(n_trials, n_times)``. Raises :class:`InvalidInputError` for
    anything else, for sparse, complex or non-numeric data, and for NaN/inf.
    """
    return _signals_and_width(X)[0]


def _signals_and_width(X, expected: int | None = None, owner: str = "") -> tuple[np.ndarray, int]:
    """The trials as 3-D float64 and the length of axis 1 of the input as given (channels
    of 3-D trials; scikit-learn's ``n_features_in_`` convention), checked against
    ``expected`` when given."""
    import mne

    if isinstance(X, mne.BaseEpochs):
        X = X.get_data()
    arr = _to_float_array(X)
    if expected is not None and arr.ndim in (2, 3) and arr.shape[1] != expected:
        raise InvalidInputError(
            f"X has {arr.shape[1]} features, but {owner} is expecting {expected} features "
            "as input (channels); pass the same channels as in fit."
        )
    if arr.ndim == 2:
        if arr.shape[1] < 2:
            raise InvalidInputError(
                f"{arr.shape[1]} feature(s) (shape={arr.shape}) while a minimum of 2 is "
                "required: a 2-D X is read as single-channel trials (n_trials, n_times) and "
                "needs at least 2 samples per trial."
            )
        width = arr.shape[1]
        arr = arr[:, None, :]
    elif arr.ndim == 3:
        width = arr.shape[1]
    else:
        raise InvalidInputError(
            f"X must be (n_trials, n_channels, n_times) or mne.Epochs, got shape {arr.shape}. "
            "Reshape your data to (n_trials, n_channels, n_times)."
        )
    if 0 in arr.shape:
        raise InvalidInputError(f"X is empty (shape {arr.shape}); pass at least one trial.")
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError("X contains NaN or infinite values; clean or drop those trials.")
    return arr, width


def _check_y(y, n: int) -> np.ndarray | None:
    if y is None:
        return None
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != n:
        raise InvalidInputError(f"y must be 1-D with one label per trial ({n}), got shape {y.shape}.")
    return y


class AugmentedCovariances(VersionedStateMixin, TransformerMixin, BaseEstimator):
    """Augmented covariance matrices (delay embedding + covariance), vectorised over trials.

    Parameters
    ----------
    order : int or "auto", default=4
        Embedding order ``m``; 1 is the ordinary spatial covariance. ``"auto"`` chooses it
        in ``fit`` with ``selection``.
    lag : int or "auto", default=5
        Embedding lag ``tau`` in samples; ``"auto"`` chooses it in ``fit``.
    estimator : {"oas", "lwf", "scm", "cov", "corr"}, default="oas"
        Covariance estimator (pyRiemann's names; ``"cov"`` is ``numpy.cov`` as in MOABB's
        ACM pipeline). ``"oas"``/``"lwf"`` are always SPD.
    selection : {"fast", "ami-fnn", "grid"}, default="fast"
        Selector used when ``order`` or ``lag`` is ``"auto"`` (see
        :mod:`neurodec.riemann.selection`). Only the data passed to ``fit`` is used.
    orders, lags : list of int or None, default=None
        Candidate grid for the selector (None: 1..10 each).
    cv : int, default=3
        Inner folds of the supervised selectors ("fast" repeats them with 5 shuffles and
        keeps the lowest order within one standard error of the best candidate, see
        :func:`neurodec.riemann.selection.select_fast`).
    sample_ratio : float, default=2.0
        Selectors "fast" and "ami-fnn": skip (fast) or cap (ami-fnn) orders that leave
        fewer than ``sample_ratio * order * C`` samples after embedding; 0 disables.
    random_state : int or None, default=0
        Seed of the selectors' inner folds / subsampling.

    Attributes
    ----------
    order_, lag_ : int
        The embedding used by ``transform``.
    selection_ : EmbeddingChoice or None
        What the selector saw (scores per candidate), when one ran.
    n_features_in_ : int
        Number of channels seen in ``fit``.
    """

    def __init__(
        self,
        order=4,
        lag=5,
        estimator="oas",
        selection="fast",
        orders=None,
        lags=None,
        cv=3,
        sample_ratio=2.0,
        random_state=0,
    ):
        self.order = order
        self.lag = lag
        self.estimator = estimator
        self.selection = selection
        self.orders = orders
        self.lags = lags
        self.cv = cv
        self.sample_ratio = sample_ratio
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = True  # read as single-channel trials
        tags.target_tags.required = False
        return tags

    def _check_params(self) -> None:
        if self.estimator not in ESTIMATORS:
            raise UnknownNameError(
                f"unknown covariance estimator {self.estimator!r}; choose one of {', '.join(ESTIMATORS)}."
            )
        if self.selection not in METHODS:
            raise UnknownNameError(
                f"unknown selection method {self.selection!r}; choose one of {', '.join(METHODS)}."
            )
        for name in ("order", "lag"):
            value = getattr(self, name)
            if value == "auto":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise InvalidInputError(f"{name} must be a positive integer or 'auto', got {value!r}.")

    def fit(self, X, y=None):
        """Fix (or select, for ``"auto"``) the embedding from the training trials.

        Parameters
        ----------
        X : ndarray (n_trials, n_channels, n_times) or mne.Epochs
        y : array-like of shape (n_trials,), optional
            Needed only by the supervised selectors (``"fast"``, ``"grid"``).

        Returns
        -------
        self
        """
        self._check_params()
        X, n_features = _signals_and_width(X)
        y = _check_y(y, len(X))
        self.n_features_in_ = n_features
        self.selection_ = None
        auto_order, auto_lag = self.order == "auto", self.lag == "auto"
        if not (auto_order or auto_lag):
            check_embedding(self.order, self.lag, X.shape[-1])
            self.order_, self.lag_ = int(self.order), int(self.lag)
            return self
        orders = list(self.orders) if self.orders is not None else list(range(1, 11))
        lags = list(self.lags) if self.lags is not None else list(range(1, 11))
        if not auto_order:
            orders = [int(self.order)]
        if not auto_lag:
            lags = [int(self.lag)]
        if self.selection == "fast":
            options = dict(
                orders=orders,
                lags=lags,
                cv=self.cv,
                sample_ratio=self.sample_ratio,
                random_state=self.random_state,
            )
        elif self.selection == "grid":
            options = dict(
                orders=orders, lags=lags, cv=self.cv, estimator=self.estimator, random_state=self.random_state
            )
        else:
            options = dict(
                max_lag=max(lags),
                max_order=max(orders),
                sample_ratio=self.sample_ratio,
                random_state=self.random_state,
            )
        choice = _select(X, y, self.selection, **options)
        self.selection_ = choice
        self.order_ = choice.order if auto_order else int(self.order)
        self.lag_ = choice.lag if auto_lag else int(self.lag)
        check_embedding(self.order_, self.lag_, X.shape[-1])
        log.info(
            "AugmentedCovariances: selected order=%d lag=%d (%s)", self.order_, self.lag_, self.selection
        )
        return self

    def transform(self, X):
        """Augmented covariance matrix of every trial.

        Returns
        -------
        ndarray, shape (n_trials, order_ * n_channels, order_ * n_channels)
        """
        check_is_fitted(self, ["order_", "lag_"])
        X, _ = _signals_and_width(X, self.n_features_in_, type(self).__name__)
        return augmented_covariances(X, self.order_, self.lag_, self.estimator)


class Recentering(VersionedStateMixin, TransformerMixin, BaseEstimator):
    """Whiten each domain (subject/session) of covariance matrices by its own mean.

    Unsupervised: ``fit`` uses no labels and ``transform`` re-centres every domain of the
    batch it is given by that batch's own mean of the domain, so test domains are aligned
    from their unlabelled trials. A batch without ``domains`` is one domain.

    The evaluation engine passes ``domains`` (one id per trial) to steps that set
    ``requires_domains = True``: ``pipeline.fit(X, y, <step>__domains=ids)`` in training
    and one ``predict`` call per test domain.

    Parameters
    ----------
    metric : {"riemann", "logeuclid", "euclid"}, default="riemann"
        Mean used as each domain's centre.

    Attributes
    ----------
    means_ : dict
        The mean of each domain seen in ``fit`` (for inspection; ``transform`` recomputes
        the means of the batch it gets).
    n_features_in_ : int
        Matrix size seen in ``fit``.
    """

    requires_domains = True

    def __init__(self, metric="riemann"):
        self.metric = metric

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.required = False
        return tags

    def _check_metric(self) -> None:
        if self.metric not in MEANS:
            raise UnknownNameError(f"unknown mean {self.metric!r}; choose one of {', '.join(MEANS)}.")

    def fit(self, X, y=None, domains=None):
        """Record each training domain's mean (labels are ignored).

        Parameters
        ----------
        X : ndarray, shape (n_trials, C, C)
            SPD matrices.
        y : ignored
        domains : array-like, shape (n_trials,), optional
        """
        from neurodec.riemann.alignment import domain_mean

        self._check_metric()
        covs = check_covariances(X)
        domains = check_domains(domains, len(covs))
        self.n_features_in_ = covs.shape[1]
        self.means_ = {d: domain_mean(covs[domains == d], self.metric) for d in np.unique(domains)}
        return self

    def transform(self, X, domains=None):
        """Re-centre every domain of ``X`` by its own mean.

        Parameters
        ----------
        X : ndarray, shape (n_trials, C, C)
        domains : array-like, shape (n_trials,), optional
            None: the batch is one domain.
        """
        check_is_fitted(self, "means_")
        covs = check_covariances(X)
        if covs.shape[1] != self.n_features_in_:
            raise InvalidInputError(
                f"X holds {covs.shape[1]}x{covs.shape[1]} matrices, but Recentering was fitted "
                f"on {self.n_features_in_}x{self.n_features_in_}."
            )
        return recenter(covs, domains, self.metric)

    def fit_transform(self, X, y=None, domains=None):
        """``fit(X, y, domains)`` then ``transform(X, domains)``."""
        return self.fit(X, y, domains=domains).transform(X, domains=domains)
