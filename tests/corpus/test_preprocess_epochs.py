"""Epoch preprocessing for the classifier: per-epoch, scale-free, resampled; windows covering each epoch."""

from __future__ import annotations

import numpy as np

from neurodec.corpus.preprocess import PreprocessOptions, cover_windows, preprocess_epochs


def test_each_epoch_on_its_own_and_scale_free():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 6, 480)) * 1e-5
    types = np.array([0, 0, 0, 0, 1, 1])  # EEG and magnetometers
    out = preprocess_epochs(X, 160.0, types)
    assert out.shape == (4, 6, 768) and out.dtype == np.float32  # 3 s at 256 Hz
    alone = preprocess_epochs(X[2:3], 160.0, types)
    np.testing.assert_allclose(out[2:3], alone, atol=1e-6)  # nothing shared between epochs
    np.testing.assert_allclose(preprocess_epochs(X * 1e6, 160.0, types), out, atol=1e-5)
    assert np.allclose(out[:, :4].mean(1), 0, atol=1e-5)  # common average of the EEG only
    assert not np.allclose(out[:, 4:].mean(1), 0, atol=1e-3)
    assert np.allclose(out[:, :4].std(axis=(1, 2)), 1, atol=1e-4)  # one scale per type and epoch


def test_filter_removes_line_noise():
    t = np.arange(1024) / 256.0
    x = np.sin(2 * np.pi * 10 * t) + 5 * np.sin(2 * np.pi * 50 * t)
    X = np.tile(x, (1, 3, 1)) + np.random.default_rng(1).standard_normal((1, 3, 1024)) * 0.01
    options = PreprocessOptions(reference="none")
    kept = preprocess_epochs(X, 256.0, np.zeros(3, int), options, filter=False)
    filtered = preprocess_epochs(X, 256.0, np.zeros(3, int), options, line_freq=50.0)
    power = lambda a: np.abs(np.fft.rfft(a[0, 0]))[200]  # noqa: E731 (50 Hz bin of 4 s)
    assert power(filtered) < 0.2 * power(kept)  # ~10x down on a 4-s epoch (filter edges)


def test_windows_cover_each_epoch():
    X = np.arange(2 * 1 * 768, dtype=float).reshape(2, 1, 768)
    w = cover_windows(X, 512)
    assert w.shape == (2, 2, 1, 512)
    assert w[0, 0, 0, 0] == 0 and w[0, 1, 0, -1] == 767  # first and last samples, overlapping middle
    short = cover_windows(X[..., :300], 512)
    assert short.shape == (2, 1, 1, 512) and (short[..., 300:] == 0).all()
    assert cover_windows(X[..., :512], 512).shape == (2, 1, 1, 512)
