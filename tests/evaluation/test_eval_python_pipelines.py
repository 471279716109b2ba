"""MOABB's Python pipeline files (``*.py`` defining ``PIPELINE``): listed from their source,
executed only with ``allow_python=True`` / ``--allow-python``, then run like YAML pipelines."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from neurodec.cli import main
from neurodec.errors import ConfigError
from neurodec.evaluation.pipelines import load_pipelines, read_pipeline_spec, read_pipeline_specs
from neurodec.evaluation.python_pipelines import PythonPipelineSpec

YAML_DIR = Path(__file__).resolve().parent / "pipelines_moabb"

#: a small filter-bank CSP file in MOABB's Python format; it leaves a marker when executed
FBCSP = """\
import numpy as np
from pyriemann.estimation import Covariances
from pyriemann.spatialfilters import CSP
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import make_pipeline

from moabb.pipelines.utils import FilterBank

np.save({marker!r}, np.zeros(1))
pipe = make_pipeline(FilterBank(make_pipeline(Covariances(estimator="oas"), CSP(nfilter=2))),
                     LinearDiscriminantAnalysis())

PIPELINE = {{
    "name": "FB CSP + LDA",
    "paradigms": ["FilterBankMotorImagery"],
    "pipeline": pipe,
}}
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture()
def py_folder(tmp_path):
    """A folder with one YAML pipeline and one Python pipeline (marker: was it executed?)."""
    folder = tmp_path / "pipes"
    marker = tmp_path / "executed.npy"
    _write(folder, "fbcsp.py", FBCSP.format(marker=str(marker)))
    _write(folder, "ts_lr.yml", (YAML_DIR / "TS_LR.yml").read_text())
    return folder, marker


def test_folder_lists_python_files_without_executing_them(py_folder, caplog):
    folder, marker = py_folder
    specs = read_pipeline_specs(folder)
    py = [s for s in specs if isinstance(s, PythonPipelineSpec)]
    assert len(specs) == 2 and len(py) == 1
    assert py[0].name == "FB CSP + LDA" and py[0].paradigms == ("FilterBankMotorImagery",)
    assert not py[0].executed and py[0].imports == ("moabb", "numpy", "pyriemann", "sklearn")
    assert py[0].content_hash == hashlib.sha256((folder / "fbcsp.py").read_bytes()).hexdigest()[:12]
    assert not marker.exists()
    with pytest.raises(ConfigError, match="not executed; pass --allow-python"):
        py[0].build()
    with caplog.at_level(logging.WARNING, logger="neurodec"):
        pipes = load_pipelines(folder)  # the YAML file runs, the Python file is left out, by name
    assert list(pipes) == ["TS + LR"] and "fbcsp.py" in caplog.text and "--allow-python" in caplog.text
    assert not marker.exists()


def test_allow_python_executes_and_builds_a_clone(py_folder):
    folder, marker = py_folder
    specs = read_pipeline_specs(folder, allow_python=True)
    assert marker.exists()
    spec = next(s for s in specs if isinstance(s, PythonPipelineSpec))
    assert spec.executed and [s["name"] for s in spec.steps] == ["FilterBank", "LinearDiscriminantAnalysis"]
    pipe = spec.build()
    assert pipe is not spec.estimator and type(pipe) is type(spec.estimator)
    assert clone(pipe).get_params()["filterbank__estimator__csp__nfilter"] == 2
    assert set(load_pipelines(folder, allow_python=True)) == {"TS + LR", "FB CSP + LDA"}


def test_a_python_file_given_directly_needs_the_flag(py_folder):
    folder, marker = py_folder
    with pytest.raises(ConfigError, match=r"fbcsp.py: a Python pipeline file is code; .*--allow-python") as e:
        read_pipeline_spec(folder / "fbcsp.py")
    assert "\n" not in str(e.value) and not marker.exists()
    assert read_pipeline_spec(folder / "fbcsp.py", allow_python=True).executed


@pytest.mark.parametrize(
    "source, trust, match",
    [
        ("import os\nos.system('touch {m}')\n", [], "imports 'os', which is not allowed.*--trust-module os"),
        ("from subprocess import run\n", [], "imports 'subprocess'"),
        ("import numpy\n__import__('os').system('touch {m}')\n", ["os"], "'__import__' is not allowed"),
        ("exec('import os')\n", [], "'exec' is not allowed"),
        ("f = open('{m}', 'w')\n", [], "'open' is not allowed"),
        ("from . import x\n", [], "relative imports"),
        ("x = 1\n", [], "defines no PIPELINE"),
        ("PIPELINE = {{'name': 3, 'paradigms': ['P300'], 'pipeline': None}}\n", [], "'name'.*non-empty"),
        ("PIPELINE = {{'name': 'a', 'paradigm': ['P300']}}\n", [], "unknown key 'paradigm'"),
        ("def f(:\n", [], "not valid Python"),
    ],
)
def test_refused_before_anything_runs(tmp_path, source, trust, match):
    marker = tmp_path / "pwned"
    path = _write(tmp_path / "p", "evil.py", source.format(m=marker))
    for allow in (False, True):
        with pytest.raises(ConfigError, match=match) as e:
            read_pipeline_specs(path.parent, trust_modules=trust, allow_python=allow)
        assert "\n" not in str(e.value)
    assert not marker.exists()


