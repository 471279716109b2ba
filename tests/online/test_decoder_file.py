"""Decoder files: round trip, version check, tampering, untrusted types."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

pytest.importorskip("skops")

from neurodec import __version__  # noqa: E402
from neurodec.errors import DataNotFoundError, InvalidInputError  # noqa: E402
from neurodec.online.decoder_file import (  # noqa: E402
    DecoderFileError,
    _digest,
    load_decoder,
    save_decoder,
)
from neurodec.paradigms import LeftRightImagery  # noqa: E402

CH = ["C3", "Cz", "C4", "FCz"]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, len(CH), 128))
    y = np.array(["left_hand", "right_hand"] * 20)
    X[y == "right_hand", 0] *= 2.0
    return X, y


@pytest.fixture(scope="module")
def ts_lr(data):
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.pipelines import load_pipelines

    return load_pipelines(pipelines_dir() / "ts_lr.yml")["TS+LR"].fit(*data)


def _rewrite(path, meta=None, model=None, rehash=False):
    with zipfile.ZipFile(path) as zf:
        old_meta = json.loads(zf.read("decoder.json"))
        old_model = zf.read("model.skops")
    meta = old_meta if meta is None else meta(old_meta)
    model = old_model if model is None else model(old_model)
    if rehash:
        meta["sha256"] = _digest(meta, model)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("decoder.json", json.dumps(meta))
        zf.writestr("model.skops", model)


def test_round_trip_keeps_the_model_and_what_the_stream_must_match(tmp_path, data, ts_lr):
    X, _ = data
    path = save_decoder(
        tmp_path / "mi.ndec",
        ts_lr,
        LeftRightImagery(fmin=8, fmax=30),
        CH,
        128.0,
        n_times=128,
        metadata={"dataset": "fake", "subjects": [1]},
    )
    dec = load_decoder(path)
    np.testing.assert_allclose(dec.estimator.predict_proba(X), ts_lr.predict_proba(X))
    assert dec.ch_names == tuple(CH) and dec.sfreq == 128.0 and dec.n_times == 128 and dec.window == 1.0
    assert (dec.fmin, dec.fmax, dec.unit) == (8.0, 30.0, "uV")
    assert dec.classes == ("left_hand", "right_hand")
    assert dec.metadata["paradigm"]["name"] == "LeftRightImagery"
    assert dec.metadata["metadata"] == {"dataset": "fake", "subjects": [1]}
    assert dec.metadata["versions"]["neurodec"] == __version__
    online = dec.streaming(step=0.25)
    assert (online.n_window, online.n_step, online.fmin, online.unit) == (128, 32, 8.0, "uV")


def test_acm_pipeline_with_its_selection_result_round_trips(tmp_path, data):
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.pipelines import load_pipelines

    X, y = data
    est = load_pipelines(pipelines_dir() / "acm_fast_ts_svm.yml")["ACM-fast+TS+SVM"].fit(X, y)
    dec = load_decoder(save_decoder(tmp_path / "acm.ndec", est, {"fmin": 8, "fmax": 30}, CH, 128, window=1.0))
    np.testing.assert_array_equal(dec.estimator.predict(X), est.predict(X))
    choice = dec.estimator[0].selection_
    assert choice.scores == est[0].selection_.scores and all(isinstance(k, tuple) for k in choice.scores)


def test_a_modified_file_is_refused(tmp_path, ts_lr):
    path = save_decoder(tmp_path / "a.ndec", ts_lr, None, CH, 128, n_times=128)
    _rewrite(path, meta=lambda m: {**m, "ch_names": ["C4", "Cz", "C3", "FCz"]})
    with pytest.raises(DecoderFileError, match="modified after it was written"):
        load_decoder(path)
    path = save_decoder(tmp_path / "b.ndec", ts_lr, None, CH, 128, n_times=128)
    _rewrite(path, model=lambda b: b.replace(b"TangentSpace", b"TangentSpacf", 1))
    with pytest.raises(DecoderFileError, match="modified after it was written"):
        load_decoder(path)


def test_another_neurodec_version_or_format_is_refused(tmp_path, ts_lr):
    path = save_decoder(tmp_path / "v.ndec", ts_lr, None, CH, 128, n_times=128)
    _rewrite(path, meta=lambda m: {**m, "versions": {**m["versions"], "neurodec": "0.0.1"}}, rehash=True)
    with pytest.raises(DecoderFileError, match=r"written by neurodec 0\.0\.1, this is neurodec"):
        load_decoder(path)
    path = save_decoder(tmp_path / "f.ndec", ts_lr, None, CH, 128, n_times=128)
    _rewrite(path, meta=lambda m: {**m, "format_version": 99}, rehash=True)
    with pytest.raises(DecoderFileError, match="format 99"):
        load_decoder(path)


def test_code_from_an_untrusted_type_is_never_run(tmp_path, data):
    import os

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from tests.online._estimators import Recorder

    X, y = data
    evil = make_pipeline(FunctionTransformer(), Recorder()).fit(X, y)
    evil.set_params(functiontransformer__func=os.system)  # would run a shell command on transform
    path = save_decoder(tmp_path / "evil.ndec", evil, None, CH, 128, n_times=128)
    with pytest.raises(DecoderFileError, match=r"does not trust: .*system"):
        load_decoder(path)
    custom = save_decoder(tmp_path / "custom.ndec", Recorder().fit(X, y), None, CH, 128, n_times=128)
    with pytest.raises(DecoderFileError, match="tests.online._estimators.Recorder"):
        load_decoder(custom)
    assert load_decoder(custom, trusted=["tests.online._estimators.Recorder"]).classes == (
        "left_hand",
        "right_hand",
    )


def test_not_a_decoder_file_and_bad_arguments(tmp_path, ts_lr):
    with pytest.raises(DataNotFoundError, match="neurodec fit"):
        load_decoder(tmp_path / "missing.ndec")
    junk = tmp_path / "junk.ndec"
    junk.write_bytes(b"not a zip")
    with pytest.raises(DecoderFileError, match="not a readable neurodec decoder file"):
        load_decoder(junk)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("x.txt", "hello")
    with pytest.raises(DecoderFileError, match="lacks"):
        load_decoder(tmp_path / "other.zip")
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(InvalidInputError, match="not fitted"):
        save_decoder(tmp_path / "x.ndec", LogisticRegression(), None, CH, 128, n_times=128)
    with pytest.raises(InvalidInputError, match="window= .* or n_times="):
        save_decoder(tmp_path / "x.ndec", ts_lr, None, CH, 128)
    with pytest.raises(InvalidInputError, match="unique"):
        save_decoder(tmp_path / "x.ndec", ts_lr, None, ["a", "a"], 128, n_times=128)
    assert not (tmp_path / "x.ndec").exists()


def test_event_locked_decoder_from_a_file_takes_the_paradigm_epoch(ts_lr, tmp_path):
    from neurodec.online import EventLockedDecoder

    path = save_decoder(
        tmp_path / "erp.ndec",
        ts_lr,
        {"fmin": 1, "fmax": 20, "tmin": -0.2, "tmax": 0.8},
        CH,
        128.0,
        n_times=128,
    )
    dec = load_decoder(path).event_locked(codes=[2], max_delay=0.5)
    assert isinstance(dec, EventLockedDecoder)
    assert (dec.n_window, dec.n_offset, dec.fmin, dec.fmax, dec.unit) == (128, -26, 1, 20, "uV")
    assert dec.codes == {"2"} and dec.max_delay == 0.5
    based = save_decoder(
        tmp_path / "base.ndec", ts_lr, {"fmin": 1, "fmax": 20, "baseline": [-0.2, 0]}, CH, 128.0, n_times=128
    )
    with pytest.raises(InvalidInputError, match="baseline-corrected"):
        load_decoder(based).event_locked()
