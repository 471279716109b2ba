"""Test helpers importable by subprocesses: a slow classifier and a domain-recording step."""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression


class SlowLogReg(LogisticRegression):
    """LogisticRegression whose fit sleeps, so a run can be killed mid-way."""

    def __init__(self, delay=0.1, C=1.0):
        super().__init__(C=C)
        self.delay = delay

    def fit(self, X, y, **kw):
        time.sleep(self.delay)
        return super().fit(X, y, **kw)


class RecordingRecenter(BaseEstimator, TransformerMixin):
    """Subtracts the mean of each domain (fit: per training domain; transform: of the
    batch it is given). Records what it saw in a class-level log."""

    requires_domains = True
    log: list = []

    def fit(self, X, y=None, domains=None):
        RecordingRecenter.log.append(("fit", None if domains is None else sorted(set(domains))))
        return self

    def transform(self, X, domains=None):
        RecordingRecenter.log.append(("transform", len(X), y_none(domains)))
        X = np.asarray(X, dtype=float).reshape(len(X), -1)
        if domains is None:
            return X - X.mean(axis=0)
        out = X.copy()
        for d in np.unique(domains):
            out[domains == d] -= X[domains == d].mean(axis=0)
        return out

    def fit_transform(self, X, y=None, domains=None):
        return self.fit(X, y, domains=domains).transform(X, domains=domains)


def y_none(d):
    return None if d is None else len(set(d))
