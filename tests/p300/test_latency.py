"""LatencyAlignment: known per-session delays recovered without labels; estimator contract."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from neurodec.errors import InvalidInputError
from neurodec.evaluation.engine import DomainwisePredictor, domain_steps
from neurodec.features import LatencyAlignment, estimate_lag, shifted_crop

FS = 256
N_TIMES = 232  # -0.1 to 0.8 s at 256 Hz: P300(tmin=-0.1) on the Muse data


def _bump(t, centre, width):
    return np.exp(-0.5 * ((t - centre) / width) ** 2)


def _session(delay, n=300, seed=0, noise=3.0, sign=1.0):
    """Epochs from -0.1 s whose responses come ``delay`` samples late: a visual evoked
    response on every trial (positive at 0.15 s, negative at 0.25 s) and, on targets
    (25 %), a P300 bump at 0.35 s (negative at the ear channels, ``sign`` flips it)."""
    rng = np.random.default_rng(seed)
    t = (np.arange(N_TIMES) - 26 - delay) / FS
    y = (rng.random(n) < 0.25).astype(int)
    vep = 4 * _bump(t, 0.15, 0.03) - 3 * _bump(t, 0.25, 0.04)
    p300 = 4 * _bump(t, 0.35, 0.05)
    X = rng.normal(0, noise, size=(n, 4, N_TIMES))
    X += np.array([1.0, 0.3, 0.3, 1.0])[:, None] * vep
    X[y == 1] += sign * np.array([-1.0, 0.3, 0.3, -1.0])[:, None] * p300
    return X, y


def test_estimate_lag_recovers_a_known_shift():
    t = np.arange(N_TIMES) / FS
    wave = np.vstack([_bump(t, 0.3, 0.03), -_bump(t, 0.4, 0.05)])
    ref = wave[:, 26:206]
    for shift in (-20, -3, 0, 7, 26):
        moved = np.roll(wave, shift, axis=-1)
        assert estimate_lag(moved, ref, start=26, max_shift=26) == shift
    # the search stops at max_shift
    assert estimate_lag(np.roll(wave, 20, axis=-1), ref, start=26, max_shift=5) == 5


def test_shifted_crop():
    X = np.arange(2 * 3 * 10, dtype=float).reshape(2, 3, 10)
    np.testing.assert_array_equal(shifted_crop(X, 2, 4, shift=-1), X[..., 1:5])
    np.testing.assert_array_equal(shifted_crop(X, 2, 4, shift=3), X[..., 5:9])


def test_training_sessions_aligned_to_each_other_and_test_session_to_them():
    """Sessions delayed by -6, +10 and (test) +22 samples: the fitted lags differ by the
    true 16 samples (their mean is 0), the test session's lag is 22 - 2 = 20 samples after
    the training reference, and every crop starts at the same point of the response."""
    Xa, _ = _session(-6, seed=1)
    Xb, _ = _session(10, seed=2)
    Xt, _ = _session(22, seed=3)
    X = np.concatenate([Xa, Xb])
    domains = np.repeat(["1/0", "1/1"], len(Xa))
    step = LatencyAlignment(length=180, max_shift=26).fit(X, domains=domains)
    assert step.lags_["1/1"] - step.lags_["1/0"] == 16
    assert abs(step.lags_["1/1"] + step.lags_["1/0"]) <= 1
    assert abs(step.estimate_lags(Xt)[0] - 20) <= 1
    ref_start = 26 + 2  # the training reference is the mean of -6 and +10: delay +2
    assert step.start_ == 26
    # a test batch given with domains is aligned domain by domain
    lags = step.estimate_lags(np.concatenate([Xa, Xt]), domains=np.repeat(["a", "t"], len(Xa)))
    assert abs(lags["a"] - (-6 - 2)) <= 1 and abs(lags["t"] - (22 - 2)) <= 1
    out = step.transform(Xt)
    assert out.shape == (len(Xt), 4, 180)
    lag = step.estimate_lags(Xt)[0]
    np.testing.assert_array_equal(out, Xt[:, :, 26 + lag : 206 + lag])
    assert ref_start + lag - 26 >= 20  # cropped near the true delay, not at the nominal start


def test_alignment_rescues_a_decoder_trained_on_another_delay():
    """A decoder trained on sessions without delay reads a session whose responses come
    ~86 ms late; aligned, it decodes it again (the labels of the test session are never
    used), and a session with the training delay is decoded as before."""
    from pyriemann.estimation import XdawnCovariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    Xa, ya = _session(0, seed=4, noise=6.0)
    Xb, yb = _session(0, seed=5, noise=6.0)
    Xt, yt = _session(22, seed=6, noise=6.0)
    Xs, ys = _session(0, seed=7, noise=6.0)
    X, y = np.concatenate([Xa, Xb]), np.concatenate([ya, yb])
    domains = np.repeat([0, 1], len(Xa))

    def pipe(max_shift):
        return make_pipeline(
            LatencyAlignment(length=180, max_shift=max_shift),
            XdawnCovariances(nfilter=2, estimator="oas", xdawn_estimator="scm"),
            TangentSpace(),
            LogisticRegression(max_iter=1000),
        )

    aligned = pipe(26).fit(X, y, latencyalignment__domains=domains)
    fixed = pipe(0).fit(X, y, latencyalignment__domains=domains)
    auc = {
        name: roc_auc_score(yt, DomainwisePredictor(m, np.zeros(len(Xt))).decision_function(Xt))
        for name, m in (("aligned", aligned), ("fixed", fixed))
    }
    assert auc["aligned"] > 0.85 and auc["aligned"] > auc["fixed"] + 0.1, auc
    same = [roc_auc_score(ys, m.decision_function(Xs)) for m in (aligned, fixed)]
    assert abs(same[0] - same[1]) < 0.02, same


def test_default_max_shift_is_the_margin_around_the_centred_window():
    X, _ = _session(0, n=20, seed=9)
    assert LatencyAlignment(length=180).fit(X).max_shift_ == 26  # -0.1-0.8 s epochs
    step = LatencyAlignment(length=180).fit(X[:, :, 26:])  # 0-0.8 s epochs: 206 samples
    assert (step.start_, step.max_shift_) == (13, 13)
    assert LatencyAlignment(length=180, start=20).fit(X).max_shift_ == 20
    assert LatencyAlignment(length=232).fit(X).max_shift_ == 0


def test_no_domains_is_one_domain_and_max_shift_zero_is_a_crop():
    X, _ = _session(5, n=60, seed=8)
    step = LatencyAlignment(length=180, max_shift=26)
    out = step.fit_transform(X)
    assert step.lags_ == {0: 0}
    np.testing.assert_array_equal(out, step.transform(X))
    np.testing.assert_array_equal(out, X[:, :, 26:206])
    crop = LatencyAlignment(length=100, start=10, max_shift=0).fit(X)
    np.testing.assert_array_equal(
        crop.transform(np.roll(X, 9, axis=-1)), np.roll(X, 9, axis=-1)[:, :, 10:110]
    )


@pytest.mark.parametrize(
    "params, X, match",
    [
        (
            {"length": 180, "max_shift": 26},
            np.zeros((3, 4, 206)),
            r"epochs of 206 samples are too short.*P300\(tmin=-0.1\)",
        ),
        ({"length": 0}, np.zeros((3, 4, 20)), "length must be an integer >= 1"),
        ({"length": 10, "max_shift": -1}, np.zeros((3, 4, 20)), "max_shift must be an integer >= 0"),
        ({"length": 10, "max_shift": 2.5}, np.zeros((3, 4, 20)), "max_shift must be an integer"),
        ({"length": 10, "n_iter": 0}, np.zeros((3, 4, 20)), "n_iter must be an integer >= 1"),
        ({"length": 10, "start": 15}, np.zeros((3, 4, 20)), "too short"),
        ({"length": 30}, np.zeros((3, 4, 20)), "too short"),
        ({"length": 10}, np.zeros((3, 4, 20, 1)), r"must be \(n_trials, n_channels, n_times\)"),
        ({"length": 10}, np.full((3, 4, 20), np.nan), "NaN"),
    ],
)
def test_bad_input(params, X, match):
    with pytest.raises(InvalidInputError, match=match):
        LatencyAlignment(**params).fit(X)


def test_bad_domains_and_shape_mismatch():
    X = np.random.default_rng(0).normal(size=(6, 4, 40))
    with pytest.raises(InvalidInputError, match="one domain id per trial"):
        LatencyAlignment(length=20, max_shift=5).fit(X, domains=[0, 1])
    step = LatencyAlignment(length=20).fit(X)
    with pytest.raises(InvalidInputError, match="fitted on"):
        step.transform(X[:, :, :30])
    with pytest.raises(InvalidInputError, match="fitted on"):
        step.transform(X[:, :3])


def test_estimator_contract():
    step = LatencyAlignment(length=20, max_shift=5)
    assert step.requires_domains
    assert clone(step).get_params() == {"length": 20, "max_shift": 5, "start": None, "n_iter": 3}
    assert LatencyAlignment(length=20).get_params()["max_shift"] is None
    X = np.random.default_rng(1).normal(size=(6, 4, 40))
    fitted = pickle.loads(pickle.dumps(step.fit(X)))
    np.testing.assert_array_equal(fitted.transform(X), step.transform(X))
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from neurodec.features import DecimatedEpochs

    assert domain_steps(make_pipeline(step, DecimatedEpochs(4), LogisticRegression())) == ["latencyalignment"]


@pytest.mark.data
def test_real_subject2_sessions_are_about_80_ms_apart(data_root, tmp_path):
    """Subject 2's 2018 session (another site and setup) responds ~80 ms later than the
    2017 one in the label-free grand average, both ways round, and aligning makes the
    plain XdawnCov+TS+LR decoder less wrong on the other session."""
    from neurodec.config import pipelines_dir
    from neurodec.datasets import get_dataset
    from neurodec.evaluation.pipelines import load_pipelines
    from neurodec.paradigms import P300

    ds = get_dataset("EEGNotebooks_VisualP300", data_root=data_root, annotate_clipping=True, subjects=[2])
    X, y, meta = P300(tmin=-0.1, cache_dir=tmp_path).get_data(ds)
    assert X.shape[1:] == (4, 232)
    sessions = meta["session"].astype(str).to_numpy()
    target = (y == "Target").astype(int)
    pipes = load_pipelines(pipelines_dir(), paradigm="P300")
    for train, test, sign in (("0", "1", 1), ("1", "0", -1)):
        tr, te = sessions == train, sessions == test
        step = LatencyAlignment(length=180).fit(X[tr], domains=sessions[tr])
        assert step.max_shift_ == 26
        lag_ms = 1000 * step.estimate_lags(X[te])[0] / 256
        assert 60 <= sign * lag_ms <= 100, lag_ms
        aligned = clone(pipes["LatAlign+XdawnCov+TS+LR"]).fit(
            X[tr], target[tr], latencyalignment__domains=sessions[tr]
        )
        fixed = clone(aligned).set_params(latencyalignment__max_shift=0).fit(X[tr], target[tr])
        auc_aligned = roc_auc_score(target[te], aligned.decision_function(X[te]))
        auc_fixed = roc_auc_score(target[te], fixed.decision_function(X[te]))
        assert auc_aligned > auc_fixed + 0.04, (train, test, auc_aligned, auc_fixed)
