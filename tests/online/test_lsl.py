"""LSL in and out, file replay and `neurodec stream` / `replay` on this machine's loopback.

Every stream has its own uuid name and source_id, every player/outlet is
stopped in a ``finally`` (fixtures), every blocking call has a timeout, and
each test fails after its ``lsl`` timeout instead of hanging.
"""

from __future__ import annotations

import time
import uuid

import numpy as np
import pytest

pytest.importorskip("mne_lsl")
pytest.importorskip("skops")

from neurodec.cli import main  # noqa: E402
from neurodec.errors import DataNotFoundError, InvalidInputError  # noqa: E402
from neurodec.online import StreamingDecoder  # noqa: E402
from neurodec.online.lsl import DecisionOutlet, find_stream, open_stream  # noqa: E402
from neurodec.online.source import StreamLostError  # noqa: E402

SFREQ = 250.0
CH = ["C3", "Cz", "C4", "Pz"]


def _pull_all(src, limit_s=20.0):
    """Everything a source delivers until it is lost."""
    data, stamps = [], []
    stop = time.monotonic() + limit_s
    while time.monotonic() < stop:
        try:
            d, ts = src.read(256, timeout=0.2)
        except StreamLostError:
            break
        data.append(d)
        stamps.append(ts)
    return np.concatenate(data, axis=1), np.concatenate(stamps)


@pytest.fixture(scope="module")
def ts_lr():
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.pipelines import load_pipelines

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, len(CH), 125)) * 10
    y = np.array(["left_hand", "right_hand"] * 15)
    X[y == "right_hand", 1] *= 3
    return load_pipelines(pipelines_dir() / "ts_lr.yml")["TS+LR"].fit(X, y)


@pytest.mark.slow
@pytest.mark.lsl(timeout=60)
@pytest.mark.filterwarnings("ignore:.*End of file reached with an empty chunk")
def test_replay_delivers_every_sample_once_when_the_length_is_a_multiple_of_the_chunk(
    recording, replay_factory
):
    path, data = recording  # 500 samples: chunk 10 divides it, PlayerLSL would push each loop twice
    rep = replay_factory(path, chunk_size=10, repeat=2, wait_for_consumer=10)
    rep.start()
    with open_stream(source_id=rep.source_id, timeout=5, data_timeout=1.0) as src:
        assert src.ch_names == CH and src.sfreq == SFREQ and src.units == ["0"] * 4  # volts
        got, ts = _pull_all(src)
    assert got.shape == (4, 1000) and rep.n_samples == 1000
    np.testing.assert_array_equal(got, np.tile(data, 2))  # bit-exact, no duplicate, nothing missing
    np.testing.assert_allclose(np.diff(ts), 1 / SFREQ, atol=2e-4)


@pytest.mark.slow
@pytest.mark.lsl(timeout=60)
def test_replay_annotations_are_stamped_at_their_onset_sample(recording, replay_factory):
    from mne_lsl.lsl import StreamInlet, resolve_streams
    from mne_lsl.lsl._utils import LostError

    path, data = recording
    rep = replay_factory(path, chunk_size=16, repeat=1, wait_for_consumer=10)
    rep.start()
    infos = [i for i in resolve_streams(timeout=2.0) if i.name == f"{rep.name}-annotations"]
    assert len(infos) == 1
    # recover=False: a lost marker inlet raises instead of retrying forever inside liblsl
    markers = StreamInlet(infos[0], processing_flags=["clocksync"], recover=False)
    labels, stamps, chunks = [], [], []
    try:
        markers.open_stream(timeout=5)
        markers.get_sinfo(timeout=5)
        with open_stream(source_id=rep.source_id, timeout=5, data_timeout=1.0) as src:
            stop = time.monotonic() + 20
            while time.monotonic() < stop:
                try:
                    chunks.append(src.read(256, timeout=0.2))
                except StreamLostError:
                    break
                try:
                    while True:  # markers arrive with their chunk; read them before the player ends
                        sample, stamp = markers.pull_sample(timeout=0.0)
                        if stamp is None:
                            break
                        labels.append(sample[0])
                        stamps.append(stamp)
                except LostError:
                    pass
    finally:
        markers._del()
    got = np.concatenate([c[0] for c in chunks], axis=1)
    ts = np.concatenate([c[1] for c in chunks])
    assert got.shape[1] == 500
    assert labels == ["left_hand", "right_hand", "left_hand"]
    onsets = np.round(np.array([0.4, 1.2, 1.8]) * SFREQ).astype(int)
    np.testing.assert_allclose(stamps, ts[onsets], atol=1e-6)  # PlayerLSL alone: one sample early


