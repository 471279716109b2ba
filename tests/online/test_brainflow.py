"""BrainFlow boards as a source: synthetic and playback-file boards (both offline)."""

from __future__ import annotations

import numpy as np
import pytest

from neurodec.errors import InvalidInputError

pytest.importorskip("brainflow")
pytest.importorskip("mne_lsl")

from neurodec.cli import main  # noqa: E402
from neurodec.online import StreamingDecoder  # noqa: E402
from neurodec.online.brainflow import BrainFlowSource, _brainflow, board_id  # noqa: E402
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
    # the synthetic board stamps samples when its thread makes them: regular once running, but a
    # busy machine delays its first samples by ~0.1 s (seen under load), so look at the run as a whole
    assert (np.diff(ts) > 0).all()
    assert np.median(np.diff(ts)) == pytest.approx(1 / 250, abs=1e-3)


def test_decoding_a_board_declares_units_and_decodes(board):
    est = recorder(board.n_channels)
    dec = StreamingDecoder(
        est, window=0.4, step=0.2, sfreq=250, ch_names=board.ch_names, unit="uV", settle=0.0
    )
    out = list(dec.run(board, duration=1.5))
    assert dec.scale == 1.0 and len(out) >= 3 and all(d.ok for d in out)
    assert dec.n_dropped == 0 and est.seen_[0].shape[1:] == (16, 100)


def _playback_file(path, n):
    """A BrainFlow recording of the synthetic board: ``n`` samples, EEG row k = k * 1000 + sample."""
    bs = _brainflow()
    from brainflow.data_filter import DataFilter

    master = bs.BoardIds.SYNTHETIC_BOARD.value
    rows = bs.BoardShim.get_num_rows(master)
    eeg = bs.BoardShim.get_eeg_channels(master)
    data = np.zeros((rows, n))
    data[eeg] = np.arange(n)[None, :] + 1000.0 * np.arange(len(eeg))[:, None]
    data[bs.BoardShim.get_timestamp_channel(master)] = 1.7e9 + np.arange(n) / 250
    DataFilter.write_file(data, str(path), "w")
    return data[eeg]


def test_playback_file_board_replays_the_file(tmp_path):
    bs = _brainflow()
    master = bs.BoardIds.SYNTHETIC_BOARD.value
    path = tmp_path / "session.csv"
    eeg_data = _playback_file(path, 300)
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
    np.testing.assert_array_equal(np.concatenate(chunks, axis=1), eeg_data)


def test_board_names():
    bs = _brainflow()
    assert board_id("synthetic") == board_id("SYNTHETIC_BOARD") == bs.BoardIds.SYNTHETIC_BOARD.value
    assert board_id("playback") == board_id("-3") == bs.BoardIds.PLAYBACK_FILE_BOARD.value
    assert board_id("cyton") == board_id("Cyton_Board") == bs.BoardIds.CYTON_BOARD.value
    with pytest.raises(InvalidInputError, match="unknown BrainFlow board 'nonesuch'"):
        board_id("nonesuch")
    with pytest.raises(InvalidInputError, match="unknown BrainFlow board 99999;"):
        board_id(99999)


@pytest.fixture(scope="module")
def board_decoder(tmp_path_factory):
    """A TS+LR decoder file for the synthetic board's 16 EEG channels at 250 Hz, 0.4-s windows."""
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.pipelines import load_pipelines
    from neurodec.online import save_decoder

    names = list(_brainflow().BoardShim.get_eeg_names(board_id("synthetic")))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, len(names), 100))
    y = np.array(["left_hand", "right_hand"] * 10)
    est = load_pipelines(pipelines_dir() / "ts_lr.yml")["TS+LR"].fit(X, y)
    path = tmp_path_factory.mktemp("decoder") / "board.ndec"
    return save_decoder(path, est, {"fmin": 8, "fmax": 30}, names, 250.0, window=0.4)


@pytest.mark.lsl(timeout=60)
def test_cli_streams_the_synthetic_board_on_the_lsl_clock(board_decoder, unique_name, capsys):
    from mne_lsl.lsl import local_clock

    args = ["stream", "--decoder", str(board_decoder), "--brainflow-board", "synthetic"]
    args += ["--max-decisions", "5", "--out-name", unique_name, "--loopback-only", "--print-decisions"]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "BrainFlow board SYNTHETIC_BOARD (16 EEG channels, 250 Hz, µV)" in out
    assert "decisions 5 (flagged" in out and "stopped: after 5 decisions" in out
    stamps = [float(line.split("\t")[0]) for line in out.splitlines() if line.count("\t") == 3]
    assert len(stamps) == 5
    assert abs(stamps[-1] - local_clock()) < 5.0  # LSL time, not Unix time (1.7e9)
    assert (np.diff(stamps) > 0).all()


def test_cli_stops_cleanly_on_sigterm_and_releases_the_board(board_decoder, capsys, monkeypatch):
    import os
    import signal

    from neurodec.online.source import StreamMonitor

    record = StreamMonitor.record

    def record_then_terminate(self, *args, **kwargs):
        record(self, *args, **kwargs)
        if self.n_decisions == 3:  # as a service manager would, mid-run
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(StreamMonitor, "record", record_then_terminate)
    code = main(
        ["stream", "--decoder", str(board_decoder), "--brainflow-board", "synthetic", "--duration", "30"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "stopped: terminated (signal 15)" in out and "decisions 3 (flagged" in out
    with BrainFlowSource() as again:  # the board was released: it opens again
        assert again.read(10, timeout=2.0)[0].shape[0] == 16


def test_cli_playback_board_runs_until_the_file_ends_and_reports_it(board_decoder, tmp_path, capsys):
    path = tmp_path / "rec.csv"
    _playback_file(path, 750)  # 3 s: windows of 100 samples end at 100, 125, ..., 750
    args = ["stream", "--decoder", str(board_decoder), "--brainflow-board", "playback"]
    code = main([*args, "--brainflow-file", str(path), "--data-timeout", "1"])
    out, err = capsys.readouterr()
    assert code == 2 and "PLAYBACK_FILE_BOARD sent nothing" in err and len(err.strip().splitlines()) == 1
    assert "decisions 27 (flagged" in out and "dropped 0 missing 0" in out


def test_cli_refuses_bad_board_options_in_one_line(board_decoder, tmp_path, capsys):
    args = ["stream", "--decoder", str(board_decoder)]
    cases = [
        (["--brainflow-board", "nonesuch"], "unknown BrainFlow board 'nonesuch'"),
        (["--brainflow-board", "playback"], "needs the recording to play"),
        (["--brainflow-board", "playback", "--brainflow-file", str(tmp_path / "no.csv")], "no BrainFlow rec"),
        (["--brainflow-board", "synthetic", "--name", "x"], "exactly one of --source-id, --name or"),
        (["--name", "x", "--serial-port", "/dev/ttyUSB0"], "need --brainflow-board"),
        (["--brainflow-board", "cyton"], "could not open BrainFlow board CYTON_BOARD"),
        (["--brainflow-board", "synthetic", "--max-decisions", "0"], "--max-decisions must be at least 1"),
    ]
    for extra, message in cases:
        assert main([*args, *extra]) == 2, extra
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, (extra, err)
