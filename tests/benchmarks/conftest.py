"""Benchmark scripts (``benchmarks/*.py``) imported as modules: their folder on ``sys.path``."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.corpus.conftest import small_corpus  # noqa: F401
from tests.models.conftest import tiny_tokenizer_path  # noqa: F401

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def bench(monkeypatch):
    """``bench("fm_cross_session")``: the script as a module (its sibling imports resolve)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))

    def load(name: str):
        return importlib.import_module(name)

    return load
