"""``neurodec datasets``: table output and exit code 2 on a bad data root."""

from __future__ import annotations

import json

import pytest

from neurodec.cli import main


@pytest.mark.data
def test_datasets_table_shows_local_files(data_root, capsys):
    assert main(["datasets", "--data-root", str(data_root)]) == 0
    out = capsys.readouterr().out
    assert f"data root: {data_root}" in out
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert "20/109 subjects" in lines["PhysionetMI"]
    assert "5/5 subjects" in lines["EEGNotebooks_VisualP300"]
    assert "0/9 subjects" in lines["BNCI2014_001"]
    assert {"Zhou2016", "BNCI2014_004", "SimulatedMI"} <= set(lines)


def test_datasets_json_on_empty_root(tmp_path, capsys):
    assert main(["datasets", "--data-root", str(tmp_path), "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["EEGNotebooks_VisualP300"]["local"] == "0/5 subjects"
    assert rows["EEGNotebooks_VisualP300"]["sessions"] == "1-3"
    assert rows["PhysionetMI"]["sfreq"] == 160


def test_bad_data_root_exits_2(tmp_path, capsys):
    missing = tmp_path / "nope"
    assert main(["datasets", "--data-root", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and str(missing) in err and "NEURODEC_DATA" in err


def test_data_root_is_a_file_exits_2(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    assert main(["datasets", "--data-root", str(f)]) == 2