@pytest.mark.slow
@pytest.mark.lsl(timeout=90)
def test_decisions_over_lsl_equal_the_numpy_path_and_are_published(
    recording, replay_factory, ts_lr, unique_name
):
    from mne_lsl.lsl import StreamInlet, resolve_streams

    path, data = recording
    decoder = StreamingDecoder(
        ts_lr, window=0.5, step=0.2, sfreq=SFREQ, ch_names=CH, fmin=8, fmax=30, unit="uV"
    )
    out_name = f"{unique_name}-out"
    outlet = DecisionOutlet(out_name, decoder.classes_, source_id=uuid.uuid4().hex)
    inlets = []
    try:
        infos = {i.name: i for i in resolve_streams(timeout=2.0) if i.name.startswith(out_name)}
        for key in (out_name, f"{out_name}-markers"):
            inlet = StreamInlet(infos[key])
            inlet.open_stream(timeout=5)
            inlets.append(inlet)
        rep = replay_factory(path, chunk_size=16, repeat=1, wait_for_consumer=10)
        rep.start()
        got = []
        with open_stream(source_id=rep.source_id, timeout=5, data_timeout=1.0) as src:
            with pytest.raises(StreamLostError, match="sent nothing"):  # the replay ends: reported, no hang
                for d in decoder.run(src, outlet=outlet):
                    got.append(d)
        probs, p_ts = inlets[0].pull_chunk(timeout=1.0, max_samples=100)
        probs, p_ts = probs.copy(), p_ts.copy()
        marks, m_ts = [], []
        while True:  # a string inlet's pull_chunk raises on a short chunk: pull sample by sample
            sample, stamp = inlets[1].pull_sample(timeout=0.5)
            if stamp is None:
                break
            marks.append(sample)
            m_ts.append(stamp)
    finally:
        for inlet in inlets:
            inlet._del()
        outlet.close()
    assert decoder.scale == pytest.approx(1e6)  # the stream is in volts, the decoder in microvolts
    ref = StreamingDecoder(ts_lr, window=0.5, step=0.2, sfreq=SFREQ, ch_names=CH, fmin=8, fmax=30, scale=1e6)
    expected = ref.push(data)
    assert [d.sample for d in got] == [d.sample for d in expected]
    assert [d.prediction for d in got] == [d.prediction for d in expected]
    ok = [i for i, d in enumerate(got) if d.ok]
    np.testing.assert_allclose(
        [got[i].probabilities for i in ok], [expected[i].probabilities for i in ok], rtol=1e-9
    )
    # published: one row per decision, stamped with the newest source timestamp of its window
    assert len(p_ts) == len(got) == len(m_ts)
    np.testing.assert_allclose(p_ts, [d.timestamp for d in got], atol=1e-9)
    np.testing.assert_allclose(probs[ok], [got[i].probabilities for i in ok], rtol=1e-6)
    assert np.isnan(probs[[i for i, d in enumerate(got) if not d.ok]]).all()
    assert [m[0] for m in marks] == [str(d.prediction) if d.ok else f"flagged:{d.quality}" for d in got]
    assert decoder.monitor.n_decisions == len(got) and decoder.monitor.percentile(99) < 0.5


@pytest.mark.lsl(timeout=60)
def test_a_name_must_match_exactly_one_stream(unique_name):
    from mne_lsl.lsl import StreamInfo, StreamOutlet

    ids = [uuid.uuid4().hex for _ in range(2)]
    outlets = []
    try:
        for sid in ids:
            outlets.append(StreamOutlet(StreamInfo(unique_name, "EEG", 4, SFREQ, "float32", sid)))
        with pytest.raises(InvalidInputError, match="2 LSL streams have name") as err:
            find_stream(name=unique_name, timeout=1.5)
        assert all(sid in str(err.value) for sid in ids)
        assert find_stream(source_id=ids[1], timeout=3).source_id == ids[1]
        with pytest.raises(DataNotFoundError, match="no LSL signal stream with name"):
            find_stream(name=f"{unique_name}-absent", timeout=0.5)
        with pytest.raises(InvalidInputError, match="exactly one"):
            find_stream(name=unique_name, source_id=ids[0])
    finally:
        for outlet in outlets:
            outlet._del()


@pytest.mark.lsl(timeout=60)
def test_a_stream_that_disappears_mid_run_is_reported_without_hanging(recording, replay_factory, ts_lr):
    path, _ = recording
    rep = replay_factory(path, chunk_size=16, repeat=0, wait_for_consumer=10)  # endless
    rep.start()
    decoder = StreamingDecoder(ts_lr, window=0.5, step=0.2, sfreq=SFREQ, ch_names=CH, fmin=8, fmax=30)
    with open_stream(source_id=rep.source_id, timeout=5, data_timeout=1.0) as src:
        n = 0
        with pytest.raises(StreamLostError, match="sent nothing for"):
            for _ in decoder.run(src):
                n += 1
                if n == 3:
                    rep.stop()
                    stopped = time.monotonic()
        assert time.monotonic() - stopped < 4.0
    assert n >= 3


@pytest.mark.lsl(timeout=60)
def test_wrong_rate_is_refused_before_decoding(recording, replay_factory, ts_lr):
    path, _ = recording
    rep = replay_factory(path, chunk_size=16, repeat=1)
    rep.start()
    decoder = StreamingDecoder(ts_lr, window=0.5, step=0.2, sfreq=500.0, ch_names=CH)
    with open_stream(source_id=rep.source_id, timeout=5) as src:
        with pytest.raises(InvalidInputError, match="runs at 250 Hz but the decoder was trained at 500 Hz"):
            next(decoder.run(src))
    assert decoder.n_received == 0


