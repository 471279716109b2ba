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
        return {1: {"0": {"0": self._raw(1), "1": self._raw(2)}}}


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
    assert sorted(rows["evaluation"].unique()) == ["offline-run", "pseudo-online"]
    online = rows[rows.evaluation == "pseudo-online"].sort_values("fold")["score"].to_numpy()
    np.testing.assert_allclose(online, table["online"].to_numpy())
    assert main([*args, "--results", str(out), "--metric", "log_loss"]) == 2
