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
