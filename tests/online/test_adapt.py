"""Online re-centering: running SPD means, the OnlineRecentering step, the streaming decoder."""

from __future__ import annotations

import numpy as np
import pytest
from pyriemann.estimation import Covariances
from pyriemann.geometry.distance import distance_riemann
from pyriemann.geometry.mean import mean_riemann
from pyriemann.tangentspace import TangentSpace
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from neurodec.errors import InvalidInputError
from neurodec.online import OnlineRecentering, StreamingDecoder
from neurodec.riemann import Recentering
from neurodec.riemann.alignment import domain_mean
from neurodec.riemann.running import running_means, spd_mask, update_weights, whiten


def _spd(n, c=5, seed=0, mix=None):
    rng = np.random.default_rng(seed)
    mix = rng.standard_normal((c, c)) if mix is None else mix
    z = rng.standard_normal((n, c, 3 * c))
    return mix @ (z @ np.swapaxes(z, 1, 2) / (3 * c)) @ mix.T


def test_running_riemann_mean_converges_to_the_batch_mean():
    covs = _spd(600)
    means = running_means(None, covs, update_weights(0, len(covs)), "riemann")
    batch = mean_riemann(covs)
    spread = np.mean([distance_riemann(c, batch) for c in covs[:100]])
    errors = [distance_riemann(m, batch) for m in means[[49, 599]]]
    assert errors[1] < 0.01 * spread  # close to the batch Karcher mean
    assert errors[1] < errors[0]  # and closer with more windows


@pytest.mark.parametrize("metric", ["logeuclid", "euclid"])
def test_running_log_euclidean_and_euclidean_means_are_the_batch_means(metric):
    covs = _spd(40, seed=1)
    means = running_means(None, covs, update_weights(0, 40), metric)
    for k in (0, 9, 39):
        np.testing.assert_allclose(means[k], domain_mean(covs[: k + 1], metric), rtol=1e-9, atol=1e-12)
    # two batches give the same means as one
    first = running_means(None, covs[:13], update_weights(0, 13), metric)
    rest = running_means(first[-1], covs[13:], update_weights(13, 27), metric)
    np.testing.assert_allclose(np.concatenate([first, rest]), means, rtol=1e-9, atol=1e-12)


def test_update_weights_prior_and_forgetting():
    np.testing.assert_allclose(update_weights(0, 3), [1, 1 / 2, 1 / 3])
    np.testing.assert_allclose(update_weights(2, 2, prior_weight=2), [1 / 5, 1 / 6])
    np.testing.assert_allclose(update_weights(0, 4, memory=2), [1, 1 / 2, 1 / 2, 1 / 2])
    with pytest.raises(InvalidInputError, match="memory"):
        update_weights(0, 1, memory=0.5)
    with pytest.raises(InvalidInputError, match="prior_weight"):
        update_weights(0, 1, prior_weight=-1)


def test_forgetting_follows_a_drifting_stream():
    a, b = _spd(300, seed=2), _spd(300, seed=3, mix=np.diag([1, 2, 4, 8, 16.0]))
    stream = np.concatenate([a, b])
    plain = running_means(None, stream, update_weights(0, 600), "riemann")[-1]
    forget = running_means(None, stream, update_weights(0, 600, memory=50), "riemann")[-1]
    target = mean_riemann(b)
    assert distance_riemann(forget, target) < 0.5 * distance_riemann(plain, target)


def test_whitening_centres_a_domain():
    covs = _spd(50, seed=4)
    out = whiten(covs, mean_riemann(covs))
    np.testing.assert_allclose(mean_riemann(out), np.eye(5), atol=1e-6)


