"""The core install works without the optional packages; asking for one names its extra.

Each check runs in a fresh interpreter where an import hook makes the optional packages
(torch, braindecode, dask, ...) impossible to import, as on ``pip install neurodec``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from neurodec.config import pipelines_dir
from neurodec.errors import MissingExtraError
from neurodec.extras import EXTRA_OF_MODULE, extra_for, require

BLOCKER = textwrap.dedent(
    """
    import importlib.abc, sys
    BLOCKED = set({blocked!r})

    class _NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)

    sys.meta_path.insert(0, _NotInstalled())
    """
)
#: subpackages that are themselves the optional layers (they need their extra)
OPTIONAL_LAYERS = ("neurodec.models", "neurodec.deep", "neurodec.online")


def _run(code: str, *, cwd: Path, blocked=tuple(EXTRA_OF_MODULE)) -> subprocess.CompletedProcess:
    script = BLOCKER.format(blocked=sorted(blocked)) + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_extra_for_names_the_extra():
    assert extra_for("torch.nn") == "deep"
    assert extra_for("distributed") == "dask"
    assert extra_for("numpy") is None
    with pytest.raises(MissingExtraError, match=r"pip install 'neurodec\[deep\]'"):
        try:
            raise ModuleNotFoundError("No module named 'braindecode'", name="braindecode")
        except ImportError as exc:
            from neurodec.extras import missing_extra_error

            raise missing_extra_error(exc, "EEGNet") from exc
    assert require("json", "a test").__name__ == "json"


def test_every_core_module_imports_without_optional_packages(tmp_path):
    proc = _run(
        f"""
        import importlib, pkgutil, neurodec
        names = [m.name for m in pkgutil.walk_packages(neurodec.__path__, "neurodec.")
                 if not m.name.endswith("__main__") and not m.name.startswith({OPTIONAL_LAYERS!r})]
        for name in names:
            importlib.import_module(name)
        leaked = sorted(set(BLOCKED) & set(sys.modules))
        print(len(names), "modules", leaked)
        """,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("[]")


@pytest.mark.data
@pytest.mark.slow
def test_riemannian_benchmark_runs_without_torch_or_dask(tmp_path):
    pipes = tmp_path / "pipes"
    pipes.mkdir()
    for name in ("mdm.yml", "ts_lr.yml"):
        shutil.copy(pipelines_dir() / name, pipes / name)
    proc = _run(
        f"""
        from neurodec.cli import main
        code = main(["benchmark", "--pipelines", {str(pipes)!r}, "--datasets", "PhysionetMI",
                     "--evaluations", "within-session", "--subjects", "1", "--no-plots",
                     "--results", {str(tmp_path / "res")!r}])
        sys.exit(code)
        """,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "MDM" in proc.stdout and "TS" in proc.stdout


def test_deep_pipeline_without_torch_is_one_line_naming_the_extra(tmp_path):
    yml = tmp_path / "eegnet.yml"
    yml.write_text(
        textwrap.dedent(
            """
            name: EEGNet
            paradigms: [LeftRightImagery]
            pipeline:
              - name: EEGClassifier
                from: braindecode
                parameters: {module: EEGNet, max_epochs: 1}
            """
        )
    )
    proc = _run(
        f"""
        from neurodec.cli import main
        sys.exit(main(["benchmark", "--pipelines", {str(yml)!r}, "--datasets", "PhysionetMI",
                       "--subjects", "1", "--results", {str(tmp_path / "res")!r}]))
        """,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install 'neurodec[deep]'" in lines[0], proc.stderr


@pytest.mark.parametrize("name", ["eegnet.yml", "shallow_fbcsp_net.yml", "luna.yml"])
def test_bundled_deep_pipelines_without_torch_are_one_line_naming_the_extra(name, tmp_path):
    pipes = tmp_path / "pipes"
    pipes.mkdir()
    shutil.copy(pipelines_dir() / "deep" / name, pipes / name)
    proc = _run(
        f"""
        from neurodec.cli import main
        sys.exit(main(["benchmark", "--pipelines", {str(pipes)!r}, "--datasets", "PhysionetMI",
                       "--subjects", "1", "--results", {str(tmp_path / "res")!r}]))
        """,
        cwd=tmp_path,
    )
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "pip install 'neurodec[deep]'" in lines[0], proc.stderr


def test_dask_backend_without_dask_names_the_extra(tmp_path):
    proc = _run(
        """
        from neurodec.evaluation.backends import parallel_backend
        from neurodec.errors import MissingExtraError
        try:
            with parallel_backend("dask", 2):
                pass
        except MissingExtraError as exc:
            print(exc)
        """,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "pip install 'neurodec[dask]'" in proc.stdout
