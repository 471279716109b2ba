"""StreamingDecoder: windows, causal filter state, faults, threads (no transport)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from neurodec.errors import InvalidInputError
from neurodec.online import StreamingDecoder
from neurodec.online.filters import causal_bandpass_sos, initial_state, settling_samples
from neurodec.online.ringbuffer import RingBuffer
from tests.online._estimators import recorder

SFREQ = 100.0
CH = ["C3", "Cz", "C4", "Pz"]


def _decoder(est=None, **kw):
    kw = {"window": 1.0, "step": 0.1, "sfreq": SFREQ, "ch_names": CH, "fmin": 8, "fmax": 30, **kw}
    return StreamingDecoder(est if est is not None else recorder(len(CH)), **kw)


def _signal(n, seed=0):
    return np.random.default_rng(seed).standard_normal((len(CH), n)) * 3 + 50  # with a DC offset


def _push_all(dec, x, ts=None, chunk=10):
    out = []
    for i in range(0, x.shape[1], chunk):
        out += dec.push(x[:, i : i + chunk], None if ts is None else ts[i : i + chunk])
    return out


def test_filters_match_the_offline_design_and_settle():
    import mne

    sos = causal_bandpass_sos(8, 32, 160.0)
    offline = mne.filter.create_filter(None, 160.0, 8, 32, method="iir", verbose=False)["sos"]
    # the offline (zero-phase) sections, applied twice forward: the same magnitude response
    np.testing.assert_allclose(sos, np.vstack([offline, offline]))
    _, h_online = signal.sosfreqz(sos, worN=256, fs=160.0)
    _, h_offline = signal.sosfreqz(offline, worN=256, fs=160.0)
    np.testing.assert_allclose(np.abs(h_online), np.abs(h_offline) ** 2, atol=1e-12)
    assert causal_bandpass_sos(None, None, 160.0) is None
    n = settling_samples(sos, 160.0)
    assert 20 < n < 160  # a few cycles of the 8 Hz edge
    with pytest.raises(InvalidInputError, match="Nyquist"):
        causal_bandpass_sos(8, 90, 160.0)


def test_ring_buffer_windows_are_the_newest_samples():
    ring = RingBuffer(2, 7)
    x = np.arange(40, dtype=float).reshape(2, 20)
    for a, b in [(0, 3), (3, 9), (9, 10), (10, 20)]:
        ring.write(x[:, a:b])
        np.testing.assert_array_equal(ring.window(min(b, 7)), x[:, b - min(b, 7) : b])
    np.testing.assert_array_equal(ring.window(3, lag=2), x[:, 15:18])
    with pytest.raises(InvalidInputError):
        ring.window(6, lag=2)


@pytest.mark.parametrize("chunk", [1, 7, 10, 64, 1000])
def test_windows_are_the_causally_filtered_stream_whatever_the_chunking(chunk):
    x = _signal(1000)
    dec = _decoder()
    out = _push_all(dec, x, chunk=chunk)
    sos = causal_bandpass_sos(8, 30, SFREQ)
    ref, _ = signal.sosfilt(sos, x, axis=-1, zi=initial_state(sos, x[:, 0]))
    ends = np.arange(dec.n_window, 1001, dec.n_step)
    assert [d.sample for d in out] == ends.tolist()
    ok = [d for d in out if d.ok]
    # windows end every step; those closer to the start than window + settling are flagged
    assert [d.sample for d in ok] == [e for e in ends if e >= dec.n_window + dec.n_settle]
    assert all(d.quality == "settling" and d.prediction is None for d in out if not d.ok)
    seen = dec.estimator.windows
    expected = np.stack([ref[:, d.sample - dec.n_window : d.sample] for d in ok])
    np.testing.assert_allclose(seen, expected, rtol=1e-10, atol=1e-9)
    # timestamps are those of the newest sample of each window (regular when not given)
    np.testing.assert_allclose([d.timestamp for d in out], (ends - 1) / SFREQ)
    assert ok[0].probabilities.shape == (2,) and ok[0].prediction in ("a", "b")


def test_estimator_runs_with_one_blas_thread_and_the_limit_is_lifted_after():
    from threadpoolctl import threadpool_info

    before = [i["num_threads"] for i in threadpool_info()]
    dec = _decoder(settle=0.0)
    _push_all(dec, _signal(300), chunk=50)
    assert dec.estimator.threads_ and set(dec.estimator.threads_) == {1}
    assert [i["num_threads"] for i in threadpool_info()] == before


def test_decoders_in_threads_share_the_limit_until_the_last_one_leaves():
    from threadpoolctl import threadpool_info

    before = [i["num_threads"] for i in threadpool_info()]
    a, b = _decoder(), _decoder()
    a._threads.__enter__()
    b._threads.__enter__()  # a second decoder starts while the first computes
    a._threads.__exit__(None, None, None)
    assert {i["num_threads"] for i in threadpool_info()} == {1}  # b is still computing
    b._threads.__exit__(None, None, None)
    assert [i["num_threads"] for i in threadpool_info()] == before


def test_a_gap_resets_the_filter_and_flags_the_windows_it_touches():
    x = _signal(800, seed=1)
    ts = np.arange(800) / SFREQ
    ts[400:] += 0.5  # 50 samples lost after sample 399
    dec = _decoder()
    out = _push_all(dec, x, ts, chunk=20)
    assert dec.n_missing == 50
    span = dec.n_window + dec.n_settle
    for d in out:
        touched = 400 > d.sample - span and 400 < d.sample
        if touched:
            assert d.quality == "gap" and d.prediction is None and d.probabilities is None
        elif d.sample >= span:
            assert d.ok
    # after the gap the filter restarted from the first new sample, not from the old state
    sos = causal_bandpass_sos(8, 30, SFREQ)
    after, _ = signal.sosfilt(sos, x[:, 400:], axis=-1, zi=initial_state(sos, x[:, 400]))
    last = [d for d in out if d.ok][-1]
    np.testing.assert_allclose(dec.estimator.seen_[-1][-1], after[:, last.sample - 400 - dec.n_window :])


def test_duplicate_and_backward_timestamps_are_dropped_and_flagged():
    x = _signal(600, seed=2)
    ts = np.arange(600) / SFREQ
    dec = _decoder()
    out = dec.push(x[:, :300], ts[:300])
    out += dec.push(x[:, 299:300], ts[299:300])  # the newest sample again: a duplicate
    assert dec.n_dropped == 1 and dec.n_accepted == 300
    out += dec.push(x[:, 300:330], ts[300:330])
    # PlayerLSL's looping bug: the whole past again, then new samples, in one chunk
    out += dec.push(x[:, :340], ts[:340])
    assert dec.n_dropped == 331 and dec.n_accepted == 340
    out += dec.push(x[:, 340:], ts[340:])
    assert dec.n_accepted == 600 and dec.n_received == 931
    assert [d.sample for d in out] == list(range(dec.n_window, 601, dec.n_step))
    span = dec.n_window + dec.n_settle
    by_end = {d.sample: d for d in out}
    assert by_end[310].prediction is None
    for end, d in by_end.items():
        if span <= end <= 300:
            assert d.ok
        elif 300 < end <= 330:
            assert d.quality == "duplicate"
        elif 330 < end < 300 + span:
            assert d.quality == "backward,duplicate"
        elif 300 + span <= end < 330 + span:
            assert d.quality == "backward"
        elif end >= 330 + span:
            assert d.ok


def test_a_backward_jump_inside_a_chunk_drops_only_the_old_samples():
    x = _signal(400, seed=6)
    ts = np.arange(400) / SFREQ
    dec = _decoder(settle=0.0)
    dec.push(x[:, :200], ts[:200])
    chunk_ts = np.concatenate([ts[200:220], ts[150:160], ts[220:240]])  # 10 stale samples in the middle
    chunk = np.concatenate([x[:, 200:220], x[:, 150:160], x[:, 220:240]], axis=1)
    out = dec.push(chunk, chunk_ts)
    assert dec.n_dropped == 10 and dec.n_accepted == 240
    out += dec.push(x[:, 240:], ts[240:])
    # the reset is at accepted sample 220: windows of 100 samples ending after it and up to 310
    assert [d.sample for d in out if not d.ok] == list(range(230, 320, 10))
    assert {d.quality for d in out if not d.ok} == {"backward"}
    assert all(d.ok for d in out if d.sample >= 320)


def test_jittery_chunk_timestamps_are_kept():
    # LSL stamps a chunk's last sample with its push time and back-extrapolates the others:
    # a chunk pushed late, then the next on time, overlaps the previous chunk's stamps.
    rng = np.random.default_rng(8)
    x = _signal(1000, seed=8)
    dec = _decoder(settle=0.0)
    out = []
    for k, start in enumerate(range(0, 1000, 25)):
        push_time = (start + 24) / SFREQ + (0.03 if k % 3 == 1 else rng.uniform(0, 0.004))
        out += dec.push(x[:, start : start + 25], push_time - np.arange(24, -1, -1) / SFREQ)
    assert dec.n_dropped == 0 and dec.n_missing == 0 and dec.n_accepted == 1000
    assert all(d.ok for d in out)


def test_a_clock_reset_is_followed_after_a_window_of_backward_samples():
    x = _signal(900, seed=3)
    dec = _decoder(settle=0.0)
    dec.push(x[:, :300], 1000 + np.arange(300) / SFREQ)
    out = _push_all(dec, x[:, 300:], np.arange(600) / SFREQ, chunk=25)  # the source restarted at 0
    assert any("clock_reset" in d.quality for d in out)
    assert out[-1].ok and out[-1].timestamp == pytest.approx(599 / SFREQ)


def test_nan_samples_are_never_decoded():
    x = _signal(700, seed=4)
    x[1, 330:335] = np.nan
    x[2, 600] = np.inf
    dec = _decoder()
    out = _push_all(dec, x, chunk=16)
    for d in out:
        if d.sample - dec.n_window - dec.n_settle < 336 and d.sample > 330:
            assert "nan" in d.quality and d.prediction is None
    assert all(np.isfinite(w).all() for w in dec.estimator.seen_)
    assert out[-1].quality == "nan"  # the inf at sample 600 is inside the last window


def test_no_filter_and_a_window_of_the_trained_length():
    dec = StreamingDecoder(recorder(2), window=481 / 160, step=0.5, sfreq=160, ch_names=["a", "b"])
    assert dec.n_window == 481 and dec.n_step == 80 and dec.n_settle == 0
    x = np.random.default_rng(0).standard_normal((2, 641))
    out = dec.push(x)
    assert [d.sample for d in out] == [481, 561, 641] and all(d.ok for d in out)
    np.testing.assert_array_equal(dec.estimator.seen_[0][-1], x[:, 160:])


def test_scale_multiplies_incoming_samples():
    dec = StreamingDecoder(recorder(2), window=0.1, step=0.1, sfreq=100, ch_names=["a", "b"], scale=1e6)
    dec.push(np.full((2, 10), 2e-6))
    np.testing.assert_allclose(dec.estimator.seen_[0], 2.0)


def test_real_pipeline_chunked_equals_one_push():
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.pipelines import load_pipelines

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4, 100))
    y = np.array(["left_hand", "right_hand"] * 15)
    est = load_pipelines(pipelines_dir() / "ts_lr.yml")["TS+LR"].fit(X, y)
    x = _signal(500, seed=5)
    a = _push_all(_decoder(est), x, chunk=13)
    b = _decoder(est).push(x)
    assert [d.prediction for d in a] == [d.prediction for d in b]
    pa = np.array([d.probabilities for d in a if d.ok])
    pb = np.array([d.probabilities for d in b if d.ok])
    np.testing.assert_allclose(pa, pb, rtol=1e-9)
    assert list(_decoder(est).classes_) == ["left_hand", "right_hand"]


def test_bad_input_is_refused_with_a_clear_message():
    dec = _decoder()
    with pytest.raises(InvalidInputError, match="transposed"):
        dec.push(np.zeros((10, len(CH))))
    with pytest.raises(InvalidInputError, match=r"shape \(n_samples=10,\)"):
        dec.push(np.zeros((len(CH), 10)), np.zeros(9))
    with pytest.raises(InvalidInputError, match="numbers"):
        dec.push(np.full((len(CH), 2), "x"))
    assert dec.push(np.zeros((len(CH), 0))) == []
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(InvalidInputError, match="not fitted"):
        StreamingDecoder(LogisticRegression(), sfreq=100, ch_names=CH)
    with pytest.raises(InvalidInputError, match="sfreq"):
        StreamingDecoder(recorder(), ch_names=CH)
    with pytest.raises(InvalidInputError, match="duplicates"):
        StreamingDecoder(recorder(), sfreq=100, ch_names=["a", "a"])
    with pytest.raises(InvalidInputError, match="step"):
        StreamingDecoder(recorder(), sfreq=100, ch_names=CH, step=0)