def test_online_recentering_is_batch_independent_and_ignores_bad_matrices():
    ref = _spd(30, seed=5)
    covs = _spd(20, seed=6)
    one = OnlineRecentering().fit(ref)
    whole = one.transform(covs)
    parts = OnlineRecentering().fit(ref)
    pieces = np.concatenate([parts.transform(covs[i : i + 3]) for i in range(0, 20, 3)])
    np.testing.assert_allclose(pieces, whole, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(one.mean_, parts.mean_, rtol=1e-12)
    # the last window is whitened by the mean of all 20 (the offline re-centering of a session)
    np.testing.assert_allclose(one.mean_, running_means(None, covs, update_weights(0, 20), "riemann")[-1])

    bad = covs.copy()
    bad[5] = np.nan  # non-finite
    bad[9] = 0.0  # singular (a flat window)
    with_bad = OnlineRecentering().fit(ref)
    out = with_bad.transform(bad)
    clean = OnlineRecentering().fit(ref)
    clean.transform(covs[[i for i in range(20) if i not in (5, 9)]])
    assert with_bad.n_seen_ == 18 and with_bad.n_rejected_ == 2
    np.testing.assert_allclose(with_bad.mean_, clean.mean_, rtol=1e-12)
    assert np.isfinite(out).all()
    assert spd_mask(bad).tolist() == [i not in (5, 9) for i in range(20)]


def test_online_recentering_prior_weight():
    ref, covs = _spd(30, seed=7), _spd(10, seed=8)
    fixed = OnlineRecentering(prior_weight=float("inf")).fit(ref)
    fixed.transform(covs)
    np.testing.assert_allclose(fixed.mean_, fixed.reference_)
    fixed.reset()
    np.testing.assert_allclose(fixed.transform(covs), whiten(covs, mean_riemann(ref)), rtol=1e-10)
    prior = OnlineRecentering(prior_weight=10).fit(ref)
    prior.transform(covs)
    free = OnlineRecentering().fit(ref)
    free.transform(covs)
    # a prior keeps the mean nearer the training reference
    assert distance_riemann(prior.mean_, prior.reference_) < distance_riemann(free.mean_, free.reference_)
    with pytest.raises(InvalidInputError, match="prior_weight"):
        OnlineRecentering(prior_weight=-1).fit(ref)


# -- in the streaming decoder ------------------------------------------------------------
SFREQ, CH = 100.0, ["C3", "Cz", "C4", "Pz"]


def _recenter_pipeline(recenter=True, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 4, 100))
    X[20:, 0] *= 3
    y = np.repeat(["a", "b"], 20)
    steps = (
        [Covariances("oas")] + ([Recentering()] if recenter else []) + [TangentSpace(), LogisticRegression()]
    )
    return make_pipeline(*steps).fit(X, y)


def _dec(est, **kw):
    return StreamingDecoder(est, window=1.0, step=0.25, sfreq=SFREQ, ch_names=CH, fmin=None, fmax=None, **kw)


def test_streaming_decoder_adapts_a_recentering_pipeline_only():
    est = _recenter_pipeline()
    dec = _dec(est)
    assert isinstance(dec.adapter, OnlineRecentering) and dec.estimator is est
    assert est.steps[1][1].__class__ is Recentering  # the fitted pipeline is left as it was
    assert _dec(_recenter_pipeline(recenter=False)).adapter is None
    fixed = _dec(est, adapt=False)
    assert np.isinf(fixed.adapter.prior_weight)
    assert _dec(est, adapt={"memory": 20}).adapter.memory == 20
    with pytest.raises(InvalidInputError, match="trained with re-centering"):
        _dec(_recenter_pipeline(recenter=False), adapt={"memory": 20})
    with pytest.raises(InvalidInputError, match="unknown online re-centering option"):
        _dec(est, adapt={"forget": 3})


def test_streamed_windows_are_recentred_by_the_running_mean_of_decoded_windows():
    est = _recenter_pipeline()
    dec = _dec(est)
    x = np.random.default_rng(3).standard_normal((4, 1000)) * 5
    x[:, 400:430] = np.nan  # flagged windows: never decoded, never in the mean
    out = []
    for i in range(0, 1000, 10):
        out += dec.push(x[:, i : i + 10])
    ok = [d for d in out if d.ok]
    assert any(not d.ok and "nan" in d.quality for d in out)
    assert dec.adapter.n_seen_ == len(ok) == dec.n_decoded
    # the same windows re-centred by their running mean, offline
    covs = est[0].transform(np.stack([x[:, d.sample - 100 : d.sample] for d in ok]))
    means = running_means(None, covs, update_weights(0, len(covs)), "riemann")
    tail = make_pipeline(*[s for _, s in est.steps[2:]])
    expected = tail.predict_proba(whiten(covs, means))
    np.testing.assert_allclose(np.stack([d.probabilities for d in ok]), expected, rtol=1e-8, atol=1e-10)
    dec.reset()
    assert dec.adapter.n_seen_ == 0 and dec.adapter.mean_ is None


