"""Corpus preprocessing: filters, resampling, common average, per-type scales, windows."""

from __future__ import annotations

import mne
import numpy as np
import pytest

from neurodec.corpus import PreprocessOptions, modality_of, preprocess_raw, to_windows
from neurodec.errors import InvalidDataError, InvalidInputError
from tests.corpus.conftest import simulated


@pytest.fixture(scope="module")
def eeg_raw():
    return simulated("eeg", n_eeg_channels=32).get_data(subjects=[1])[1]["0"]["0"]


def test_eeg_is_resampled_averaged_scaled_and_windowed(eeg_raw):
    pre = preprocess_raw(eeg_raw)
    n_eeg = 32
    assert pre.data.shape == (n_eeg, round(eeg_raw.n_times * 256 / 160))
    assert pre.data.dtype == np.float32 and pre.sfreq == 256.0
    assert list(pre.sensors["type"].unique()) == ["eeg"]  # EOG and stim channels left out
    assert np.abs(pre.data.mean(0)).max() < 1e-4  # common average reference
    assert pre.data.std() == pytest.approx(1.0, rel=0.05)  # one std per type per group
    assert pre.scales.shape == (1, 5) and np.isfinite(pre.scales[0, 0]) and np.isnan(pre.scales[0, 1:]).all()
    windows = to_windows(pre.data, 512)
    assert windows.shape == (pre.data.shape[1] // 512, n_eeg, 512)
    np.testing.assert_array_equal(windows[1, 3], pre.data[3, 512:1024])
    padded = to_windows(pre.data, 512, pad=True)
    assert len(padded) == len(windows) + 1 and (padded[-1, :, pre.data.shape[1] % 512 :] == 0).all()
    back = pre.to_input_units(pre.data)  # volts, original reference (band-passed)
    assert np.abs(back).max() < 1e-3 and back.std() == pytest.approx(pre.scales[0, 0], rel=0.2)


def test_notch_and_band_pass_remove_line_noise_and_offsets(eeg_raw):
    raw = eeg_raw.copy().pick(["eeg"])
    t = raw.times
    noisy = raw.copy()
    noisy._data += 50e-6 * np.sin(2 * np.pi * 50 * t) + 1e-3  # 50 Hz line noise and a DC offset
    clean = preprocess_raw(raw, PreprocessOptions(reference="none")).to_input_units(
        preprocess_raw(raw, PreprocessOptions(reference="none")).data
    )
    pre = preprocess_raw(noisy, PreprocessOptions(reference="none"))
    out = pre.to_input_units(pre.data)
    spec = np.abs(np.fft.rfft(out[:, 512:-512], axis=1)).mean(0)
    freqs = np.fft.rfftfreq(out.shape[1] - 1024, 1 / 256)
    line = spec[np.argmin(np.abs(freqs - 50))]
    assert line < 0.05 * 50e-6 * (out.shape[1] - 1024) / 2  # < 5 % of the injected amplitude
    assert abs(out[:, 512:-512].mean()) < 1e-6  # offset gone
    np.testing.assert_allclose(
        out[:, 1024:-1024], clean[:, 1024:-1024], atol=3e-6
    )  # edges: filter transients
    no_notch = preprocess_raw(noisy, PreprocessOptions(reference="none", notch=False))
    spec2 = np.abs(np.fft.rfft(no_notch.to_input_units(no_notch.data)[:, 512:-512], axis=1)).mean(0)
    assert spec2[np.argmin(np.abs(freqs - 50))] > 10 * line


def test_meg_types_are_scaled_separately_and_not_rereferenced():
    raw = simulated("meg").get_data(subjects=[1])[1]["0"]["0"]
    pre = preprocess_raw(raw)
    types = pre.sensors["type"].to_numpy()
    assert set(types) == {"mag", "grad"} and modality_of(types) == "meg"
    for kind in ("mag", "grad"):
        assert pre.data[types == kind].std() == pytest.approx(1.0, rel=0.05)
    assert 1e-15 < pre.scales[0, 1] < 1e-11 and 1e-13 < pre.scales[0, 2] < 1e-9  # teslas, T/m
    assert np.abs(pre.reference).max() == 0  # no common average for MEG


def test_bad_channels_are_left_out_or_kept_outside_the_statistics(eeg_raw):
    raw = eeg_raw.copy()
    bad = raw.ch_names[0]
    raw.info["bads"] = [bad]
    assert bad not in preprocess_raw(raw).sensors["name"].tolist()
    raw._data[0] *= 1000  # a wild bad channel must not change the others
    kept = preprocess_raw(raw, include_bads=True)
    ref = preprocess_raw(raw)
    assert kept.sensors["name"].tolist()[0] == bad and bool(kept.sensors["bad"].iloc[0])
    np.testing.assert_allclose(kept.data[1:], ref.data, atol=1e-5)


def test_unusable_recordings_are_explained():
    info = mne.create_info(["a", "b"], 256.0, ["eeg", "eeg"])  # no positions
    raw = mne.io.RawArray(np.random.default_rng(0).standard_normal((2, 2048)) * 1e-5, info, verbose="error")
    with pytest.raises(InvalidDataError, match="no channel usable"):
        preprocess_raw(raw)
    with pytest.raises(InvalidInputError, match="l_freq < h_freq"):
        PreprocessOptions(h_freq=200)
