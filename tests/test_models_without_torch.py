"""torch is optional: neurodec works without it, neurodec.models says which extra installs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from neurodec.errors import MissingExtraError
from neurodec.extras import require
from tests.test_extras import _run as _run_without


def _run(code: str):
    """``code`` in a fresh interpreter where torch, torchaudio and braindecode cannot be imported."""
    return _run_without(
        code, cwd=Path(__file__).resolve().parent.parent, blocked=("torch", "torchaudio", "braindecode")
    )


def test_every_module_outside_models_imports_without_torch():
    out = _run(
        """
        import importlib, pkgutil
        import neurodec
        names = [m.name for m in pkgutil.walk_packages(neurodec.__path__, "neurodec.")]
        optional = ("neurodec.models", "neurodec.deep")
        names = [n for n in names if not n.startswith(optional) and n != "neurodec.__main__"]
        for name in names:
            importlib.import_module(name)
        from neurodec.cli import main
        assert main(["--help"]) == 0
        assert "torch" not in sys.modules
        print(len(names), "modules")
        """
    )
    assert out.returncode == 0, out.stderr
    assert "modules" in out.stdout


def test_models_without_torch_is_one_line_naming_the_extra():
    out = _run(
        """
        from neurodec.errors import MissingExtraError
        try:
            import neurodec.models
        except MissingExtraError as exc:
            print(exc)
        """
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines == ["neurodec.models needs the optional package 'torch': pip install 'neurodec[deep]'"]


@pytest.mark.parametrize("command", ["pretrain-tokenizer", "pretrain"])
def test_cli_model_commands_without_torch_exit_2(command):
    out = _run(
        f"""
        from neurodec.cli import main
        raise SystemExit(main(["{command}", "--config", "nope.yml"]))
        """
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].endswith("pip install 'neurodec[deep]'")


def test_require_imports_or_raises():
    assert require("json", "tests").dumps([]) == "[]"
    with pytest.raises(MissingExtraError, match=r"pip install 'neurodec\[deep\]'"):
        require("torch.no_such_submodule_xyz", "tests")
    with pytest.raises(ModuleNotFoundError):  # not one of neurodec's optional packages
        require("no_such_module_xyz", "tests")


def test_bundled_pipelines_folder_loads_without_torch():
    """The default pipelines/ folder (what `neurodec benchmark` runs) needs no optional package;
    torch pipelines live in subfolders (pipelines/foundation)."""
    out = _run(
        """
        from neurodec.config import pipelines_dir
        from neurodec.evaluation.pipelines import load_pipelines
        print(len(load_pipelines(pipelines_dir())))
        """
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) >= 20
