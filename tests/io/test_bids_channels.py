"""BIDS ``*_channels.tsv`` that does not fit the recording: named in a warning, or read with
``on_ch_mismatch=`` passed through to MNE-BIDS."""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from pathlib import Path

import pytest

from neurodec.errors import InvalidDataError, InvalidInputError
from neurodec.io import read_recording
from tests.io.conftest import make_raw

SUB = "sub-01/ieeg"
EDF = f"{SUB}/sub-01_task-clinical_ieeg.edf"
CHANNELS = f"{SUB}/sub-01_task-clinical_channels.tsv"


@pytest.fixture()
def ieeg(data_root, tmp_path) -> Path:
    """sub-01 of the iEEG BIDS folder: recording and sidecars linked, channels.tsv copied."""
    src, root = data_root / "iEEG", tmp_path / "iEEG"
    (root / SUB).mkdir(parents=True)
    (root / "dataset_description.json").symlink_to(src / "dataset_description.json")
    for path in (src / SUB).iterdir():
        (root / SUB / path.name).symlink_to(path)
    (root / CHANNELS).unlink()
    shutil.copyfile(src / CHANNELS, root / CHANNELS)
    return root


def _rows(root: Path) -> list[str]:
    return (root / CHANNELS).read_text().splitlines(keepends=True)


@pytest.mark.data
def test_channels_missing_from_the_sidecar_are_named_in_a_warning(ieeg, caplog):
    with caplog.at_level(logging.WARNING, logger="neurodec"):
        rec = read_recording(ieeg / EDF)
    assert Counter(rec.raw.get_channel_types()) == {"seeg": 88, "misc": 8, "ecg": 2}
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    # Before: 10 sEEG contacts silently typed 'eeg', nothing logged above INFO.
    rows = _rows(ieeg)
    dropped = [row.split("\t")[0] for row in rows[1:11]]
    (ieeg / CHANNELS).write_text("".join(rows[:1] + rows[11:]))
    with caplog.at_level(logging.WARNING, logger="neurodec"):
        rec = read_recording(ieeg / EDF)
    assert Counter(rec.raw.get_channel_types())["eeg"] == 10
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "10 of the 98 channels" in warnings[0]
    assert all(name in warnings[0] for name in dropped)


@pytest.mark.data
def test_reordered_rows_need_and_accept_on_ch_mismatch_reorder(ieeg):
    rows = _rows(ieeg)
    (ieeg / CHANNELS).write_text("".join([rows[0], rows[2], rows[1], *rows[3:]]))
    with pytest.raises(
        InvalidDataError, match=r"do not match.*pass on_ch_mismatch='reorder'.*to read_recording"
    ):
        read_recording(ieeg / EDF)
    rec = read_recording(ieeg / EDF, on_ch_mismatch="reorder")
    assert Counter(rec.raw.get_channel_types()) == {"seeg": 88, "misc": 8, "ecg": 2}
    assert rec.raw.ch_names[:2] == [rows[2].split("\t")[0], rows[1].split("\t")[0]]


@pytest.mark.data
def test_renamed_row_is_read_with_on_ch_mismatch_rename(ieeg):
    rows = _rows(ieeg)
    old = rows[1].split("\t")[0]
    rows[1] = "Renamed1" + rows[1][len(old) :]
    (ieeg / CHANNELS).write_text("".join(rows))
    rec = read_recording(ieeg / EDF, on_ch_mismatch="rename")
    assert rec.raw.ch_names[0] == "Renamed1" and rec.raw.get_channel_types(picks=[0]) == ["seeg"]


def test_on_ch_mismatch_is_validated_and_bids_only(tmp_path):
    path = tmp_path / "rec_raw.fif"
    make_raw().save(path, verbose=False)
    with pytest.raises(InvalidInputError, match="on_ch_mismatch must be one of"):
        read_recording(path, on_ch_mismatch="ignore")
    with pytest.raises(InvalidInputError, match="applies to recordings inside a BIDS tree"):
        read_recording(path, on_ch_mismatch="rename")
