"""Dataset files pass the same integrity check as ``read_recording`` before anything is read.

Fixtures link the few needed files of the shared data into ``tmp_path`` (same layout)
and replace one link by a truncated copy, so the shared data is never written.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import pytest

from neurodec import paradigms as nd
from neurodec.cli import main
from neurodec.config import pipelines_dir
from neurodec.datasets import get_dataset
from neurodec.datasets.descriptors import load_descriptor
from neurodec.datasets.eegnotebooks import EEGNotebooks_VisualP300
from neurodec.datasets.moabb_offline import PhysionetMI
from neurodec.errors import ConfigError, DataNotFoundError, InvalidDataError
from tests.datasets._muse_factory import HEADER_2018, muse_rows, muse_text, write_muse
from tests.datasets.test_registry import _good, _write

PHYS = "PhysionetMI/MNE-eegbci-data/files/eegmmidb/1.0.0"
MUSE = "EEGNotebooks_VisualP300"


def _link(data_root: Path, root: Path, folder: str) -> None:
    """Symlink every file of ``data_root/folder`` to ``root/folder`` (same layout)."""
    for src in sorted((data_root / folder).iterdir()):
        dst = root / folder / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.symlink_to(src)


def _truncate(path: Path) -> None:
    """Replace ``path`` (a link into the shared data) by a copy of its first half."""
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data[: len(data) // 2])


@pytest.fixture()
def physionet_1_3(data_root, tmp_path) -> Path:
    """Subjects 1 and 3 of PhysionetMI, S003R08.edf truncated to half its bytes."""
    for subject in (1, 3):
        _link(data_root, tmp_path, f"{PHYS}/S{subject:03d}")
    _truncate(tmp_path / PHYS / "S003" / "S003R08.edf")
    return tmp_path


# ----------------------------------------------------------------- PhysionetMI
@pytest.mark.data
def test_truncated_physionet_run_is_refused_naming_it(physionet_1_3, cache_dir):
    # Before: 37 trials instead of 45, no warning.
    ds = get_dataset("PhysionetMI", data_root=physionet_1_3)
    with pytest.raises(InvalidDataError, match=r"S003R08\.edf is truncated: its EDF header promises 125"):
        nd.LeftRightImagery().get_data(ds, subjects=[3])
    with pytest.raises(InvalidDataError, match=r"S003R08\.edf"):
        ds.get_data([3])
    assert ds.local_subjects() == [1]


@pytest.mark.data
def test_datasets_cli_does_not_count_a_subject_with_a_truncated_file(physionet_1_3, capsys):
    assert main(["datasets", "--data-root", str(physionet_1_3), "--format", "csv"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("PhysionetMI,"))
    assert row.endswith(",1/109 subjects")


@pytest.mark.data
def test_epoch_cache_does_not_serve_a_file_that_became_corrupt(data_root, tmp_path, cache_dir):
    _link(data_root, tmp_path, f"{PHYS}/S003")
    ds = get_dataset("PhysionetMI", data_root=tmp_path)
    X, y, _ = nd.LeftRightImagery().get_data(ds, [3])
    assert len(y) == 45 and any(cache_dir.rglob("sub-003"))
    _truncate(tmp_path / PHYS / "S003" / "S003R08.edf")
    with pytest.raises(InvalidDataError, match=r"S003R08\.edf is truncated"):
        nd.LeftRightImagery().get_data(ds, [3])


def test_fingerprint_sees_a_rewrite_within_the_same_second(tmp_path):
    ds = PhysionetMI(data_root=tmp_path)
    path = ds.run_file(1, 4)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x" * 100)
    second = 1_700_000_000 * 10**9
    os.utime(path, ns=(second, second + 1000))
    before = ds.fingerprint()
    path.write_bytes(b"y" * 100)  # same size, other content
    os.utime(path, ns=(second, second + 2000))
    assert ds.fingerprint() != before


def test_physionet_missing_run_message_names_no_machine_specific_copy(tmp_path):
    ds = PhysionetMI(data_root=tmp_path, executed=True)
    with pytest.raises(DataNotFoundError) as info:
        ds.check_local(1)
    msg = str(info.value)
    assert "S001R03.edf" in msg and "runs 4, 8, 12" in msg
    assert "shared/data" not in msg and "subjects 1-20" not in msg


@pytest.mark.data
def test_physionet_allow_missing_runs_warns_keeps_run_names_and_flags(data_root, tmp_path, cache_dir, caplog):
    _link(data_root, tmp_path, f"{PHYS}/S001")
    (tmp_path / PHYS / "S001" / "S001R08.edf").unlink()
    strict = get_dataset("PhysionetMI", data_root=tmp_path)
    with pytest.raises(DataNotFoundError, match=r"runs \[8\].*\n.*S001R08\.edf"):
        nd.LeftRightImagery().get_data(strict, [1])
    assert strict.local_subjects() == []

    ds = get_dataset("PhysionetMI", data_root=tmp_path, allow_missing_runs=True)
    assert ds.local_subjects() == [1] and ds.missing_runs(1) == {"0": 1}
    with caplog.at_level(logging.WARNING, logger="neurodec"):
        X, y, meta = nd.LeftRightImagery().get_data(ds, [1])
    assert "S001R08.edf" in caplog.text and "allow_missing_runs=True" in caplog.text
    assert sorted(set(meta["run"])) == ["0", "2"]  # R04 and R12 keep their names
    assert meta["incomplete_session"].all() and len(y) == 30
    full = get_dataset("PhysionetMI", data_root=data_root)
    X_full, _, meta_full = nd.LeftRightImagery().get_data(full, [1])
    assert "incomplete_session" not in meta_full
    keep = meta_full["run"].isin(["0", "2"]).to_numpy()
    np.testing.assert_array_equal(X, X_full[keep])


# ----------------------------------------------------------------- EEGNotebooks (Muse P300)
@pytest.mark.data
def test_muse_missing_run_is_an_error_naming_it(data_root, tmp_path, cache_dir):
    # Before: subject 2 read with 7 of its 8 runs, no warning (only sessions were counted).
    for session in ("session1", "session2"):
        _link(data_root, tmp_path, f"{MUSE}/subject2/{session}")
    (tmp_path / MUSE / "subject2" / "session2" / "data_2018-05-04-01.57.53.csv.gz").unlink()
    ds = get_dataset(MUSE, data_root=tmp_path)
    with pytest.raises(
        DataNotFoundError,
        match=r"(?s)subject2/session2/data_2018-05-04-01\.57\.53\.csv\.gz.*allow_missing_runs=True",
    ):
        nd.P300().get_data(ds, [2])
    assert ds.local_subjects() == []


def _fake_runs(root: Path, subject: int, sessions: dict[str, list[str]]) -> None:
    for k, (folder, stems) in enumerate(sessions.items()):
        for j, stem in enumerate(stems):
            times, data, markers = muse_rows(n=1536, t0=1000.0 + 100 * j, seed=10 * k + j)
            write_muse(
                root / MUSE / f"subject{subject}" / folder / f"{stem}.csv.gz",
                muse_text(times, data, markers, HEADER_2018),
            )


def _real_stems(subject: int) -> dict[str, list[str]]:
    return EEGNotebooks_VisualP300.descriptor().extra["run_files"][subject]


def test_muse_allow_missing_runs_warns_and_flags_the_session(tmp_path, cache_dir, caplog):
    stems = _real_stems(2)
    absent = stems["session2"][1]
    _fake_runs(
        tmp_path,
        2,
        {"session1": stems["session1"], "session2": [s for s in stems["session2"] if s != absent]},
    )
    strict = get_dataset(MUSE, data_root=tmp_path)
    with pytest.raises(
        DataNotFoundError, match=rf"1 file\(s\) of subject 2 are missing:\n.*session2/{absent}"
    ):
        strict.get_data([2])
    ds = get_dataset(MUSE, data_root=tmp_path, allow_missing_runs=True)
    assert ds.missing_runs(2) == {"1": 1}
    with caplog.at_level(logging.WARNING, logger="neurodec"):
        _, y, meta = nd.P300().get_data(ds, [2])
    assert absent in caplog.text
    flagged = meta.groupby("session")["incomplete_session"].agg(["all", "any"])
    assert not flagged.loc["0", "any"] and flagged.loc["1", "all"]
    assert sorted(set(meta.loc[meta["session"] == "1", "run"])) == ["0", "1"]


def test_muse_truncated_file_is_not_local_and_is_refused(tmp_path):
    stems = _real_stems(4)
    _fake_runs(tmp_path, 4, stems)
    ds = get_dataset(MUSE, data_root=tmp_path)
    assert ds.local_subjects() == [4]
    path = next((tmp_path / MUSE / "subject4").rglob("*.csv.gz"))
    _truncate(path)
    assert ds.local_subjects() == []
    with pytest.raises(InvalidDataError, match=rf"{path.name} is truncated: its gzip stream ends"):
        ds.get_data([4])


def test_descriptor_run_files_match_the_session_counts():
    desc = EEGNotebooks_VisualP300.descriptor()
    runs = desc.extra["run_files"]
    assert {s: len(f) for s, f in runs.items()} == desc.sessions
    assert sum(len(stems) for f in runs.values() for stems in f.values()) == 45  # MANIFEST


@pytest.mark.parametrize(
    ("run_files", "problem"),
    [
        ({99: {"session1": ["data_x"]}}, "names subject 99, which is not in 'subjects'"),
        ({1: {"session1": ["data_x"]}}, "subject 1: lists 1 session folder(s) but 'sessions' says 5"),
        ({1: {"session1": []}}, "subject 1: must map session folders to lists of file stems"),
    ],
)
def test_descriptor_run_files_are_validated(tmp_path, run_files, problem):
    content = _good()
    content["run_files"] = run_files
    with pytest.raises(ConfigError, match=re.escape(f"key 'run_files' {problem}")):
        load_descriptor(_write(tmp_path, content))


@pytest.mark.data
def test_benchmark_cli_allow_missing_runs(data_root, tmp_path, cache_dir, capsys):
    _link(data_root, tmp_path, f"{PHYS}/S001")
    (tmp_path / PHYS / "S001" / "S001R08.edf").unlink()
    pipes = tmp_path / "pipes"
    pipes.mkdir()
    (pipes / "mdm.yml").write_text((pipelines_dir() / "mdm.yml").read_text())
    args = ["benchmark", "--pipelines", str(pipes), "--datasets", "PhysionetMI", "--data-root", str(tmp_path),
            "--subjects", "1", "--evaluations", "within-session", "--no-plots"]  # fmt: skip
    assert main([*args, "--results", str(tmp_path / "strict")]) == 2
    assert "S001R08.edf" in capsys.readouterr().err
    assert main([*args, "--results", str(tmp_path / "lenient"), "--allow-missing-runs"]) == 0
    assert "MDM" in capsys.readouterr().out