def test_cli_help():
    assert main(["stream", "--help"]) == 0
    assert main(["replay", "--help"]) == 0


@pytest.mark.slow
@pytest.mark.lsl(timeout=90)
def test_cli_replay_and_stream(recording, ts_lr, tmp_path, unique_name, capsys):
    import threading

    from neurodec.online import save_decoder

    path, _ = recording
    dec_path = save_decoder(tmp_path / "d.ndec", ts_lr, {"fmin": 8, "fmax": 30}, CH, SFREQ, window=0.5)
    sid = uuid.uuid4().hex
    codes = {}
    player = threading.Thread(
        target=lambda: codes.setdefault(
            "replay",
            main(
                [
                    "replay",
                    str(path),
                    "--source-id",
                    sid,
                    "--name",
                    unique_name,
                    "--wait-for-consumer",
                    "10",
                    "--loopback-only",
                ]
            ),
        ),
        daemon=True,
    )
    player.start()
    try:
        code = main(
            [
                "stream",
                "--decoder",
                str(dec_path),
                "--source-id",
                sid,
                "--out-name",
                f"{unique_name}-out",
                "--step",
                "0.2",
                "--data-timeout",
                "1",
                "--loopback-only",
            ]
        )
    finally:
        player.join(timeout=15)
    out, err = capsys.readouterr()
    assert code == 2 and "sent nothing" in err  # the replay ended: reported in one line
    assert "decisions 8 (flagged" in out  # windows of 125 samples ending at 125, 175, ..., 475
    assert codes.get("replay") == 0 and "done: 500 samples pushed" in out
    assert main(["stream", "--decoder", str(dec_path), "--name", f"{unique_name}-x", "--timeout", "0.5"]) == 2
    assert "no LSL signal stream with name" in capsys.readouterr().err


@pytest.mark.lsl(timeout=60)
def test_cli_reports_a_stream_that_disappears_mid_run_and_exits(
    recording, replay_factory, ts_lr, tmp_path, capsys, monkeypatch
):
    from neurodec.online import save_decoder
    from neurodec.online.source import StreamMonitor

    path, _ = recording
    dec_path = save_decoder(tmp_path / "d.ndec", ts_lr, {"fmin": 8, "fmax": 30}, CH, SFREQ, window=0.5)
    rep = replay_factory(path, chunk_size=16, repeat=0, wait_for_consumer=10)  # endless
    rep.start()
    record = StreamMonitor.record
    stopped = []

    def record_then_unplug(self, *args, **kwargs):
        record(self, *args, **kwargs)
        if self.n_decisions == 3:  # the amplifier goes away mid-run
            rep.stop()
            stopped.append(time.monotonic())

    monkeypatch.setattr(StreamMonitor, "record", record_then_unplug)
    args = ["stream", "--decoder", str(dec_path), "--source-id", rep.source_id, "--step", "0.2"]
    code = main([*args, "--data-timeout", "1", "--loopback-only"])
    out, err = capsys.readouterr()
    assert code == 2 and "sent nothing for" in err and len(err.strip().splitlines()) == 1
    assert "decisions 3 (flagged" in out  # the final status line, then the one error line
    assert time.monotonic() - stopped[0] < 5.0  # reported after the data timeout, no hang


@pytest.mark.slow
@pytest.mark.lsl(timeout=60)
def test_event_locked_decoding_over_lsl_takes_markers_from_a_marker_stream(recording, replay_factory):
    from neurodec.online import EventLockedDecoder
    from neurodec.online.markers import find_marker_stream, open_markers
    from tests.online._estimators import recorder

    path, data = recording  # annotations at 0.4, 1.2, 1.8 s
    rep = replay_factory(path, chunk_size=16, repeat=1, wait_for_consumer=10)
    decoder = EventLockedDecoder(recorder(len(CH), 50), window=0.2, tmin=0.0, sfreq=SFREQ, ch_names=CH)
    rep.start()  # holds its first push until the data stream has a consumer
    # the annotations share the data's source_id: only the irregular-rate stream is a marker stream
    assert find_marker_stream(source_id=rep.source_id, timeout=3).name == f"{rep.name}-annotations"
    got = []
    with open_markers(source_id=rep.source_id, timeout=5) as markers:  # before the data: none is missed
        with open_stream(source_id=rep.source_id, timeout=5, data_timeout=1.0) as src:
            with pytest.raises(StreamLostError):  # the replay ends
                for d in decoder.run(src, markers=markers):
                    got.append(d)
        assert markers.n_read == 3
    assert [d.code for d in got] == ["left_hand", "right_hand", "left_hand"]
    assert all(d.ok for d in got) and [d.onset for d in got] == [100, 300, 450]
    expected = np.stack([data[:, o : o + 50] for o in (100, 300, 450)])
    np.testing.assert_allclose(decoder.estimator.windows, expected, rtol=1e-6)  # float32 on the wire
    with pytest.raises(DataNotFoundError, match="no LSL marker stream"):
        find_marker_stream(name=f"{rep.name}-absent", timeout=0.3)
