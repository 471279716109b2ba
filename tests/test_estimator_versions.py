"""Pickled neurodec estimators record the neurodec version and warn when loaded under another."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import neurodec
from neurodec.errors import InconsistentVersionWarning
from neurodec.features import DecimatedEpochs, LatencyAlignment
from neurodec.riemann import AugmentedCovariances, Recentering, TunedSVC


def _fitted():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3, 64))
    y = np.array(["a", "b"] * 6)
    covs = AugmentedCovariances(order=2, lag=2).fit(X).transform(X)
    return [
        AugmentedCovariances(order=2, lag=2).fit(X),
        Recentering().fit(covs),
        TunedSVC(cv=2).fit(X[:, 0], y),
        DecimatedEpochs(factor=4).fit(X),
        LatencyAlignment(length=48).fit(X),
    ]


@pytest.mark.parametrize("est", _fitted(), ids=lambda e: type(e).__name__)
def test_version_is_recorded_and_checked_on_load(est, monkeypatch):
    blob = pickle.dumps(est)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: silent
        again = pickle.loads(blob)
    assert type(again) is type(est) and not hasattr(again, "_neurodec_version")
    assert est.__getstate__()["_neurodec_version"] == neurodec.__version__

    monkeypatch.setattr(neurodec, "__version__", "0.0.1.dev0")  # pickled by another release
    old = pickle.dumps(est)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning) as record:
        loaded = pickle.loads(old)
    warning = record[0].message
    assert warning.original_version == "0.0.1.dev0" and warning.current_version == neurodec.__version__
    assert warning.estimator_name == type(est).__name__
    assert "0.0.1.dev0" in str(warning) and neurodec.__version__ in str(warning)
    assert not hasattr(loaded, "_neurodec_version")

    state = est.__getstate__()
    del state["_neurodec_version"]  # pickled before versions were recorded
    blank = type(est).__new__(type(est))
    with pytest.warns(InconsistentVersionWarning, match="unknown"):
        blank.__setstate__(state)
