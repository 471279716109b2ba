"""Resume keys and run contexts of the results store: a fold is reused whatever
the other pipelines or subjects of a run, and reports never average runs that
differ (seed, data version, pipeline definition) unless asked to pool them."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
from moabb.datasets.fake import FakeDataset

import neurodec.evaluation.engine as engine
from neurodec.datasets.base import NeurodecDataset
from neurodec.evaluation import CrossSubjectEvaluation, ResultsStore, WithinSessionEvaluation
from neurodec.evaluation.benchmark import run_benchmark
from neurodec.evaluation.data import clear_memory_cache
from neurodec.evaluation.summary import label_runs, per_session_scores, run_notes, summary_table


class FileFake(NeurodecDataset, FakeDataset):
    """MOABB's fake imagery data with one local file per subject: the file's
    size and mtime are the subject's data version, as for real datasets."""

    def __init__(self, root, subjects=(1, 2, 3)):
        FakeDataset.__init__(
            self,
            ["left_hand", "right_hand"],
            n_subjects=3,
            n_sessions=2,
            n_runs=1,
            duration=30,
            n_events=30,
            seed=3,
            code="FileFake",
        )
        self.data_root = root
        self.subject_list = list(subjects)

    def expected_files(self, subject):
        return [self.data_root / f"sub-{subject}.dat"]


