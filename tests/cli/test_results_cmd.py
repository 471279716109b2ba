"""``neurodec results``: runs kept apart, corrupt and read-only stores."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neurodec.evaluation.benchmark as bench
from neurodec.cli import main
from neurodec.evaluation import ResultsStore

REPO = Path(__file__).resolve().parents[2]
PIPES = REPO / "tests" / "evaluation" / "pipelines_moabb"


def _rows(store, dataset="A", evaluation="WithinSession", context="c", n_subjects=6, seed=0):
    rng = np.random.RandomState(seed)
    for s in range(1, n_subjects + 1):
        base = rng.uniform(0.6, 0.8)
        for p, off in (("good", 0.1), ("bad", 0.0)):
            store.add(
                [
                    dict(
                        dataset=dataset,
                        subject=s,
                        session="0",
                        pipeline=p,
                        pipeline_key=f"{p}@x",
                        evaluation=evaluation,
                        context=context,
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


@pytest.fixture()
def fake_registry(monkeypatch):
    from moabb.datasets.fake import FakeDataset

    loaded = []

    def load(names, data_root=None, subjects=None, **options):
        loaded.append(names)
        ds = FakeDataset(
            ["left_hand", "right_hand"],
            n_subjects=3,
            n_sessions=1,
            n_runs=1,
            duration=30,
            n_events=30,
            seed=3,
        )
        ds.code = "FakeMI"
        return [ds]

    monkeypatch.setattr(bench, "load_datasets", load)
    return loaded


def _benchmark(out, seed):
    args = ["benchmark", "--pipelines", str(PIPES / "TS_LR.yml"), "--datasets", "FakeMI"]
    return main(args + ["--results", str(out), "--random-state", str(seed), "--no-plots"])


def test_show_reports_seeds_apart_and_pools_on_request(fake_registry, tmp_path, capsys):
    means, seen = {}, set()
    for seed in (42, 7):
        assert _benchmark(tmp_path, seed) == 0
        rows = ResultsStore(tmp_path).to_frame()
        new = rows[~rows.context.isin(seen)]
        seen |= set(new.context)
        means[seed] = new.groupby(["subject", "session"]).score.mean().mean()
    assert abs(means[42] - means[7]) > 1e-3
    capsys.readouterr()
    assert main(["results", str(tmp_path), "show"]) == 0
    out = capsys.readouterr().out
    assert "note: FakeMI WithinSession: 2 runs that differ (seed=42 | seed=7)" in out
    assert f"seed=42 {means[42]:.3f}" in out and f"seed=7 {means[7]:.3f}" in out
    assert f"{(means[42] + means[7]) / 2:.3f}" not in out
    assert main(["results", str(tmp_path), "show", "--pool"]) == 0
    out = capsys.readouterr().out
    assert "note:" not in out and f"{(means[42] + means[7]) / 2:.3f}" in out


def _corrupt(path: Path) -> bytes:
    """Overwrite a page in the middle of the file (a results leaf page)."""
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    n_pages = len(data) // page
    mid = n_pages // 2
    data[mid * page : (mid + 1) * page] = bytes([0xA5]) * page
    path.write_bytes(bytes(data))
    return bytes(data)


def test_corrupt_store_is_one_clear_error_and_nothing_is_lost(fake_registry, tmp_path, capsys):
    store = ResultsStore(tmp_path)
    for k in range(40):
        _rows(store, dataset=f"D{k}", n_subjects=20, seed=k)
    store.export_csv(tmp_path / "results.csv")
    store.close()
    csv = (tmp_path / "results.csv").read_bytes()
    corrupt = _corrupt(tmp_path / "results.sqlite")
    for args in (["results", str(tmp_path), "show"], ["results", str(tmp_path), "compare"]):
        assert main(args) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "is corrupt" in err and ".recover" in err and "results.csv" in err
    assert _benchmark(tmp_path, 42) == 2
    assert "is corrupt" in capsys.readouterr().err
    assert (tmp_path / "results.sqlite").read_bytes() == corrupt  # left as it was
    assert (tmp_path / "results.csv").read_bytes() == csv  # the copy is not overwritten


def test_benchmark_into_a_read_only_store_refuses_up_front(fake_registry, tmp_path, capsys):
    store = ResultsStore(tmp_path)
    _rows(store)
    store.close()
    db = tmp_path / "results.sqlite"
    before = db.read_bytes()
    for target, mode in ((db, 0o444), (tmp_path, 0o555)):
        target.chmod(mode)
        try:
            assert _benchmark(tmp_path, 42) == 2
        finally:
            target.chmod(0o755 if target.is_dir() else 0o644)
        err = capsys.readouterr().err
        assert f"cannot write results to {db}" in err and "read-only" in err
    assert fake_registry == []  # refused before any dataset was even looked up
    assert db.read_bytes() == before


READER = """
import sys
from neurodec.cli import main
folder, out = sys.argv[1], sys.argv[2]
for args in (["show"], ["compare"], ["plot"], ["plot", "--out", out]):
    print("exit", args[0], main(["results", folder, *args]), flush=True)
"""


def _as_ordinary_user() -> list[str]:
    """Command prefix that makes file permissions apply: root ignores them, so
    root runs the reader without the capabilities that override them."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only store cannot be made")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, "--bounding-set", caps, "--inh-caps", caps]


@pytest.mark.slow
@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_results_read_a_read_only_store(tmp_path, read_only):
    folder = tmp_path / "res"
    store = ResultsStore(folder)
    _rows(store, dataset="A")
    _rows(store, dataset="B", seed=1)
    store.close()
    out = tmp_path / "plots"
    db = folder / "results.sqlite"
    db.chmod(0o444)
    folder.chmod(0o555 if read_only == "folder" else 0o755)
    before = db.read_bytes()
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONWARNINGS="ignore")
    try:
        proc = subprocess.run(
            [*_as_ordinary_user(), sys.executable, "-c", READER, str(folder), str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        folder.chmod(0o755)
    text = proc.stdout + proc.stderr
    assert "exit show 0" in text and "exit compare 0" in text, text
    assert "bad > good" in text and "meta-analysis across datasets" in text
    if read_only == "folder":  # plots cannot go into the store's folder
        assert "cannot write plots into" in text and "--out" in text
    assert text.count("exit plot 0") == (1 if read_only == "folder" else 2), text
    assert (out / "scores.png").exists()
    assert db.read_bytes() == before