def _session(n_trials, gains, seed, n=100):
    """A stream of back-to-back 1-s trials: class 'b' has more power on source 1 than 'a'
    (independent sources of unequal power), seen through per-channel ``gains`` (a session's
    electrode impedances)."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.repeat(["a", "b"], n_trials // 2))
    power = np.array([4.0, 1.0, 2.0, 0.5])
    x = np.empty((4, n_trials * n))
    for k, lab in enumerate(labels):
        p = power * (np.array([1, 2.5, 1, 1]) if lab == "b" else 1.0)
        x[:, k * n : (k + 1) * n] = rng.standard_normal((4, n)) * np.sqrt(p)[:, None]
    return np.asarray(gains, dtype=float)[:, None] * x, np.arange(n_trials) * n, labels


def test_online_recentering_recovers_a_session_shift_that_the_fixed_decoder_does_not():
    from neurodec.online import EventLockedDecoder
    from neurodec.online.events import replay_events

    x, onsets, y = _session(120, [1, 1, 1, 1], seed=0)
    X = np.stack([x[:, o : o + 100] for o in onsets])
    est = make_pipeline(Covariances("oas"), Recentering(), TangentSpace(), LogisticRegression()).fit(X, y)

    def accuracy(x, onsets, y, adapt):
        dec = EventLockedDecoder(est, window=1.0, sfreq=SFREQ, ch_names=CH, adapt=adapt)
        out = replay_events(dec, x, onsets, y, chunk_size=25, delay=0.3)
        assert [d.onset for d in out] == onsets.tolist() and all(d.ok for d in out)
        return np.mean([d.prediction == d.code for d in out])

    within = accuracy(*_session(80, [1, 1, 1, 1], seed=1), adapt=False)
    shifted = _session(80, [0.3, 3.0, 1.0, 2.0], seed=2)  # another day: other electrode gains
    fixed, online = accuracy(*shifted, adapt=False), accuracy(*shifted, adapt="auto")
    assert within > 0.85
    assert fixed < within - 0.2  # the session shift costs the fixed decoder
    assert online > within - 0.1  # re-centering by the running mean wins it back, live


@pytest.mark.slow
def test_online_recentering_recovers_part_of_simulated_mi_cross_session_drop():
    from sklearn.metrics import roc_auc_score

    from neurodec.datasets.simulated import SimulatedMI
    from neurodec.online import EventLockedDecoder
    from neurodec.online.causal import causal_run_epochs, run_events
    from neurodec.online.events import replay_events
    from neurodec.paradigms import LeftRightImagery

    ds = SimulatedMI(
        n_subjects=2, n_sessions=2, n_runs=1, n_trials=20, n_eeg_channels=32, sfreq=128.0,
        session_shift=3.0, n_background_sources=32,
    )  # fmt: skip
    spec = LeftRightImagery().epoching_spec(ds)
    runs = ds.get_data(subjects=[2])[2]
    X, y, _ = causal_run_epochs(runs["0"]["0"], spec)  # trained as the stream filters
    est = make_pipeline(Covariances("oas"), Recentering(), TangentSpace(), LogisticRegression()).fit(X, y)
    data, onsets, labels, ch_names, sfreq, n_times = run_events(runs["1"]["0"], spec)  # the next session

    def auc(adapt):
        dec = EventLockedDecoder(
            est, window=n_times / sfreq, sfreq=sfreq, ch_names=ch_names, fmin=spec.fmin, fmax=spec.fmax,
            scale=1e6, adapt=adapt,
        )  # fmt: skip
        out = [d for d in replay_events(dec, data, onsets, labels, chunk_size=128) if d.ok]
        assert len(out) == len(onsets)
        return roc_auc_score([d.code == "right_hand" for d in out], [d.probabilities[1] for d in out])

    fixed, online = auc(False), auc("auto")
    assert fixed < 0.75 and online > fixed + 0.1  # measured: 0.68 -> 0.84 (within-session 1.0)
