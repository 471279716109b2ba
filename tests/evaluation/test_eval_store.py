"""The results store: durable, append-only, resumable, keyed by pipeline content."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import neurodec.evaluation.engine as engine
from neurodec.errors import InvalidDataError, InvalidInputError
from neurodec.evaluation import ResultsStore, WithinSessionEvaluation
from neurodec.evaluation.data import clear_memory_cache

HERE = Path(__file__).resolve().parent


def _row(**kw):
    base = dict(
        dataset="D",
        subject=1,
        session="0",
        pipeline="P",
        pipeline_key="P@1",
        evaluation="E",
        context="c",
        fold=0,
        task="1|0|0",
        metric="roc_auc",
        score=0.5,
        time=0.1,
        predict_time=0.01,
        n_train=8,
        n_test=2,
        n_classes=2,
        n_channels=3,
    )
    return base | kw


def test_store_appends_without_duplicates_and_exports(tmp_path):
    store = ResultsStore(tmp_path)
    assert store.path == tmp_path / "results.sqlite"
    assert store.add([_row(), _row(fold=1, task="1|0|1")]) == 2
    assert store.add([_row(score=0.9)]) == 0  # same key: ignored, first value kept
    assert len(store) == 2
    assert store.done_tasks("D", "E", "c") == {("P@1", "1|0|0", ""), ("P@1", "1|0|1", "")}
    csv = store.export_csv(tmp_path / "out.csv")
    pq = store.export_parquet(tmp_path / "out.parquet")
    a, b = pd.read_csv(csv), pd.read_parquet(pq)
    assert len(a) == len(b) == 2 and a.score.tolist() == [0.5, 0.5]
    store.close()
    again = ResultsStore(tmp_path / "results.sqlite")  # durable across connections
    assert len(again) == 2
    assert again.delete("D", "E", "c", ["P@1"]) == 2 and len(again) == 0


def test_store_rejects_garbage_file(tmp_path):
    bad = tmp_path / "results.sqlite"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(InvalidDataError, match="is corrupt .*file is not a database.*left untouched"):
        ResultsStore(bad)
    assert bad.read_bytes() == b"this is not sqlite at all" * 100
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(InvalidInputError, match="folder"):
        ResultsStore(f)
    with pytest.raises(InvalidInputError, match="unknown result column"):
        ResultsStore(None).to_frame(nope=1)


def test_rerun_computes_only_missing_folds(fake_dataset, paradigm, pipelines, tmp_path, monkeypatch):
    clear_memory_cache()
    calls = []
    real = engine._fit_and_score_shared
    monkeypatch.setattr(
        engine, "_fit_and_score_shared", lambda *a: calls.extend(m[0] for m in a[4]) or real(*a)
    )
    ev = dict(random_state=1, results=tmp_path, progress=False)
    first = WithinSessionEvaluation(paradigm, [fake_dataset], **ev).process_folds(pipelines)
    assert len(calls) == len(first) == 3 * 2 * 5 * 2
    calls.clear()
    WithinSessionEvaluation(paradigm, [fake_dataset], **ev).process_folds(pipelines)
    assert calls == []  # everything stored: nothing recomputed (data not even loaded)
    # lose 7 rows as a crash would, plus the completion markers
    con = sqlite3.connect(tmp_path / "results.sqlite")
    con.execute(
        "DELETE FROM results WHERE rowid IN (SELECT rowid FROM results ORDER BY created DESC LIMIT 7)"
    )
    con.execute("DELETE FROM completed")
    con.commit()
    con.close()
    again = WithinSessionEvaluation(paradigm, [fake_dataset], **ev).process_folds(pipelines)
    assert len(calls) == 7
    cols = ["pipeline_key", "subject", "session", "fold"]
    pd.testing.assert_frame_equal(
        again.sort_values(cols)[cols + ["score"]].reset_index(drop=True),
        first.sort_values(cols)[cols + ["score"]].reset_index(drop=True),
    )
    # overwrite recomputes everything
    calls.clear()
    WithinSessionEvaluation(paradigm, [fake_dataset], overwrite=True, **ev).process_folds(pipelines)
    assert len(calls) == len(first)


def test_changed_pipeline_is_a_new_key(fake_dataset, paradigm, pipelines, tmp_path):
    from sklearn.linear_model import LogisticRegression

    ev = dict(random_state=1, results=tmp_path, progress=False)
    one = {"TS+LR": pipelines["TS+LR"]}
    a = WithinSessionEvaluation(paradigm, [fake_dataset], **ev).process(one)
    changed = {"TS+LR": pipelines["TS+LR"].set_params(logisticregression=LogisticRegression(C=0.01))}
    b = WithinSessionEvaluation(paradigm, [fake_dataset], **ev).process(changed)
    assert a.pipeline_key.nunique() == b.pipeline_key.nunique() == 1
    assert a.pipeline_key.iloc[0] != b.pipeline_key.iloc[0]
    stored = ResultsStore(tmp_path).to_frame()
    assert stored.pipeline_key.nunique() == 2 and len(stored) == 2 * 30  # old rows kept


SCRIPT = """
import sys, warnings; warnings.filterwarnings("ignore")
sys.path.insert(0, {here!r})
from moabb.datasets.fake import FakeDataset
from moabb.paradigms import LeftRightImagery
from pyriemann.estimation import Covariances
from pyriemann.tangentspace import TangentSpace
from sklearn.pipeline import make_pipeline
from _slow_steps import SlowLogReg
from neurodec.evaluation import WithinSessionEvaluation
import neurodec.evaluation.engine as engine
calls = []
real = engine._fit_and_score_shared
engine._fit_and_score_shared = lambda *a: calls.extend(m[0] for m in a[4]) or real(*a)
ds = FakeDataset(["left_hand", "right_hand"], n_subjects=3, n_sessions=2, n_runs=1, duration=30,
                 n_events=30, seed=3)
