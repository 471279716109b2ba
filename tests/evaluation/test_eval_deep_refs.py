"""The braindecode reference pipelines (EEGNet, ShallowFBCSPNet, LUNA) through the engine,
and the engine's ``requires_info`` contract (the epochs' mne.Info given to sensor-aware steps)."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import make_pipeline

from neurodec.config import pipelines_dir
from neurodec.evaluation import CrossSubjectEvaluation
from neurodec.evaluation.identity import describe
from neurodec.evaluation.pipelines import load_pipelines
from neurodec.sensors.montage import load_montage

DEEP_FILES = {"EEGNet": "eegnet.yml", "ShallowFBCSPNet": "shallow_fbcsp_net.yml", "LUNA": "luna.yml"}


class _InfoRecorder(ClassifierMixin, BaseEstimator):
    """Majority class; remembers the info it got at fit (in a class list: fits run on clones)."""

    requires_info = True
    seen: list = []

    def fit(self, X, y, info=None):
        type(self).seen.append((info, X.shape))
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), len(self.classes_)), 1.0 / len(self.classes_))

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@pytest.fixture(scope="module")
def tiny_dataset():
    from moabb.datasets.fake import FakeDataset

    # 2 subjects x 8 trials x 3 channels (C3, Cz, C4, with positions), 3 s at 128 Hz
    return FakeDataset(
        ["left_hand", "right_hand"], n_subjects=2, n_sessions=1, n_runs=1, duration=12, n_events=8
    )


def test_engine_gives_the_epochs_info_to_steps_that_require_it(tiny_dataset, paradigm):
    _InfoRecorder.seen.clear()
    pipe = make_pipeline(_InfoRecorder())
    res = CrossSubjectEvaluation(paradigm, [tiny_dataset], progress=False).process_folds({"rec": pipe})
    assert len(res) == 2
    assert len(_InfoRecorder.seen) == 2
    for info, shape in _InfoRecorder.seen:
        assert isinstance(info, mne.Info)
        assert info["ch_names"] == ["C3", "Cz", "C4"] and len(info["ch_names"]) == shape[1]
        assert np.isfinite([ch["loc"][:3] for ch in info["chs"]]).all()


def test_describe_orders_sets():
    # skorch keeps a set of its kwargs: a set's iteration order changes between processes
    assert describe({"b", "a", "c"}) == ["a", "b", "c"]
    assert describe(frozenset({2, 1})) == [1, 2]


@pytest.mark.parametrize("name", list(DEEP_FILES))
def test_bundled_deep_pipeline_runs_through_the_engine(name, tiny_dataset, paradigm, tmp_path):
    pytest.importorskip("braindecode")
    pipe = load_pipelines(pipelines_dir() / "deep" / DEEP_FILES[name])[name]
    step = pipe.steps[-1][0]
    params = {f"{step}__max_epochs": 1, f"{step}__batch_size": 4}
    if name == "LUNA":  # a small LUNA: the test checks the plumbing, not the model
        params.update({f"{step}__depth": 1, f"{step}__embed_dim": 16, f"{step}__patch_size": 32})
    pipe.set_params(**params)
    ev = CrossSubjectEvaluation(paradigm, [tiny_dataset], random_state=0, results=tmp_path, progress=False)
    res = ev.process_folds({name: pipe})
    assert len(res) == 2 and res.score.between(0, 1).all()
    assert res.pipeline_key.str.startswith(f"{name}@").all()
    again = CrossSubjectEvaluation(paradigm, [tiny_dataset], random_state=0, progress=False).process_folds(
        {name: pipe}
    )
    # deterministic given the file's seed: the same scores from a fresh run
    assert np.allclose(res.sort_values("subject").score, again.sort_values("subject").score)


def _epochs(n=12, names=("C3", "Cz", "C4", "Pz"), positions=True, seed=0):
    rng = np.random.default_rng(seed)
    info = mne.create_info(list(names), 128.0, "eeg")
    if positions:
        info.set_montage(load_montage("standard_1005"))
    X = rng.standard_normal((n, len(names), 256)) * 1e-5
    return mne.EpochsArray(X, info, verbose=False), np.array(["a", "b"] * (n // 2))


_SMALL = {"depth": 1, "embed_dim": 16, "patch_size": 32, "max_epochs": 1, "batch_size": 4}


def test_luna_reads_positions_from_the_info_and_is_seeded():
    pytest.importorskip("braindecode")
    from neurodec.deep import LUNAClassifier

    epochs, y = _epochs()
    expected = np.array([ch["loc"][:3] for ch in epochs.info["chs"]])
    a = LUNAClassifier(random_state=3, **_SMALL).fit(epochs, y)
    np.testing.assert_allclose(a.positions_, expected)
    # the network gets those positions on every batch (a buffer, not braindecode's fallback line)
    np.testing.assert_allclose(a.net_.module_.positions.numpy(), expected, rtol=1e-6)
    b = LUNAClassifier(random_state=3, **_SMALL).fit(epochs.get_data() * 1e6, y, info=epochs.info)
    np.testing.assert_allclose(a.predict_proba(epochs), b.predict_proba(epochs.get_data() * 1e6), rtol=1e-5)
    c = LUNAClassifier(random_state=4, **_SMALL).fit(epochs, y)
    assert not np.allclose(a.predict_proba(epochs), c.predict_proba(epochs))
    assert set(a.predict(epochs)) <= {"a", "b"}


def test_luna_fills_missing_positions_from_the_montage_or_says_what_to_do():
    pytest.importorskip("braindecode")
    from neurodec.deep import LUNAClassifier, channel_positions
    from neurodec.errors import InvalidInputError

    with_pos, _ = _epochs()
    bare, y = _epochs(positions=False)
    np.testing.assert_allclose(channel_positions(bare.info), channel_positions(with_pos.info))
    with pytest.raises(InvalidInputError, match="have none"):
        channel_positions(bare.info, montage=None)
    with pytest.raises(InvalidInputError, match="needs the channels' positions"):
        LUNAClassifier(**_SMALL).fit(bare.get_data(), y)
    with pytest.raises(InvalidInputError, match="info has 4 channels but X has 3"):
        LUNAClassifier(**_SMALL).fit(bare.get_data()[:, :3], y, info=bare.info)


def test_luna_file_runs_through_neurodec_benchmark(tiny_dataset, tmp_path, monkeypatch, capsys):
    pytest.importorskip("braindecode")
    import pandas as pd

    import neurodec.evaluation.benchmark as bench
    from neurodec.cli import main

    monkeypatch.setattr(
        bench, "load_datasets", lambda names, data_root=None, subjects=None, **kw: [tiny_dataset]
    )
    text = (pipelines_dir() / "deep" / "luna.yml").read_text()
    for old, new in [
        ("max_epochs: 20", "max_epochs: 1"),
        ("depth: 8", "depth: 1"),
        ("embed_dim: 64", "embed_dim: 16"),
    ]:
        assert old in text
        text = text.replace(old, new)
    pipes = tmp_path / "pipes"
    pipes.mkdir()
    (pipes / "luna.yml").write_text(text + "      patch_size: 32\n")
    out = tmp_path / "res"
    args = ["benchmark", "--pipelines", str(pipes), "--datasets", "Fake", "--evaluations", "cross-subject"]
    assert main([*args, "--results", str(out), "--no-plots"]) == 0, capsys.readouterr().err
    df = pd.read_csv(out / "results.csv")
    assert len(df) == 2 and (df.pipeline == "LUNA").all() and df.score.between(0, 1).all()


def test_luna_clones_and_pickles():
    pytest.importorskip("braindecode")
    import pickle

    from sklearn.base import clone

    from neurodec.deep import LUNAClassifier

    epochs, y = _epochs()
    clf = LUNAClassifier(random_state=1, **_SMALL)
    assert clone(clf).get_params() == clf.get_params()
    clf.fit(epochs, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(epochs), clf.predict_proba(epochs), rtol=1e-6)
    assert list(again.classes_) == ["a", "b"]
