"""``neurodec fit``: a decoder file from a pipeline YAML and a dataset."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("skops")

import neurodec.evaluation.benchmark as bench  # noqa: E402
from neurodec.cli import main  # noqa: E402
from neurodec.config import pipelines_dir  # noqa: E402


@pytest.fixture()
def fake_registry(monkeypatch):
    from moabb.datasets.fake import FakeDataset

    def load(names, data_root=None, subjects=None):
        ds = FakeDataset(
            ["left_hand", "right_hand"],
            n_subjects=2,
            n_sessions=1,
            n_runs=1,
            duration=30,
            n_events=20,
            seed=3,
        )
        if subjects:
            ds.subject_list = [s for s in ds.subject_list if s in subjects]
        return [ds]

    monkeypatch.setattr(bench, "load_datasets", load)
    return load


def test_fit_writes_a_decoder_that_matches_the_offline_arrays(fake_registry, tmp_path, capsys, cache_dir):
    from neurodec.online import load_decoder
    from neurodec.paradigms import LeftRightImagery

    out = tmp_path / "mi.ndec"
    code = main(
        ["fit", str(pipelines_dir() / "ts_lr.yml"), "--dataset", "Fake", "--subjects", "1", "--out", str(out)]
    )
    assert code == 0, capsys.readouterr()
    assert "wrote" in capsys.readouterr().out
    dec = load_decoder(out)
    (ds,) = fake_registry(["Fake"], subjects=[1])
    X, y, _ = LeftRightImagery().get_data(ds, [1])
    assert dec.n_times == X.shape[-1] and len(dec.ch_names) == X.shape[1]
    raw = ds.get_data([1])[1]["0"]["0"]
    assert list(dec.ch_names) == [c for c in raw.ch_names if c != "stim"]
    assert (dec.fmin, dec.fmax, dec.sfreq) == (8.0, 32.0, raw.info["sfreq"])
    expected = bench.read_pipeline_specs(pipelines_dir() / "ts_lr.yml")[0].build().fit(X, y)
    np.testing.assert_allclose(dec.estimator.predict_proba(X), expected.predict_proba(X), rtol=1e-7)
    assert dec.metadata["metadata"]["pipeline"] == "TS+LR" and dec.metadata["metadata"]["subjects"] == [1]


def test_fit_user_errors_exit_2(fake_registry, tmp_path, capsys, cache_dir):
    p300 = pipelines_dir() / "p300_xdawncov_ts_lr.yml"
    assert main(["fit", str(p300), "--dataset", "Fake", "--out", str(tmp_path / "x.ndec")]) == 2
    assert "not LeftRightImagery" in capsys.readouterr().err
    assert main(["fit", str(pipelines_dir()), "--dataset", "Fake", "--out", str(tmp_path / "x.ndec")]) == 2
    assert "pick one with --name" in capsys.readouterr().err
    assert not (tmp_path / "x.ndec").exists()


def test_fit_causal_trains_on_causally_filtered_epochs_with_per_session_recentering(
    fake_registry, tmp_path, capsys, cache_dir, monkeypatch
):
    from neurodec.online import load_decoder
    from neurodec.online.causal import causal_epochs
    from neurodec.paradigms import LeftRightImagery
    from neurodec.riemann import Recentering

    recenter = tmp_path / "ts_recenter.yml"
    recenter.write_text(
        "name: Cov+Recenter+TS+LR\nparadigms: [LeftRightImagery]\npipeline:\n"
        "  - {name: Covariances, from: pyriemann.estimation, parameters: {estimator: oas}}\n"
        "  - {name: Recentering, from: neurodec.riemann}\n"
        "  - {name: TangentSpace, from: pyriemann.tangentspace}\n"
        "  - {name: LogisticRegression, from: sklearn.linear_model}\n"
    )
    out = tmp_path / "causal.ndec"
    code = main(
        ["fit", str(recenter), "--dataset", "Fake", "--subjects", "1", "2", "--causal", "--out", str(out)]
    )
    assert code == 0, capsys.readouterr()
    assert "(causal epochs)" in capsys.readouterr().out
    dec = load_decoder(out)
    assert dec.metadata["metadata"]["causal"] is True
    (ds,) = fake_registry(["Fake"], subjects=[1, 2])
    X, y, meta = causal_epochs(ds, LeftRightImagery(), [1, 2])
    offline, _, _ = LeftRightImagery().get_data(ds, [1, 2])
    assert X.shape == offline.shape and not np.allclose(X, offline)  # same epochs, filtered causally
    step = dec.estimator.named_steps["recentering"]
    assert isinstance(step, Recentering) and sorted(step.means_) == ["1/0", "2/0"]  # one domain per session
    expected = bench.read_pipeline_specs(recenter)[0].build()
    domains = (meta["subject"].astype(str) + "/" + meta["session"]).to_numpy()
    expected.fit(X, y, recentering__domains=domains)
    np.testing.assert_allclose(dec.estimator[-1].coef_, expected[-1].coef_, rtol=1e-7)