def test_what_the_file_builds_is_checked(tmp_path, monkeypatch):
    header = (
        "from sklearn.linear_model import LogisticRegression\nfrom sklearn.pipeline import make_pipeline\n"
    )
    path = _write(
        tmp_path / "a", "p.py", header + "PIPELINE = {'name': 'x', 'paradigms': ['P300'], 'pipeline': 3}\n"
    )
    with pytest.raises(ConfigError, match=r"PIPELINE\['pipeline'\] must be a scikit-learn estimator"):
        read_pipeline_specs(path, allow_python=True)
    path = _write(tmp_path / "b", "p.py", header + "raise RuntimeError('boom')\nPIPELINE = {}\n")
    with pytest.raises(ConfigError, match="raised RuntimeError when executed: boom"):
        read_pipeline_specs(path, allow_python=True)
    # an estimator class defined in a trusted module is admitted, from another one refused
    lab = _write(
        tmp_path / "lab",
        "pylab_pipeline_models.py",
        "from sklearn.linear_model import LogisticRegression\nclass Mine(LogisticRegression):\n    pass\n",
    )
    monkeypatch.syspath_prepend(str(lab.parent))
    path = _write(
        tmp_path / "c",
        "p.py",
        header + "from pylab_pipeline_models import Mine\n"
        "PIPELINE = {'name': 'x', 'paradigms': ['P300'], 'pipeline': make_pipeline(Mine())}\n",
    )
    with pytest.raises(ConfigError, match="imports 'pylab_pipeline_models'"):
        read_pipeline_specs(path, allow_python=True)
    assert read_pipeline_specs(path, allow_python=True, trust_modules=["pylab_pipeline_models"])[0].executed
    # a class defined in the file itself is part of the code the user allowed
    path = _write(
        tmp_path / "d",
        "p.py",
        header + "class Local(LogisticRegression):\n    pass\n"
        "PIPELINE = {'name': 'y', 'paradigms': ['P300'], 'pipeline': make_pipeline(Local())}\n",
    )
    pipe = read_pipeline_specs(path, allow_python=True)[0].build()
    assert type(pipe.steps[0][1]).__name__ == "Local"


@pytest.fixture()
def small_mi():
    from moabb.datasets.fake import FakeDataset

    return FakeDataset(
        ["left_hand", "right_hand"], n_subjects=2, n_sessions=1, n_runs=1, duration=30, n_events=30, seed=3
    )


def test_run_benchmark_runs_python_and_yaml_pipelines_under_their_paradigms(py_folder, small_mi):
    from neurodec.evaluation.benchmark import run_benchmark

    folder, _ = py_folder
    res = run_benchmark(folder, [small_mi], results=None, progress=False, allow_python=True)
    assert set(res.scores["pipeline"]) == {"TS + LR", "FB CSP + LDA"}
    assert len(res.folds) == 2 * 2 * 5  # 2 pipelines x 2 subjects x 5 folds
    assert np.isfinite(res.folds["score"]).all()
    # each under its own paradigm: two contexts in the store
    assert res.folds.groupby("pipeline")["context"].first().nunique() == 2
    # without the flag only the YAML pipeline runs
    res = run_benchmark(folder, [small_mi], results=None, progress=False)
    assert set(res.scores["pipeline"]) == {"TS + LR"}


def test_cli_benchmark_runs_an_allowed_python_file(py_folder, small_mi, tmp_path, monkeypatch, capsys):
    import neurodec.evaluation.benchmark as bench

    folder, marker = py_folder
    (folder / "ts_lr.yml").unlink()
    monkeypatch.setattr(bench, "load_datasets", lambda *args, **kwargs: [small_mi])
    args = ["benchmark", "--pipelines", str(folder), "--datasets", "Fake", "--results", str(tmp_path / "r")]
    assert main([*args, "--no-plots"]) == 2  # nothing runnable without the flag
    assert "no pipeline to run" in capsys.readouterr().err and not marker.exists()
    assert main([*args, "--no-plots", "--allow-python"]) == 0
    out, err = capsys.readouterr()
    assert "executed 1 Python pipeline file(s)" in err and "FB CSP + LDA" in out


def test_cli_says_which_python_files_ran(py_folder, capsys):
    folder, marker = py_folder
    assert main(["pipelines", str(folder)]) == 0
    out, err = capsys.readouterr()
    assert "FB CSP + LDA" in out and "Python, not executed" in out and "TS + LR" in out
    assert "not executed (pass --allow-python" in err and not marker.exists()
    assert main(["pipelines", str(folder), "--allow-python"]) == 0
    out, err = capsys.readouterr()
    assert "FilterBank -> LinearDiscriminantAnalysis" in out
    assert f"executed 1 Python pipeline file(s): {folder / 'fbcsp.py'} (sha256 " in err
    assert main(["pipelines", str(folder / "fbcsp.py")]) == 2
    assert "--allow-python" in capsys.readouterr().err