pipe = {{"slow": make_pipeline(Covariances("oas"), TangentSpace(), SlowLogReg(delay={delay}))}}
WithinSessionEvaluation(LeftRightImagery(), [ds], random_state=7, results={results!r},
                        progress=False).process_folds(pipe)
print("fits", len(calls))
"""


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path):
    real_fit = engine._fit_and_score_shared

    def script(results, delay):
        return SCRIPT.format(here=str(HERE), results=str(results), delay=delay)

    env = dict(os.environ, PYTHONWARNINGS="ignore")
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-c", script(killed, 0.15)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = killed / "results.sqlite"
    deadline = time.time() + 120
    n = 0
    while proc.poll() is None and time.time() < deadline:
        try:
            n = sqlite3.connect(db).execute("SELECT COUNT(*) FROM results").fetchone()[0]
        except sqlite3.Error:
            n = 0
        if n >= 8:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    at_kill = len(ResultsStore(killed))
    assert 8 <= at_kill < 30
    out = subprocess.run(
        [sys.executable, "-c", script(killed, 0.15)], env=env, check=True, capture_output=True, text=True
    ).stdout
    # the uninterrupted reference, in this process (same seed, same model, no delay)
    clean = tmp_path / "clean"
    exec(compile(script(clean, 0.0), "<clean>", "exec"), {})
    engine._fit_and_score_shared = real_fit
    cols = ["subject", "session", "fold", "score"]
    final_df = ResultsStore(killed).to_frame()
    final = final_df[cols].sort_values(cols[:-1]).reset_index(drop=True)
    ref = ResultsStore(clean).to_frame()[cols].sort_values(cols[:-1]).reset_index(drop=True)
    assert len(final) == 30 and final_df.pipeline_key.nunique() == 1
    assert not final.duplicated(cols[:-1]).any()
    assert f"fits {30 - at_kill}" in out  # only the missing folds were recomputed
    np.testing.assert_array_equal(final.score.to_numpy(), ref.score.to_numpy())


def test_cross_subject_results_depend_on_the_subject_set(paradigm, pipelines, tmp_path):
    from moabb.datasets.fake import FakeDataset

    from neurodec.evaluation import CrossSubjectEvaluation

    def ds(n):
        return FakeDataset(
            ["left_hand", "right_hand"],
            n_subjects=n,
            n_sessions=1,
            n_runs=1,
            duration=30,
            n_events=30,
            seed=3,
        )

    one = {"MDM": pipelines["MDM"]}
    a = CrossSubjectEvaluation(paradigm, [ds(2)], results=tmp_path, progress=False).process(one)
    b = CrossSubjectEvaluation(paradigm, [ds(3)], results=tmp_path, progress=False).process(one)
    assert len(a) == 2 and len(b) == 3  # not the stored 2-subject rows