@pytest.fixture()
def files(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    for s in (1, 2, 3):
        (root / f"sub-{s}.dat").write_bytes(b"x" * 10)
    return root


@pytest.fixture()
def fits(monkeypatch):
    """Names of the pipelines fitted, one entry per (pipeline, fold)."""
    clear_memory_cache()
    calls = []
    real = engine._fit_and_score_shared
    monkeypatch.setattr(
        engine, "_fit_and_score_shared", lambda *a: calls.extend(m[0] for m in a[4]) or real(*a)
    )
    return calls


def test_within_session_resume_ignores_pipeline_set_and_subject_list(
    files, tmp_path, paradigm, pipelines, fits
):
    ev = dict(random_state=1, results=tmp_path / "res", progress=False)
    both = WithinSessionEvaluation(paradigm, [FileFake(files)], **ev).process_folds(pipelines)
    assert len(fits) == len(both) == 2 * 3 * 2 * 5
    fits.clear()
    # one pipeline dropped: nothing to compute, and the rows are the stored ones
    mdm = WithinSessionEvaluation(paradigm, [FileFake(files)], **ev).process_folds({"MDM": pipelines["MDM"]})
    assert fits == [] and len(mdm) == 30
    # fewer subjects: their folds are stored already
    two = WithinSessionEvaluation(paradigm, [FileFake(files, (1, 2))], **ev).process_folds(pipelines)
    assert fits == [] and sorted(two.subject.unique()) == [1, 2] and len(two) == 40
    cols = ["pipeline_key", "subject", "session", "fold", "score"]
    pd.testing.assert_frame_equal(
        two[cols].sort_values(cols).reset_index(drop=True),
        both[both.subject <= 2][cols].sort_values(cols).reset_index(drop=True),
    )
    assert len(ResultsStore(tmp_path / "res")) == 60  # no duplicates under new contexts


def test_fixed_data_file_recomputes_that_subject_and_reports_older_rows_apart(
    files, tmp_path, paradigm, pipelines, fits
):
    ev = dict(random_state=1, results=tmp_path / "res", progress=False)
    one = {"MDM": pipelines["MDM"]}
    WithinSessionEvaluation(paradigm, [FileFake(files)], **ev).process_folds(one)
    fits.clear()
    (files / "sub-2.dat").write_bytes(b"y" * 20)  # subject 2's file is fixed
    again = WithinSessionEvaluation(paradigm, [FileFake(files)], **ev).process_folds(one)
    assert len(fits) == 10  # subject 2's 2 sessions x 5 folds, no other subject
    assert len(again) == 30 and again.data_version.nunique() == 3
    store = ResultsStore(tmp_path / "res", readonly=True)
    assert len(store) == 40
    table = summary_table(per_session_scores(store.view()))
    assert dict(zip(table.run, table.n)) == {"data=current": 6, "data=older": 2}
    assert any("2 runs that differ" in n for n in run_notes(store.view()))
    pooled = summary_table(per_session_scores(store.view(pool=True)))
    assert len(pooled) == 1 and pooled.n.iloc[0] == 6  # old and new rows of a session averaged


def test_cross_subject_folds_are_keyed_by_the_cohort(files, tmp_path, paradigm, pipelines, fits):
    ev = dict(results=tmp_path / "res", progress=False)
    CrossSubjectEvaluation(paradigm, [FileFake(files)], **ev).process_folds({"MDM": pipelines["MDM"]})
    assert fits == ["MDM"] * 3
    fits.clear()
    both = CrossSubjectEvaluation(paradigm, [FileFake(files)], **ev).process_folds(pipelines)
    assert fits == ["TS+LR"] * 3 and len(both) == 2 * 3 * 2  # MDM reused
    fits.clear()
    # other subjects train every fold: another cohort is another set of folds
    CrossSubjectEvaluation(paradigm, [FileFake(files, (1, 2))], **ev).process_folds({"MDM": pipelines["MDM"]})
    assert fits == ["MDM"] * 2
    fits.clear()
    (files / "sub-3.dat").write_bytes(b"z")  # a training subject's data changed
    CrossSubjectEvaluation(paradigm, [FileFake(files)], **ev).process_folds({"MDM": pipelines["MDM"]})
    assert fits == ["MDM"] * 3


def test_param_grid_is_part_of_the_pipeline_key(fake_dataset, tmp_path, paradigm, pipelines, fits):
    ev = dict(random_state=1, results=tmp_path, progress=False)
    one = {"TS+LR": pipelines["TS+LR"]}
    a = WithinSessionEvaluation(paradigm, [fake_dataset], **ev).process_folds(one)
    grid = {"TS+LR": {"logisticregression__C": [0.1, 1.0]}}
    b = WithinSessionEvaluation(paradigm, [fake_dataset], **ev).process_folds(one, param_grid=grid)
    assert len(fits) == 60 and a.pipeline_key.iloc[0] != b.pipeline_key.iloc[0]
    assert a.context.iloc[0] == b.context.iloc[0]


def test_seeds_are_reported_apart_unless_pooled(fake_dataset, tmp_path, paradigm, pipelines):
    one = {"MDM": pipelines["MDM"]}
    by_seed = {}
    for seed in (42, 7):
        kw = dict(results=tmp_path, random_state=seed, plots=False, progress=False)
        by_seed[seed] = run_benchmark(one, [fake_dataset], **kw).scores.score.mean()
    assert abs(by_seed[42] - by_seed[7]) > 1e-6
    store = ResultsStore(tmp_path)
    rows = store.to_frame()
    # the CSV next to the store holds every run, not only the last one
    assert len(pd.read_csv(tmp_path / "results.csv")) == len(rows) == 60
    # even unlabelled rows are not averaged across contexts
    plain = summary_table(per_session_scores(rows))
    assert sorted(plain["mean"]) == pytest.approx(sorted(by_seed.values()))
    table = summary_table(per_session_scores(store.view()))
    assert dict(zip(table.run, table["mean"])) == pytest.approx(
        {"seed=42": by_seed[42], "seed=7": by_seed[7]}
    )
    pooled = summary_table(per_session_scores(store.view(pool=True)))
    assert pooled["mean"].tolist() == pytest.approx([(by_seed[42] + by_seed[7]) / 2])


def test_csv_and_plots_view_the_whole_store(fake_dataset, tmp_path, paradigm, pipelines):
    kw = dict(results=tmp_path, random_state=42, progress=False)
    run_benchmark({"MDM": pipelines["MDM"]}, [fake_dataset], **kw)
    result = run_benchmark({"TS+LR": pipelines["TS+LR"]}, [fake_dataset], **kw)
    csv = pd.read_csv(tmp_path / "results.csv")
    assert len(result.folds) == 30 and len(csv) == result.n_stored == 60
    assert set(csv.pipeline) == {"MDM", "TS+LR"}
    assert (tmp_path / "paired_MDM_vs_TS-LR.png") in result.files


V1_SCHEMA = (
    "CREATE TABLE results (dataset TEXT NOT NULL, subject INTEGER NOT NULL, session TEXT NOT NULL, "
    "pipeline TEXT NOT NULL, pipeline_key TEXT NOT NULL, evaluation TEXT NOT NULL, context TEXT NOT NULL, "
    "fold INTEGER NOT NULL, task TEXT NOT NULL, metric TEXT NOT NULL, score REAL, time REAL, "
    "predict_time REAL, n_train INTEGER, n_test INTEGER, n_classes INTEGER, n_channels INTEGER, "
    "created REAL, PRIMARY KEY (dataset, subject, session, pipeline_key, evaluation, context, fold))"
)


def _v1_store(path, code):
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute(V1_SCHEMA)
    con.execute(
        "CREATE TABLE completed (dataset TEXT, evaluation TEXT, context TEXT, pipeline_key TEXT, "
        "subject INTEGER, PRIMARY KEY (dataset, evaluation, context, pipeline_key, subject))"
    )
    for s in (1, 2, 3):
        con.execute(
            "INSERT INTO results VALUES (?, ?, '0', 'MDM', 'MDM@old', 'WithinSession', 'c1', 0, "
            "?, 'roc_auc', 0.5, 0.1, 0.0, 10, 2, 2, 3, 0.0)",
            (code, s, f"{s}|0|0"),
        )
    con.execute("INSERT INTO completed VALUES (?, 'WithinSession', 'c1', 'MDM@old', 1)", (code,))
    con.commit()
    con.close()


def test_store_of_an_older_version_is_read_then_migrated_never_reused(
    fake_dataset, tmp_path, paradigm, pipelines
):
    path = tmp_path / "results.sqlite"
    _v1_store(path, fake_dataset.code)
    ro = ResultsStore(path, readonly=True)  # read as it is, not changed
    old = ro.to_frame()
    assert len(old) == 3 and set(old.data_version) == {"legacy"}
    ro.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 0
    ev = WithinSessionEvaluation(paradigm, [fake_dataset], random_state=1, results=tmp_path, progress=False)
    rows = ev.process_folds({"MDM": pipelines["MDM"]})
    assert len(rows) == 30 and "legacy" not in set(rows.data_version)
    assert len(ev.store) == 33  # the old rows are kept
    assert ev.store._conn.execute("PRAGMA user_version").fetchone()[0] == 2
    view = ev.store.view()
    assert set(view[view.data_version == "legacy"].run.str.contains("data=legacy")) == {True}
    assert (view[view.data_version != "legacy"].run != "").all()


def test_label_runs_tells_pipeline_definitions_apart():
    rows = pd.DataFrame(
        {
            "dataset": "D",
            "evaluation": "E",
            "context": "c",
            "data_version": "v",
            "subject": [1, 1],
            "pipeline": ["P", "P"],
            "pipeline_key": ["P@a", "P@b"],
        }
    )
    out = label_runs(rows)
    assert out.pipeline.tolist() == ["P@a", "P@b"] and (out.run == "").all()
    assert run_notes(out) == ["pipeline 'P' has 2 definitions; each is shown as name@hash"]
