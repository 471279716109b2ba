"""Pseudo-online evaluation: held-out runs replayed through the StreamingDecoder."""

from __future__ import annotations

import numpy as np
import pytest

from neurodec.online import Decision
from neurodec.online.pseudo_online import match_trials, pseudo_online_scores, score_decisions

SFREQ = 128.0


class BurstDataset:
    """Two runs of left/right trials: a 12 Hz burst on C3 (left) or C4 (right) for 3 s."""

    code = "Burst"
    subject_list = [1]
    event_id = {"left_hand": 1, "right_hand": 2}
    interval = [0, 3]
    paradigm = "imagery"
    unit_factor = 1e6
    n_sessions = 1

    def _raw(self, seed):
        import mne

        rng = np.random.default_rng(seed)
        n_trials, period = 16, int(6 * SFREQ)
        n = n_trials * period + int(4 * SFREQ)
        data = rng.standard_normal((4, n)) * 1e-6
        labels = np.tile([1, 2], n_trials // 2)
        rng.shuffle(labels)
        t = np.arange(int(3 * SFREQ)) / SFREQ
        for k, code in enumerate(labels):
            onset = int(2 * SFREQ) + k * period
            data[0 if code == 1 else 1, onset : onset + t.size] += 3e-6 * np.sin(2 * np.pi * 12 * t)
            data[3, onset] = code
        info = mne.create_info(["C3", "C4", "Cz", "STI"], SFREQ, ["eeg", "eeg", "eeg", "stim"])
        return mne.io.RawArray(data, info, verbose=False)

    def get_data(self, subjects=None):
        return {
            s: {"0": {"0": self._raw(2 * s - 1), "1": self._raw(2 * s)}}
            for s in subjects or self.subject_list
        }


def test_match_trials_takes_the_first_window_ending_at_or_after_the_trial():
    ds = [Decision(0.0, None, None, "ok", s) for s in (100, 110, 120, 130)]
    assert match_trials(ds, np.array([95, 100, 101, 130, 131])).tolist() == [0, 0, 1, 3, -1]


def test_score_decisions_uses_the_positive_class_probability():
    classes = np.array(["a", "b"])
    ds = [Decision(0.0, c, np.array([1 - p, p]), "ok", 0) for c, p in (("a", 0.2), ("b", 0.9), ("a", 0.4))]
    y = np.array(["a", "b", "b"])
    assert score_decisions("roc_auc", y, ds, classes) == 1.0
    assert score_decisions("accuracy", y, ds, classes) == pytest.approx(2 / 3)


def test_separable_runs_score_high_online_and_offline_and_every_sample_is_decoded():
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.pipelines import load_pipelines
    from neurodec.paradigms import LeftRightImagery

    pipes = load_pipelines(pipelines_dir() / "ts_lr.yml")
    df = pseudo_online_scores(pipes, BurstDataset(), LeftRightImagery(cache=False), step=0.25, chunk_size=10)
    assert df["run"].tolist() == ["0", "1"] and set(df["pipeline"]) == {"TS+LR"}
    assert (df["samples_decoded"] == df["samples_file"]).all() and (df["dropped"] == 0).all()
    assert (df["n_trials"] == 16).all() and (df["n_online"] + df["n_missing"] == 16).all()
    assert (df["n_online"] >= 15).all()  # only a trial inside the filter's start-up can be missing
    assert (df["offline"] > 0.95).all() and (df["online"] > 0.95).all()


def test_cli_writes_the_table_the_plot_and_store_rows(monkeypatch, tmp_path, capsys, cache_dir):
    import pandas as pd

    import neurodec.evaluation.benchmark as bench
    from neurodec.cli import main
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.store import ResultsStore

    monkeypatch.setattr(bench, "load_datasets", lambda names, data_root=None, subjects=None: [BurstDataset()])
    out = tmp_path / "res"
    args = ["pseudo-online", "--pipelines", str(pipelines_dir() / "ts_lr.yml"), "--datasets", "Burst"]
    code = main([*args, "--results", str(out), "--step", "0.25"])
    assert code == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "TS+LR" in printed and "offline" in printed and "online" in printed
    table = pd.read_csv(out / "pseudo_online.csv")
    assert len(table) == 2 and (out / "pseudo_online.png").stat().st_size > 1000
    store = ResultsStore(out)
    try:
        rows = store.to_frame()
    finally:
        store.close()
    assert set(rows["evaluation"]) == {"PseudoOnline"}
    assert sorted(rows["pipeline"].unique()) == ["TS+LR", "TS+LR (offline)"]
    online = rows[rows.pipeline == "TS+LR"].sort_values("fold")["score"].to_numpy()
    np.testing.assert_allclose(online, table.sort_values("fold")["online"].to_numpy())
    assert (out / "results.csv").exists() and (out / "scores.png").exists()  # as any benchmark
    assert main([*args, "--results", str(out), "--metric", "log_loss"]) == 2
    assert (
        "pseudo-online scores roc_auc, accuracy, balanced_accuracy, not 'log_loss'" in capsys.readouterr().err
    )


def _ts_lr():
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.pipelines import load_pipelines

    return load_pipelines(pipelines_dir() / "ts_lr.yml")


def _assert_same_runs(rows, expected):
    """Pseudo-online store rows of TS+LR hold ``expected``: {(subject, session, fold): (online, offline)}."""
    online = rows[rows.pipeline == "TS+LR"].set_index(["subject", "session", "fold"])["score"]
    offline = rows[rows.pipeline == "TS+LR (offline)"].set_index(["subject", "session", "fold"])["score"]
    assert sorted(online.index) == sorted(offline.index) == sorted(expected)
    got = [(online[k], offline[k]) for k in sorted(expected)]
    np.testing.assert_allclose(got, [expected[k] for k in sorted(expected)], rtol=0, atol=1e-12)


def test_engine_protocol_equals_the_function_and_resumes_after_a_kill(monkeypatch, tmp_path):
    import neurodec.online.evaluation as ev
    from neurodec.evaluation.store import ResultsStore
    from neurodec.paradigms import LeftRightImagery

    par = LeftRightImagery(cache=False)
    ref = pseudo_online_scores(_ts_lr(), BurstDataset(), par, step=0.25, chunk_size=64)
    calls = []
    real = ev.score_fold

    def killed_after_one(*args):
        if calls:
            raise KeyboardInterrupt  # the run is killed during its second fold
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(ev, "score_fold", killed_after_one)
    options = dict(results=tmp_path, step=0.25, chunk_size=64, progress=False)
    with pytest.raises(KeyboardInterrupt):
        ev.PseudoOnlineEvaluation(par, [BurstDataset()], **options).process_folds(_ts_lr())
    store = ResultsStore(tmp_path)
    assert len(store.to_frame()) == 2  # the first fold's online and offline rows
    store.close()

    def counted(*args):
        calls.append(1)
        return real(*args)

    calls.clear()
    monkeypatch.setattr(ev, "score_fold", counted)
    rows = ev.PseudoOnlineEvaluation(par, [BurstDataset()], **options).process_folds(_ts_lr())
    assert len(calls) == 1  # only the fold that was lost
    assert set(rows["evaluation"]) == {"PseudoOnline"} and len(rows) == 4
    expected = {(1, "0", int(r.run)): (r.online, r.offline) for r in ref.itertuples()}
    _assert_same_runs(rows, expected)
    calls.clear()
    again = ev.PseudoOnlineEvaluation(par, [BurstDataset()], **options).process_folds(_ts_lr())
    assert calls == [] and len(again) == 4  # everything stored: nothing recomputed
    # another step is another run context: computed anew, kept apart
    ev.PseudoOnlineEvaluation(par, [BurstDataset()], **{**options, "step": 0.5}).process_folds(_ts_lr())
    assert len(calls) == 2


def test_engine_runs_the_subjects_folds_as_parallel_tasks(tmp_path):
    from neurodec.online.evaluation import PseudoOnlineEvaluation
    from neurodec.paradigms import LeftRightImagery

    ds = BurstDataset()
    ds.subject_list = [1, 2]
    par = LeftRightImagery(cache=False)
    ref = pseudo_online_scores(_ts_lr(), ds, par, step=0.5, chunk_size=128)
    ev = PseudoOnlineEvaluation(
        par, [ds], results=tmp_path, step=0.5, chunk_size=128, n_jobs=2, backend="threading", progress=False
    )
    rows = ev.process_folds(_ts_lr())
    assert len(rows) == 8 and set(rows["subject"]) == {1, 2}
    _assert_same_runs(rows, {(r.subject, "0", int(r.run)): (r.online, r.offline) for r in ref.itertuples()})
    assert (rows["n_train"] == 16).all() and (rows["n_channels"] == 3).all()


def test_pseudo_online_rejects_what_a_stream_cannot_score(tmp_path):
    from neurodec.errors import InvalidInputError
    from neurodec.online.evaluation import PseudoOnlineEvaluation
    from neurodec.paradigms import LeftRightImagery

    par = LeftRightImagery(cache=False)
    with pytest.raises(InvalidInputError, match="not 'kappa'"):
        PseudoOnlineEvaluation(par, [BurstDataset()], metric="kappa")
    with pytest.raises(InvalidInputError, match="without resample"):
        PseudoOnlineEvaluation(LeftRightImagery(resample=64), [BurstDataset()])
    with pytest.raises(InvalidInputError, match="step must be"):
        PseudoOnlineEvaluation(par, [BurstDataset()], step=0)


def test_benchmark_cli_runs_pseudo_online_and_results_report_it(monkeypatch, tmp_path, capsys, cache_dir):
    import pandas as pd

    import neurodec.evaluation.benchmark as bench
    from neurodec.cli import main
    from neurodec.config import pipelines_dir

    monkeypatch.setattr(
        bench, "load_datasets", lambda names, data_root=None, subjects=None, **kw: [BurstDataset()]
    )
    out = tmp_path / "res"
    args = ["benchmark", "--pipelines", str(pipelines_dir() / "ts_lr.yml"), "--datasets", "Burst"]
    args += ["--evaluations", "within-session", "PseudoOnline", "--results", str(out)]
    assert main([*args, "--online-step", "0.25"]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "PseudoOnline" in printed and "TS+LR (offline)" in printed and "WithinSession" in printed
    assert main(["results", str(out), "show"]) == 0
    shown = capsys.readouterr().out
    line = [ln for ln in shown.splitlines() if "PseudoOnline" in ln and "(offline)" in ln]
    assert len(line) == 1 and "roc_auc" in line[0]
    assert main(["results", str(out), "compare"]) == 0
    assert "TS+LR (offline)" in capsys.readouterr().out  # online vs offline, paired per subject
    assert main(["results", str(out), "export-moabb", str(tmp_path / "moabb.csv")]) == 0
    moabb = pd.read_csv(tmp_path / "moabb.csv")
    assert set(moabb["evaluation"]) == {"WithinSession", "PseudoOnline"}
    assert main(["results", str(out), "export-moabb", str(tmp_path / "h5")]) == 0
    assert (tmp_path / "h5/results/LeftRightImagery/PseudoOnlineEvaluation/results_.hdf5").is_file()
    assert main([*args, "--metric", "kappa"]) == 2
    assert "pseudo-online scores roc_auc, accuracy, balanced_accuracy, not 'kappa'" in capsys.readouterr().err


@pytest.mark.data
def test_engine_equals_the_function_on_physionet(data_root, tmp_path, cache_dir):
    from neurodec.datasets import get_dataset
    from neurodec.online.evaluation import PseudoOnlineEvaluation
    from neurodec.paradigms import LeftRightImagery

    ds = get_dataset("PhysionetMI", data_root=data_root)
    ds.subject_list = [1]
    par = LeftRightImagery(channels=["C3", "Cz", "C4", "FC3", "FC4", "CP3", "CP4", "Pz"])
    # large chunks: many windows per estimator call, so the test takes seconds
    ref = pseudo_online_scores(_ts_lr(), ds, par, step=0.5, chunk_size=400)
    assert len(ref) == 3 and (ref["samples_decoded"] == ref["samples_file"]).all()
    ev = PseudoOnlineEvaluation(par, [ds], results=tmp_path, progress=False, step=0.5, chunk_size=400)
    rows = ev.process_folds(_ts_lr())
    runs = sorted(ref["run"].unique(), key=lambda r: list(ref["run"]).index(r))
    expected = {(1, r.session, runs.index(r.run)): (r.online, r.offline) for r in ref.itertuples()}
    _assert_same_runs(rows, expected)
    assert rows["data_version"].str.startswith(f"{ds.code}:").all()


def _recentering():
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from neurodec.riemann.estimators import Recentering

    steps = [
        ("cov", Covariances("oas")),
        ("rc", Recentering()),
        ("ts", TangentSpace()),
        ("lr", LogisticRegression()),
    ]
    return {"Cov+RC+TS+LR": Pipeline(steps)}


def test_recentering_pipelines_are_fitted_per_domain_and_adapt_online(tmp_path, caplog, monkeypatch):
    import logging

    from neurodec.online.evaluation import PseudoOnlineEvaluation
    from neurodec.paradigms import LeftRightImagery
    from neurodec.riemann.estimators import Recentering

    seen = []
    fit = Recentering.fit

    def recorded_fit(self, X, y=None, domains=None):
        seen.append(None if domains is None else set(np.asarray(domains).tolist()))
        return fit(self, X, y, domains=domains)

    monkeypatch.setattr(Recentering, "fit", recorded_fit)
    caplog.set_level(logging.INFO, logger="neurodec.online.adapt")
    par = LeftRightImagery(cache=False)
    ev = PseudoOnlineEvaluation(
        par, [BurstDataset()], results=tmp_path, step=0.25, chunk_size=64, progress=False
    )
    rows = ev.process_folds(_recentering())
    assert sorted(rows["pipeline"]) == ["Cov+RC+TS+LR"] * 2 + ["Cov+RC+TS+LR (offline)"] * 2  # 2 runs
    assert rows["score"].notna().all() and (rows["score"] > 0.9).all()
    assert seen == [{"1/0"}, {"1/0"}]  # one domain per subject/session, as the engine gives
    assert caplog.text.count("streaming with online re-centering") == 2  # each replay adapts live
    ref = pseudo_online_scores(_recentering(), BurstDataset(), par, step=0.25, chunk_size=64)
    expected = {(1, "0", int(r.run)): (r.online, r.offline) for r in ref.itertuples()}
    got = rows.assign(pipeline=rows["pipeline"].str.replace("Cov+RC+TS+LR", "TS+LR", regex=False))
    _assert_same_runs(got, expected)


@pytest.mark.data
def test_recentering_pipeline_gets_online_and_offline_rows_on_physionet(data_root, tmp_path, cache_dir):
    from neurodec.datasets import get_dataset
    from neurodec.online.evaluation import PseudoOnlineEvaluation
    from neurodec.paradigms import LeftRightImagery

    ds = get_dataset("PhysionetMI", data_root=data_root)
    ds.subject_list = [1]
    par = LeftRightImagery(channels=["C3", "Cz", "C4", "FC3", "FC4", "CP3", "CP4", "Pz"])
    ev = PseudoOnlineEvaluation(par, [ds], results=tmp_path, progress=False, step=0.5, chunk_size=400)
    rows = ev.process_folds(_recentering())
    counts = rows["pipeline"].value_counts().to_dict()
    assert counts == {"Cov+RC+TS+LR": 3, "Cov+RC+TS+LR (offline)": 3}  # one pair per held-out run
    assert rows["score"].between(0.5, 1.0).all()  # scored as the others: ROC-AUC above chance
    ref = pseudo_online_scores(_recentering(), ds, par, step=0.5, chunk_size=400)
    runs = sorted(ref["run"].unique(), key=lambda r: list(ref["run"]).index(r))
    expected = {(1, r.session, runs.index(r.run)): (r.online, r.offline) for r in ref.itertuples()}
    got = rows.assign(pipeline=rows["pipeline"].str.replace("Cov+RC+TS+LR", "TS+LR", regex=False))
    _assert_same_runs(got, expected)
