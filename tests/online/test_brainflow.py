"""BrainFlow boards as a source: synthetic and playback-file boards (both offline)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("brainflow")
pytest.importorskip("mne_lsl")

from neurodec.online import StreamingDecoder  # noqa: E402
from neurodec.online.brainflow import BrainFlowSource, _brainflow  # noqa: E402
from tests.online._estimators import recorder  # noqa: E402


@pytest.fixture()
def board():
    src = BrainFlowSource(data_timeout=2.0)
    try:
        yield src.start()
    finally:
        src.close()


def test_synthetic_board_microvolts_on_the_lsl_clock(board):
    from mne_lsl.lsl import local_clock

    assert board.sfreq == 250.0 and board.n_channels == 16 and set(board.units) == {"microvolts"}
    data, ts = board.read(125, timeout=3.0)
    now = local_clock()
    assert data.shape == (16, 125) and data.dtype == np.float64
    assert abs(ts[-1] - now) < 0.5  # Unix epoch converted: without it the gap would be decades
    np.testing.assert_allclose(np.diff(ts), 1 / 250, atol=5e-3)


def test_decoding_a_board_declares_units_and_decodes(board):
    est = recorder(board.n_channels)
    dec = StreamingDecoder(
        est, window=0.4, step=0.2, sfreq=250, ch_names=board.ch_names, unit="uV", settle=0.0
    )
    out = list(dec.run(board, duration=1.5))
    assert dec.scale == 1.0 and len(out) >= 3 and all(d.ok for d in out)
    assert dec.n_dropped == 0 and est.seen_[0].shape[1:] == (16, 100)


def test_playback_file_board_replays_the_file(tmp_path):
    bs = _brainflow()
    from brainflow.data_filter import DataFilter

    master = bs.BoardIds.SYNTHETIC_BOARD.value
    rows = bs.BoardShim.get_num_rows(master)
    eeg = bs.BoardShim.get_eeg_channels(master)
    data = np.zeros((rows, 300))
    data[eeg] = np.arange(300)[None, :] + 1000.0 * np.arange(len(eeg))[:, None]
    data[bs.BoardShim.get_timestamp_channel(master)] = 1.7e9 + np.arange(300) / 250
    path = tmp_path / "session.csv"
    DataFilter.write_file(data, str(path), "w")
    params = bs.BrainFlowInputParams()
    params.file = str(path)
    params.master_board = master
    src = BrainFlowSource(bs.BoardIds.PLAYBACK_FILE_BOARD.value, params, data_timeout=1.0)
    chunks = []
    try:
        src.start()
        while sum(c.shape[1] for c in chunks) < 300:
            d, _ = src.read(100, timeout=2.0)
            assert d.shape[1], "the playback board stopped early"
            chunks.append(d)
    finally:
        src.close()
    np.testing.assert_array_equal(np.concatenate(chunks, axis=1), data[eeg])
