"""``neurodec benchmark``, ``pipelines``, ``results``: output files, resume, exit code 2 on user errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import neurodec.evaluation.benchmark as bench
from neurodec.cli import main

PIPES = Path(__file__).resolve().parent.parent / "evaluation" / "pipelines_moabb"


@pytest.fixture()
def fake_registry(monkeypatch):
    from moabb.datasets.fake import FakeDataset

    def load(names, data_root=None, subjects=None, **options):
        return [
            FakeDataset(
                ["left_hand", "right_hand"],
                n_subjects=3,
                n_sessions=2,
                n_runs=1,
                duration=30,
                n_events=30,
                seed=3,
                code="FakeMI",
            )
        ]

    monkeypatch.setattr(bench, "load_datasets", load)


def test_benchmark_writes_results_plots_and_resumes(fake_registry, tmp_path, capsys):
    out = tmp_path / "res"
    args = [
        "benchmark",
        "--pipelines",
        str(PIPES / "TS_LR.yml"),
        "--datasets",
        "FakeMI",
        "--evaluations",
        "within-session",
        "cross-subject",
        "--results",
        str(out),
        "--random-state",
        "42",
    ]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "TS + LR" in text and "WithinSession" in text and "CrossSubject" in text
    df = pd.read_csv(out / "results.csv")
    assert {"dataset", "subject", "session", "pipeline", "evaluation", "score", "time", "fold"} <= set(
        df.columns
    )
    assert len(df) == 3 * 2 * 5 + 3 * 2
    assert (out / "scores.png").exists() and (out / "results.sqlite").exists()
    assert main(args) == 0  # resumes: same table, no duplicates
    assert len(pd.read_csv(out / "results.csv")) == len(df)

    capsys.readouterr()
    assert main(["results", str(out)]) == 0
    assert "TS + LR" in capsys.readouterr().out
    assert main(["results", str(out), "show", "--export", str(tmp_path / "all.parquet")]) == 0
    assert len(pd.read_parquet(tmp_path / "all.parquet")) == len(df)
    assert main(["results", str(out), "compare"]) == 0
    assert "need at least two pipelines" in capsys.readouterr().out
    assert main(["results", str(out), "plot"]) == 0
    assert "scores.png" in capsys.readouterr().out


def test_pipelines_lists_files(capsys):
    assert main(["pipelines", str(PIPES)]) == 0
    out = capsys.readouterr().out
    assert "CSP + SVM" in out and "TS + LR" in out and "grid: csp__nfilter" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--datasets", "NoSuchDataset"], "NoSuchDataset"),
        (["--datasets", "SimulatedMI", "--evaluations", "leave-one-out"], "unknown evaluation"),
        (
            ["--datasets", "SimulatedMI", "--data-root", "/no/such/root"],
            "data root /no/such/root does not exist",
        ),
        (["--datasets", "SimulatedMI", "--scheduler", "tcp://x:1"], "--scheduler needs --backend dask"),
        (["--datasets", "SimulatedMI", "--metric", "f1"], "unknown metric"),
    ],
)
def test_benchmark_user_errors_exit_2(tmp_path, capsys, args, message):
    code = main(["benchmark", "--pipelines", str(PIPES), "--results", str(tmp_path / "r"), *args])
    assert code == 2
    assert message in capsys.readouterr().err


def test_bad_yaml_and_missing_results_exit_2(fake_registry, tmp_path, capsys):
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "name: X\nparadigms: [LeftRightImagery]\npipeline:\n  - name: Nope\n    from: sklearn.svm\n"
    )
    assert (
        main(["benchmark", "--pipelines", str(bad), "--datasets", "FakeMI", "--results", str(tmp_path / "r")])
        == 2
    )
    assert "has no 'Nope'" in capsys.readouterr().err
    assert main(["pipelines", str(tmp_path / "nowhere")]) == 2
    assert main(["results", str(tmp_path / "empty")]) == 2
    assert "no results store" in capsys.readouterr().err


def test_multi_value_options_parse_spaces_commas_and_ints(monkeypatch, tmp_path):
    seen = {}

    def load(names, data_root=None, subjects=None, **options):
        seen.update(names=names, subjects=subjects)
        raise bench.InvalidInputError("stop here")

    monkeypatch.setattr(bench, "load_datasets", load)
    code = main(
        [
            "benchmark",
            "--pipelines",
            str(PIPES),
            "--datasets",
            "A,B",
            "C",
            "--subjects",
            "1,2",
            "3",
            "--results",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert list(seen["names"]) == ["A", "B", "C"] and seen["subjects"] == [1, 2, 3]


def test_results_compare_two_pipelines_across_datasets(tmp_path, capsys):
    import numpy as np

    from neurodec.evaluation import ResultsStore

    rng = np.random.RandomState(0)
    store = ResultsStore(tmp_path)
    for ds in ("A", "B"):
        for s in range(1, 7):
            base = rng.uniform(0.6, 0.8)
            for p, off in (("good", 0.1), ("bad", 0.0)):
                store.add(
                    [
                        dict(
                            dataset=ds,
                            subject=s,
                            session="0",
                            pipeline=p,
                            pipeline_key=f"{p}@x",
                            evaluation="WithinSession",
                            context="c",
                            fold=0,
                            task=f"{s}|0|0",
                            metric="roc_auc",
                            score=base + off + rng.normal(0, 0.01),
                            time=0.1,
                            predict_time=0.0,
                            n_train=10,
                            n_test=2,
                            n_classes=2,
                            n_channels=3,
                        )
                    ]
                )
    store.close()
    assert main(["results", str(tmp_path), "compare"]) == 0
    out = capsys.readouterr().out
    assert "permutation" in out and "meta-analysis across datasets" in out
    assert "bad > good" in out
    assert main(["results", str(tmp_path), "plot"]) == 0
    assert (tmp_path / "forest_bad_vs_good.png").exists()


def _attack_file(tmp_path, marker):
    path = tmp_path / "evil.yml"
    path.write_text(
        "name: Evil\nparadigms: [LeftRightImagery]\npipeline:\n"
        f"  - name: system\n    from: os\n    parameters:\n      command: touch {marker}\n"
        "  - name: LogisticRegression\n    from: sklearn.linear_model\n"
    )
    return path


def test_pipeline_file_cannot_run_commands(fake_registry, tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = _attack_file(tmp_path, marker)
    code = main(
        ["benchmark", "--pipelines", str(evil), "--datasets", "FakeMI", "--results", str(tmp_path / "r")]
    )
    assert code == 2 and not marker.exists()
    err = capsys.readouterr().err
    assert "module 'os' is not allowed" in err and "--trust-module os" in err and len(err.splitlines()) == 1
    assert main(["pipelines", str(evil)]) == 2 and not marker.exists()
    assert "module 'os' is not allowed" in capsys.readouterr().err
    # trusting the module still refuses a function: it is not an estimator class
    code = main(
        [
            "benchmark",
            "--pipelines",
            str(evil),
            "--trust-module",
            "os",
            "--datasets",
            "FakeMI",
            "--results",
            str(tmp_path / "r"),
        ]
    )
    assert code == 2 and not marker.exists()
    assert "'system' is a function, not a class" in capsys.readouterr().err


def test_trust_module_flag_admits_a_third_party_estimator(tmp_path, monkeypatch, capsys):
    import sys

    (tmp_path / "mylab_steps.py").write_text(
        "from sklearn.linear_model import LogisticRegression\n\n\n"
        "class LabLR(LogisticRegression):\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "mylab_steps", raising=False)
    folder = tmp_path / "pipes"
    folder.mkdir()
    (folder / "lab.yml").write_text(
        "name: Lab\nparadigms: [LeftRightImagery]\npipeline:\n"
        "  - name: LabLR\n    from: mylab_steps\n    parameters: {C: 0.5}\n"
    )
    assert main(["pipelines", str(folder)]) == 2
    assert "--trust-module mylab_steps" in capsys.readouterr().err
    assert main(["pipelines", str(folder), "--trust-module", "mylab_steps"]) == 0
    assert "Lab" in capsys.readouterr().out


def test_invalid_pipeline_value_is_one_line_per_pipeline(fake_registry, tmp_path, capsys):
    folder = tmp_path / "pipes"
    folder.mkdir()
    (folder / "good.yml").write_text((PIPES / "TS_LR.yml").read_text())
    (folder / "bad.yml").write_text(
        "name: Bad\nparadigms: [LeftRightImagery]\npipeline:\n"
        "  - name: Covariances\n    from: pyriemann.estimation\n"
        "  - name: TangentSpace\n    from: pyriemann.tangentspace\n"
        "  - name: SVC\n    from: sklearn.svm\n    parameters: {C: -1}\n"
    )
    out = tmp_path / "r"
    code = main(["benchmark", "--pipelines", str(folder), "--datasets", "FakeMI", "--results", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 2 and "1 of 2 pipelines are invalid" in lines[0]
    assert "pipeline 'Bad'" in lines[1] and "pipeline[2] (SVC)" in lines[1] and "'C' parameter" in lines[1]
