"""The results store exported in MOABB's results format, read by ``moabb.analysis``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neurodec.cli import main
from neurodec.errors import InvalidInputError
from neurodec.evaluation.moabb_export import (
    MOABB_COLUMNS,
    export_moabb,
    moabb_results_frame,
    read_moabb_frame,
)

PIPES = Path(__file__).resolve().parent / "pipelines_moabb"


@pytest.fixture(scope="module")
def dataset():
    from moabb.datasets.fake import FakeDataset

    return FakeDataset(
        ["left_hand", "right_hand"], n_subjects=3, n_sessions=2, n_runs=1, duration=30, n_events=30, seed=3
    )


def _pipelines():
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return {
        "TS+LR": make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression()),
        "MDM": make_pipeline(Covariances("oas"), MDM()),
    }


@pytest.fixture(scope="module")
def results(dataset, tmp_path_factory):
    from neurodec.evaluation.benchmark import run_benchmark

    folder = tmp_path_factory.mktemp("res")
    run_benchmark(
        _pipelines(), [dataset], ["within-session", "cross-session"], folder, plots=False, progress=False
    )
    return folder


def test_export_equals_moabbs_own_table(results, dataset):
    """Same run through MOABB's WithinSessionEvaluation: the same table (times aside)."""
    from moabb.evaluations import WithinSessionEvaluation
    from moabb.paradigms import LeftRightImagery

    theirs = WithinSessionEvaluation(
        paradigm=LeftRightImagery(), datasets=[dataset], random_state=42, hdf5_path=tempfile.mkdtemp()
    ).process(_pipelines())
    ours = read_moabb_frame(results, paradigm="LeftRightImagery")
    assert list(ours.columns) == [*MOABB_COLUMNS, "paradigm"]
    ours = ours[ours["evaluation"] == "WithinSession"]
    key = ["pipeline", "subject", "session"]
    theirs = theirs.sort_values(key).reset_index(drop=True)
    ours = ours.sort_values(key).reset_index(drop=True)
    assert len(ours) == len(theirs) == 2 * 3 * 2
    for col in ["subject", "session", "dataset", "pipeline", "channels", "n_sessions"]:
        assert ours[col].tolist() == theirs[col].tolist(), col
    for col in ["score", "samples", "samples_test", "n_classes"]:  # MOABB keeps float32
        np.testing.assert_allclose(ours[col], theirs[col].astype(float), rtol=1e-6, err_msg=col)


def test_moabb_analysis_takes_the_export(results):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from moabb.analysis.meta_analysis import compute_dataset_statistics, find_significant_differences
    from moabb.analysis.plotting import paired_plot, score_plot

    frame = read_moabb_frame(results)
    within = frame[frame["evaluation"] == "WithinSession"]
    stats = compute_dataset_statistics(within)
    assert set(stats["pipe1"]) == {"MDM", "TS+LR"} and stats["nsub"].eq(3).all()
    assert np.isfinite(stats["p"]).all() and np.isfinite(stats["smd"]).all()
    P, T = find_significant_differences(stats)
    assert P.shape == T.shape == (2, 2)
    fig, colors = score_plot(within)
    assert set(colors) == {"MDM", "TS+LR"}
    fig2 = paired_plot(within, "MDM", "TS+LR")
    plt.close(fig)
    plt.close(fig2)


def test_hdf5_export_is_read_by_moabbs_results(results, tmp_path):
    from moabb.analysis.results import Results
    from moabb.evaluations import CrossSessionEvaluation, WithinSessionEvaluation
    from moabb.paradigms import LeftRightImagery

    files = export_moabb(results, tmp_path / "moabb", paradigm="LeftRightImagery")
    assert sorted(f.parent.name for f in files) == ["CrossSessionEvaluation", "WithinSessionEvaluation"]
    frame = read_moabb_frame(results)
    for cls, name in [(WithinSessionEvaluation, "WithinSession"), (CrossSessionEvaluation, "CrossSession")]:
        back = Results(cls, LeftRightImagery, hdf5_path=tmp_path / "moabb").to_dataframe()
        mine = frame[frame["evaluation"] == name]
        key = ["pipeline", "subject", "session"]
        back, mine = (
            back.sort_values(key).reset_index(drop=True),
            mine.sort_values(key).reset_index(drop=True),
        )
        assert len(back) == len(mine) > 0
        for col in ["subject", "session", "dataset", "pipeline", "channels", "n_sessions"]:
            assert back[col].tolist() == mine[col].tolist(), col
        for col in ["score", "time", "samples", "samples_test", "n_classes"]:
            np.testing.assert_allclose(back[col], mine[col], rtol=1e-6, err_msg=col)


