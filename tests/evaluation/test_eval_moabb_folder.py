"""MOABB's whole upstream ``pipelines/`` folder: every file listed by ``neurodec pipelines``, and
each one run on a matching dataset (MOABB's ``FakeDataset`` for its paradigm; a ``param_grid``
reduced to its first point), or refused where MOABB's own parser cannot build it either.

The folder is not in MOABB's pip package and is never copied into this repository: point
``NEURODEC_MOABB_PIPELINES`` at a clone's ``pipelines/`` folder (several folders: separated by
``os.pathsep``). Without it the test is skipped.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
import yaml

from neurodec.cli import main
from neurodec.errors import ConfigError
from neurodec.evaluation.benchmark import run_benchmark
from neurodec.evaluation.data import clear_memory_cache
from neurodec.evaluation.pipelines import read_pipeline_specs

FOLDERS = [Path(p) for p in os.environ.get("NEURODEC_MOABB_PIPELINES", "").split(os.pathsep) if p]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.data,
    pytest.mark.skipif(not FOLDERS, reason="set NEURODEC_MOABB_PIPELINES to MOABB's pipelines/ folder"),
]


def _files() -> list[Path]:
    return sorted(f for d in FOLDERS for f in d.iterdir() if f.suffix in (".yml", ".yaml", ".py"))


@pytest.fixture(scope="module")
def fakes():
    from moabb.datasets.fake import FakeDataset

    common = dict(n_subjects=2, n_sessions=1, n_runs=1, seed=3)
    mi = ("C3", "Cz", "C4", "FC3", "FC4", "CP3", "CP4", "FCz")
    return {
        "imagery": FakeDataset(["left_hand", "right_hand"], channels=mi, duration=60, n_events=40, **common),
        "p300": FakeDataset(["Target", "NonTarget"], paradigm="p300", duration=60, n_events=60, **common),
        "ssvep": FakeDataset(
            ["9", "11", "13", "15", "17"],
            paradigm="ssvep",
            channels=("O1", "Oz", "O2", "POz"),
            duration=50,
            n_events=25,
            sfreq=128,
            **common,
        ),
    }


def _kind(paradigms) -> str:
    names = " ".join(paradigms).lower()
    return "ssvep" if "ssvep" in names else "p300" if "p300" in names else "imagery"


def _moabb_builds(path: Path) -> bool:
    """Whether MOABB's own parser builds this YAML file (its Python files always build)."""
    if path.suffix == ".py":
        return True
    from moabb.pipelines.utils import create_pipeline_from_config

    try:
        create_pipeline_from_config(yaml.safe_load(path.read_text())["pipeline"])
    except Exception:  # noqa: BLE001 - MOABB's failure is the fact being checked
        return False
    return True


def test_every_file_is_listed(capsys):
    files = _files()
    for folder in FOLDERS:
        assert main(["pipelines", str(folder)]) == 0
    out = capsys.readouterr().out
    for f in files:
        assert f"[{f.name} " in out, f"{f.name} not listed"


@pytest.mark.parametrize("path", _files(), ids=lambda p: p.name)
def test_each_file_runs_on_a_matching_dataset(path, fakes, tmp_path):
    if not _moabb_builds(path):  # e.g. MOABB <= 1.4 SSVEP files with `interval`/`freqs` under MOABB 1.7
        with pytest.raises(ConfigError):
            run_benchmark(path, [fakes["ssvep"]], progress=False)
        return
    specs = read_pipeline_specs(path, allow_python=True)  # builds it: the whole grid is checked
    assert len(specs) == 1
    if specs[0].param_grid:  # runs with the grid's first value of each parameter (AUG_TANG's: 600 points)
        grid = {k: list(v)[:1] for k, v in specs[0].param_grid.items()}
        specs = [dataclasses.replace(specs[0], param_grid=grid)]
    clear_memory_cache()
    dataset = fakes[_kind(specs[0].paradigms)]
    res = run_benchmark(specs, [dataset], results=tmp_path / "r", progress=False, plots=False)
    assert set(res.scores["pipeline"]) == {specs[0].name}
    assert len(res.scores) == len(dataset.subject_list)
