"""Shared fixtures: the real-data root and a per-test cache folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from neurodec.config import data_root as _data_root

os.environ.setdefault("MPLBACKEND", "Agg")
# MOABB must never try a remote mirror in tests.
os.environ.setdefault("MOABB_DOWNLOAD_PROVIDER", "upstream")


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real-data root (``NEURODEC_DATA`` or ``../shared/data``).

    Tests marked ``data`` use it. On CI the data must be there, so a missing root
    fails; on a developer machine without the data those tests are skipped.
    """
    root = _data_root()
    if not root.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"data root {root} is missing on CI; set NEURODEC_DATA")
        pytest.skip(f"real data not found at {root}; set NEURODEC_DATA")
    return root


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty epoch cache for this test (also exported as NEURODEC_CACHE)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("NEURODEC_CACHE", str(path))
    return path


# --- tests must not write into the repository --------------------------------------------------
REPO = Path(__file__).resolve().parent.parent
#: folders and files that tools create by design (caches, the venv, coverage data)
_TOOL_OUTPUT = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}


def _repo_files() -> set[str]:
    found = set()
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in _TOOL_OUTPUT and not d.endswith(".egg-info")]
        rel = Path(folder).relative_to(REPO)
        found.update(str(rel / f) for f in files if not f.startswith(".coverage"))
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_REPO_FILES] = _repo_files()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_REPO_FILES, None)
    if before is None or hasattr(session.config, "workerinput"):
        return
    new = sorted(_repo_files() - before)
    if new:
        session.config.get_terminal_writer().line(
            f"ERROR: the tests wrote {len(new)} file(s) into the repository: {new[:10]}", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_REPO_FILES = pytest.StashKey[set]()


@pytest.fixture()
def moabb_parse(tmp_path: Path):
    """MOABB's YAML parser run on a copy (it leaves ``.lock`` files beside what it reads)."""
    import shutil

    from moabb.pipelines.utils import parse_pipelines_from_directory

    def parse(path: Path) -> list[dict]:
        path = Path(path)
        copy = tmp_path / "moabb_parse" / path.name
        if path.is_dir():
            shutil.copytree(path, copy, ignore=shutil.ignore_patterns("*.lock"))
        else:
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, copy)
        return parse_pipelines_from_directory(str(copy))

    return parse
