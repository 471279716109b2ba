"""``check_file``: the one integrity check of a file before it is read."""

from __future__ import annotations

import gzip
import os

import pytest

from neurodec.errors import DataNotFoundError, InvalidDataError
from neurodec.io.integrity import check_file
from neurodec.io.read import read_recording

CSV = "timestamps,TP9,AF7,AF8,TP10,Right AUX,Marker\n1.0,0,0,0,0,0,0\n1.1,0,0,0,0,0,1\n"


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        check_file(tmp_path / "none.mat")
    (tmp_path / "empty.mat").write_bytes(b"")
    with pytest.raises(InvalidDataError, match="is empty"):
        check_file(tmp_path / "empty.mat")
    with pytest.raises(InvalidDataError, match="not a regular file"):
        check_file(tmp_path)
    (tmp_path / "ok.mat").write_bytes(b"MATLAB")
    check_file(tmp_path / "ok.mat")


def test_truncated_gzip_csv(tmp_path):
    path = tmp_path / "data_2017-02-04-15_45_13.csv.gz"
    blob = gzip.compress(CSV.encode() * 200, mtime=0)
    path.write_bytes(blob)
    check_file(path)
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(InvalidDataError, match="gzip stream ends before"):
        check_file(path)
    path.write_bytes(blob[:10] + b"\xff" * 40 + blob[50:])
    with pytest.raises(InvalidDataError, match="gzip stream is corrupt"):
        check_file(path)
    # a file of two gzip members (concatenated) is whole
    path.write_bytes(gzip.compress(CSV.encode(), mtime=0) + gzip.compress(b"1.2,0,0,0,0,0,0\n", mtime=0))
    check_file(path)


def test_csv_cut_mid_row(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(CSV[:-5])
    with pytest.raises(InvalidDataError, match="last line has no line end"):
        check_file(path)
    gz = tmp_path / "data.csv.gz"
    gz.write_bytes(gzip.compress(CSV[:-5].encode()))
    with pytest.raises(InvalidDataError, match="last line has no line end"):
        check_file(gz)


def test_a_pass_is_remembered_until_the_file_changes(tmp_path, monkeypatch):
    import neurodec.io.integrity as integrity

    calls = []
    real = integrity.check_complete
    monkeypatch.setattr(integrity, "check_complete", lambda *a: calls.append(a) or real(*a))
    src = gzip.compress(CSV.encode(), mtime=0)
    path = tmp_path / "data.csv.gz"
    path.write_bytes(src)
    check_file(path)
    check_file(path)
    assert len(calls) == 1
    with open(path, "r+b") as fh:
        fh.truncate(len(src) - 4)
    with pytest.raises(InvalidDataError, match="truncated"):
        check_file(path)
    assert len(calls) == 2


@pytest.mark.data
def test_truncated_edf_inside_a_bids_tree_is_refused(data_root, tmp_path):
    # Before: read through MNE-BIDS with no check, 9,900 of the 20,000 samples, no warning.
    src = data_root / "iEEG"
    root = tmp_path / "iEEG"
    for file in [
        "dataset_description.json",
        *(f"sub-01/ieeg/{p.name}" for p in (src / "sub-01/ieeg").iterdir()),
    ]:
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).symlink_to(src / file)
    edf = root / "sub-01/ieeg/sub-01_task-clinical_ieeg.edf"
    data = edf.read_bytes()
    edf.unlink()
    edf.write_bytes(data[: len(data) // 2])
    with pytest.raises(InvalidDataError, match="is truncated: its EDF header promises 200 data records"):
        read_recording(edf)
    os.utime(edf)  # still refused on a second call
    with pytest.raises(InvalidDataError, match="is truncated"):
        read_recording(root, subject="01", task="clinical")
