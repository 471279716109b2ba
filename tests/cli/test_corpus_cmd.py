"""``neurodec corpus build|info``."""

from __future__ import annotations

from neurodec.cli import main
from neurodec.corpus import Corpus
from neurodec.corpus.sources import parse_source


def test_parse_source():
    assert parse_source("PhysionetMI") == "PhysionetMI"
    assert parse_source("PhysionetMI:subjects=1-3") == {"dataset": "PhysionetMI", "subjects": [1, 2, 3]}
    assert parse_source("SimulatedMI:modality=meg,n_subjects=2,subjects=1+2") == {
        "dataset": "SimulatedMI",
        "modality": "meg",
        "n_subjects": 2,
        "subjects": [1, 2],
    }


def test_build_then_info(tmp_path, capsys):
    out = tmp_path / "c"
    src = "SimulatedMI:modality=seeg,n_subjects=1,n_sessions=1,n_runs=1,n_trials=2"
    assert main(["corpus", "build", str(out), src, "--no-progress"]) == 0
    assert "1 recordings" in capsys.readouterr().out
    assert len(Corpus(out)) == 1
    assert main(["corpus", "info", str(out)]) == 0
    out_text = capsys.readouterr().out
    assert "SimulatedMI-seeg" in out_text and "seeg" in out_text


def test_user_errors_exit_2(tmp_path, capsys):
    assert main(["corpus", "build", str(tmp_path / "c"), "NoSuchDataset:subjects=1"]) == 2
    assert "unknown dataset" in capsys.readouterr().err
    assert main(["corpus", "info", str(tmp_path)]) == 2
    assert "not a corpus" in capsys.readouterr().err