def test_runs_of_one_pipeline_under_two_contexts_are_not_mixed(results, dataset, tmp_path):
    import shutil

    from neurodec.evaluation.benchmark import run_benchmark
    from neurodec.evaluation.store import ResultsStore

    folder = tmp_path / "two"
    shutil.copytree(results, folder)
    run_benchmark(
        {"MDM": _pipelines()["MDM"]},
        [dataset],
        ["within-session"],
        folder,
        random_state=7,
        plots=False,
        progress=False,
    )
    with pytest.raises(InvalidInputError, match=r"'MDM' \(WithinSession on .*\) has results from 2 runs"):
        read_moabb_frame(folder)
    store = ResultsStore(folder)
    folds = store.to_frame()
    store.close()
    first = folds.sort_values("created")["context"].iloc[0]
    kept = moabb_results_frame(folds, contexts=[first])
    assert len(kept[kept["evaluation"] == "WithinSession"]) == 2 * 3 * 2
    with pytest.raises(InvalidInputError, match="no results with context"):
        moabb_results_frame(folds, contexts=["nope"])


def test_cli_export_moabb(results, tmp_path, capsys):
    out = tmp_path / "moabb.csv"
    assert main(["results", str(results), "export-moabb", str(out), "--paradigm", "LeftRightImagery"]) == 0
    assert "MOABB's results format" in capsys.readouterr().out
    table = pd.read_csv(out)
    assert list(table.columns) == [*MOABB_COLUMNS, "paradigm"] and len(table) == 12 + 6 * 2
    assert main(["results", str(results), "export-moabb", str(tmp_path / "h5"), "--paradigm", "P300"]) == 0
    assert (tmp_path / "h5" / "results" / "P300" / "WithinSessionEvaluation" / "results_.hdf5").is_file()
    # the store records each run's paradigm: the HDF5 layout needs no --paradigm
    assert main(["results", str(results), "export-moabb", str(tmp_path / "h5b")]) == 0
    assert list((tmp_path / "h5b" / "results").glob("*/WithinSessionEvaluation/results_.hdf5"))
    capsys.readouterr()
    assert main(["results", str(results), "export-moabb"]) == 2
    assert main(["results", str(results), "export-moabb", str(tmp_path / "x.json")]) == 2
    assert ".csv or .parquet" in capsys.readouterr().err


def test_a_paradigm_column_in_the_rows_is_used(results, tmp_path):
    """Stores that record each run's paradigm class: one HDF5 tree per paradigm, no argument."""
    from moabb.analysis.results import Results
    from moabb.evaluations import WithinSessionEvaluation
    from moabb.paradigms import FilterBankMotorImagery, LeftRightImagery

    from neurodec.evaluation.moabb_export import write_moabb
    from neurodec.evaluation.store import ResultsStore

    store = ResultsStore(results)
    folds = store.to_frame()
    store.close()
    folds = folds[folds["evaluation"] == "WithinSession"].copy()
    folds["paradigm"] = np.where(folds["pipeline"] == "MDM", "LeftRightImagery", "FilterBankMotorImagery")
    frame = moabb_results_frame(folds)
    assert list(frame.columns) == [*MOABB_COLUMNS, "paradigm"]
    assert set(zip(frame["pipeline"], frame["paradigm"])) == {
        ("MDM", "LeftRightImagery"),
        ("TS+LR", "FilterBankMotorImagery"),
    }
    files = write_moabb(frame, tmp_path / "h5")
    assert sorted(f.parent.parent.name for f in files) == ["FilterBankMotorImagery", "LeftRightImagery"]
    for par, pipe in [(LeftRightImagery, "MDM"), (FilterBankMotorImagery, "TS+LR")]:
        back = Results(WithinSessionEvaluation, par, hdf5_path=tmp_path / "h5").to_dataframe()
        assert set(back["pipeline"]) == {pipe} and len(back) == 6
    assert "paradigm" not in moabb_results_frame(folds.assign(paradigm="")).columns
