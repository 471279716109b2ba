"""Pure epoching functions against straightforward per-trial references."""

from __future__ import annotations

import numpy as np
import pytest

from neurodec.paradigms import epoching


def test_epoch_window_includes_tmax():
    w = epoching.epoch_window(0.0, 3.0, 160.0)
    assert w.start == 0 and w.n_samples == 481
    assert w.times[-1] == pytest.approx(3.0)
    w = epoching.epoch_window(-0.2, 0.5, 100.0)
    assert (w.start, w.n_samples) == (-20, 71)


def test_epoch_window_rejects_empty():
    with pytest.raises(ValueError, match="empty epoch window"):
        epoching.epoch_window(1.0, 0.5, 100.0)


def test_first_unique_events_keeps_first_of_repeats():
    ev = np.array([[10, 0, 1], [10, 0, 2], [5, 0, 2], [30, 0, 1]])
    out = epoching.first_unique_events(ev)
    np.testing.assert_array_equal(out, [[10, 0, 1], [5, 0, 2], [30, 0, 1]])
    assert epoching.first_unique_events(np.zeros((0, 3), int)).shape == (0, 3)


def test_cut_epochs_matches_loop_and_keep_mask_drops_edges():
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3, 200))
    window = epoching.epoch_window(-0.05, 0.2, 100.0)
    events = np.array([2, 40, 100, 190])
    starts = epoching.epoch_starts(events, window, 100.0, first_samp=0)
    keep = epoching.keep_mask(starts, window.n_samples, data.shape[1])
    np.testing.assert_array_equal(keep, [False, True, True, False])
    X = epoching.cut_epochs(data, starts[keep], window.n_samples)
    ref = np.stack([data[:, s : s + window.n_samples] for s in starts[keep]])
    np.testing.assert_array_equal(X, ref)
    assert X.flags.c_contiguous and not np.shares_memory(X, data)


def test_keep_mask_bad_spans_and_first_samp():
    window = epoching.epoch_window(0.0, 0.1, 100.0)  # 11 samples
    starts = epoching.epoch_starts(np.array([1010, 1050]), window, 100.0, first_samp=1000)
    np.testing.assert_array_equal(starts, [10, 50])
    keep = epoching.keep_mask(starts, window.n_samples, 100, bad_spans=np.array([[0.55, 0.6]]), sfreq=100.0)
    np.testing.assert_array_equal(keep, [True, False])


def test_subtract_baseline_inplace_matches_reference():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 2, 50))
    times = np.arange(50) / 100 - 0.1
    ref = X - X[..., (times >= -0.1) & (times <= 0.0)].mean(axis=-1, keepdims=True)
    epoching.subtract_baseline(X, times, -0.1, 0.0)
    np.testing.assert_allclose(X, ref, rtol=0, atol=1e-12)
    Y = rng.standard_normal((2, 3, 10))
    before = Y.copy()
    epoching.subtract_baseline(Y, np.arange(10.0), None, 2.0, rows=np.array([1]))
    np.testing.assert_array_equal(Y[:, [0, 2]], before[:, [0, 2]])
    with pytest.raises(ValueError, match="baseline"):
        epoching.subtract_baseline(Y, np.arange(10.0), 20.0, None)


def test_time_mask_snaps_to_samples():
    times = np.arange(-10, 31) / 10.0
    mask = epoching.time_mask(times, 0.0, 2.0000001, 10.0)
    assert times[mask][0] == 0.0 and times[mask][-1] == pytest.approx(2.0) and mask.sum() == 21


def test_labels_from_codes_with_lists_and_unknown_codes():
    ev = {"Target": [1, 3], "NonTarget": 2}
    out = epoching.labels_from_codes(np.array([3, 2, 1]), ev)
    assert out.tolist() == ["Target", "NonTarget", "Target"]
    assert epoching.labels_from_codes(np.array([], int), ev).shape == (0,)
    with pytest.raises(ValueError, match="not in event_id"):
        epoching.labels_from_codes(np.array([9]), ev)
