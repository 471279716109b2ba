"""``neurodec demo``: the first command runs end to end and prints a table."""

from __future__ import annotations

import pytest

from neurodec.cli import main


@pytest.mark.slow
def test_demo_prints_results_table(tmp_path, capsys, cache_dir):
    assert main(["demo", "--subjects", "2", "--sessions", "2", "--results", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    for name in ("CSP+LDA", "TS+LR", "MDM", "WithinSession", "CrossSession"):
        assert name in out
    assert (tmp_path / "demo" / "results.csv").exists()
