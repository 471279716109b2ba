"""read_muse_csv: format, units, markers, and every bad input the issues name."""

from __future__ import annotations

import gzip

import mne
import numpy as np
import pytest

from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError
from neurodec.io.muse import read_muse_csv
from tests.datasets._muse_factory import HEADER_2018, muse_rows, muse_text, write_muse


@pytest.fixture()
def rows():
    return muse_rows()


def test_reads_channels_units_and_events(tmp_path, rows):
    times, data, markers = rows
    path = write_muse(tmp_path / "data_2017-02-04-15_45_13.csv.gz", muse_text(*rows))
    raw = read_muse_csv(path)
    assert raw.ch_names == ["TP9", "AF7", "AF8", "TP10", "Right AUX", "STI"]
    assert raw.get_channel_types() == ["eeg"] * 4 + ["misc", "stim"]
    assert raw.info["sfreq"] == 256
    np.testing.assert_allclose(raw.get_data(picks="eeg"), np.round(data[:, :4].T, 3) * 1e-6, atol=1e-13)
    events = mne.find_events(raw, shortest_event=1, verbose=False)
    np.testing.assert_array_equal(events[:, 0], np.flatnonzero(markers))
    np.testing.assert_array_equal(events[:, 2], markers[markers > 0])
    # positions from the standard 10-20 montage, in metres
    pos = raw.get_montage().get_positions()["ch_pos"]
    assert set(pos) >= {"TP9", "AF7", "AF8", "TP10"}
    assert 0.05 < np.linalg.norm(pos["TP9"]) < 0.15
    # Unix clock -> measurement date; measured rate noted
    assert raw.info["meas_date"].year == 2017
    assert "measured 256.0" in raw.info["description"]


def test_marker_taken_by_position_2018_header(tmp_path):
    rows = muse_rows(t0=30719.467)
    path = write_muse(tmp_path / "a.csv", muse_text(*rows, header=HEADER_2018))
    raw = read_muse_csv(path)
    assert raw.info["meas_date"] is None  # LSL local_clock: not a calendar time
    assert np.count_nonzero(raw.get_data(picks="stim")) == np.count_nonzero(rows[2])
    assert "LSL local_clock" in raw.info["description"]


def test_aux_options(tmp_path, rows):
    path = write_muse(tmp_path / "a.csv", muse_text(*rows))
    oz = read_muse_csv(path, aux="eeg", aux_name="Oz")
    assert oz.ch_names[4] == "Oz" and oz.get_channel_types()[4] == "eeg"
    assert "Oz" in oz.get_montage().ch_names
    dropped = read_muse_csv(path, aux="drop")
    assert dropped.ch_names == ["TP9", "AF7", "AF8", "TP10", "STI"]
    with pytest.raises(InvalidInputError, match="aux must be"):
        read_muse_csv(path, aux="emg")


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        read_muse_csv(tmp_path / "nope.csv")


def test_truncated_mid_row(tmp_path, rows):
    text = muse_text(*rows)
    path = write_muse(tmp_path / "a.csv", text[: len(text) - 25])
    with pytest.raises(InvalidDataError, match="truncated"):
        read_muse_csv(path)


def test_truncated_gzip(tmp_path, rows):
    blob = gzip.compress(muse_text(*rows).encode())
    path = tmp_path / "a.csv.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InvalidDataError, match="gzip stream is truncated or corrupt"):
        read_muse_csv(path)


def test_row_with_missing_fields(tmp_path, rows):
    lines = muse_text(*rows).splitlines()
    lines[10] = ",".join(lines[10].split(",")[:4])
    path = write_muse(tmp_path / "a.csv", "\n".join(lines) + "\n")
    with pytest.raises(InvalidDataError, match="missing value .* data row 10"):
        read_muse_csv(path)


def test_marker_column_missing(tmp_path, rows):
    lines = [",".join(line.split(",")[:-1]) for line in muse_text(*rows).splitlines()]
    path = write_muse(tmp_path / "a.csv", "\n".join(lines) + "\n")
    with pytest.raises(InvalidDataError, match="marker column is missing.*'Right AUX'"):
        read_muse_csv(path)


def test_timestamps_go_backwards(tmp_path, rows):
    times, data, markers = rows
    times = times.copy()
    times[500] = times[400]
    path = write_muse(tmp_path / "a.csv", muse_text(times, data, markers))
    with pytest.raises(InvalidDataError, match="timestamps go backwards at data row 501 "):
        read_muse_csv(path)


def test_non_numeric_value(tmp_path, rows):
    lines = muse_text(*rows).splitlines()
    cells = lines[21].split(",")
    cells[2] = "abc"
    lines[21] = ",".join(cells)
    path = write_muse(tmp_path / "a.csv", "\n".join(lines) + "\n")
    with pytest.raises(InvalidDataError, match="non-numeric value 'abc' in column 'AF7' at data row 21"):
        read_muse_csv(path)


def test_fractional_marker(tmp_path, rows):
    times, data, markers = rows
    text = muse_text(times, data, markers).replace(",2\n", ",1.5\n", 1)
    path = write_muse(tmp_path / "a.csv", text)
    with pytest.raises(InvalidDataError, match="not a non-negative integer"):
        read_muse_csv(path)


def test_not_a_muse_file(tmp_path):
    path = write_muse(tmp_path / "a.csv", "time,Fz,Cz\n0,1,2\n")
    with pytest.raises(InvalidDataError, match="not a muse-lsl CSV"):
        read_muse_csv(path)


def test_empty_file(tmp_path):
    path = write_muse(tmp_path / "a.csv", "")
    with pytest.raises(InvalidDataError, match="empty"):
        read_muse_csv(path)


# MANIFEST "Verification" table: events 1=non-target / 2=target per file.
MANIFEST_COUNTS = [
    ("subject1/session1/data_2017-02-04-15_45_13.csv.gz", 30732, 165, 32),
    ("subject2/session2/data_2018-05-04-01.57.53.csv.gz", 30732, 162, 35),
    ("subject3/session3/data_2018-04-20-03.01.00.csv.gz", 30720, 164, 32),
    ("subject4/session1/data_2018-04-22-21.41.19.csv.gz", 15360, 82, 12),
]


@pytest.mark.data
@pytest.mark.parametrize(("rel", "n_rows", "n_nontarget", "n_target"), MANIFEST_COUNTS)
def test_real_files_match_manifest(data_root, rel, n_rows, n_nontarget, n_target):
    raw = read_muse_csv(data_root / "EEGNotebooks_VisualP300" / rel)
    assert raw.n_times == n_rows
    events = mne.find_events(raw, shortest_event=1, verbose=False)
    assert (events[:, 2] == 1).sum() == n_nontarget
    assert (events[:, 2] == 2).sum() == n_target
    eeg = raw.get_data(picks="eeg") * 1e6
    assert eeg.min() >= -1000.0 and eeg.max() <= 999.6  # Muse ADC range
