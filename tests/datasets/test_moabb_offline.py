"""MOABB datasets read offline: PhysionetMI from the real subset, fast failures elsewhere."""

from __future__ import annotations

import socket
from pathlib import Path

import mne
import moabb.datasets as mdatasets
import pytest
from moabb.datasets.download import _normalize_destination, _sanitize_path
from moabb.paradigms import LeftRightImagery

from neurodec.datasets import get_dataset
from neurodec.datasets.moabb_offline import (
    BNCI2014_001,
    NetworkBlockedError,
    PhysionetMI,
    Zhou2016,
    offline_moabb,
)
from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError


@pytest.fixture()
def no_network(monkeypatch):
    """Any socket connection or DNS lookup fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args!r:.200}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.data
def test_physionet_reads_local_runs(data_root, no_network):
    ds = get_dataset("PhysionetMI", data_root=data_root)
    assert isinstance(ds, mdatasets.PhysionetMI)
    assert ds.code == "PhysionetMotorImagery"
    data = ds.get_data([1])
    assert list(data) == [1]
    assert list(data[1]) == ["0"]
    runs = data[1]["0"]
    assert list(runs) == ["0", "1", "2"]  # runs 4, 8, 12 in MOABB's order
    raw = runs["0"]
    assert isinstance(raw, mne.io.BaseRaw)
    assert raw.info["sfreq"] == 160
    assert len(mne.pick_types(raw.info, eeg=True)) == 64
    assert Path(raw.filenames[0]).name == "S001R04.edf"


@pytest.mark.data
def test_moabb_paradigm_accepts_offline_physionet(data_root, no_network):
    ds = get_dataset("PhysionetMI", data_root=data_root)
    X, y, meta = LeftRightImagery().get_data(ds, [2])
    # MANIFEST: subject 2 has T1/T2 = 7/8, 8/7, 8/7 in runs 4, 8, 12.
    assert X.shape == (45, 64, 481)
    assert (y == "left_hand").sum() == 23 and (y == "right_hand").sum() == 22
    assert set(meta["run"]) == {"0", "1", "2"} and set(meta["subject"]) == {2}


@pytest.mark.data
def test_physionet_local_subjects(data_root):
    ds = get_dataset("PhysionetMI", data_root=data_root)
    assert ds.local_subjects() == list(range(1, 21))


@pytest.mark.data
def test_physionet_absent_runs_say_what_they_need(data_root):
    ds = get_dataset("PhysionetMI", data_root=data_root, executed=True)
    with pytest.raises(DataNotFoundError) as info:
        ds.get_data([1])
    msg = str(info.value)
    assert "runs [3, 7, 11]" in msg and "executed left/right fist" in msg
    assert "S001R03.edf" in msg and "runs 4, 8, 12" in msg

    feet = get_dataset("PhysionetMI", data_root=data_root, include_feet=True)
    with pytest.raises(DataNotFoundError, match=r"runs \[6, 10, 14\].*imagined both fists/feet"):
        feet.get_data([3])


@pytest.mark.data
def test_physionet_absent_subject_fails_before_reading(data_root, monkeypatch):
    ds = get_dataset("PhysionetMI", data_root=data_root)
    monkeypatch.setattr(
        mdatasets.PhysionetMI, "_get_single_subject_data", lambda *a: pytest.fail("read attempted")
    )
    with pytest.raises(DataNotFoundError, match="S021R04.edf"):
        ds.get_data([1, 21])


@pytest.mark.parametrize("subjects", [[0], [110], 999])
def test_subject_out_of_range(tmp_path, subjects):
    ds = get_dataset("PhysionetMI", data_root=tmp_path)
    with pytest.raises(InvalidInputError, match="1..109"):
        ds.get_data(subjects)


def test_no_runs_selected_is_invalid(tmp_path):
    with pytest.raises(InvalidInputError, match="select no runs"):
        PhysionetMI(data_root=tmp_path, imagined=False, executed=False)


@pytest.mark.parametrize("name", ["BNCI2014_001", "BNCI2014_004"])
def test_missing_bnci_files_fail_fast_with_paths(tmp_path, monkeypatch, name):
    ds = get_dataset(name, data_root=tmp_path)
    moabb_cls = type(ds).__mro__[type(ds).__mro__.index(mdatasets.base.BaseDataset) - 1]
    monkeypatch.setattr(moabb_cls, "_get_single_subject_data", lambda *a: pytest.fail("MOABB called"))
    with pytest.raises(DataNotFoundError) as info:
        ds.get_data([1])
    letter = "A" if name.endswith("001") else "B"
    for session in "TE":
        assert str(tmp_path.resolve() / name) in str(info.value)
        assert f"{letter}01{session}.mat" in str(info.value)
    assert ds.local_subjects() == []


def test_missing_zhou_files_fail_fast_with_paths(tmp_path):
    ds = get_dataset("Zhou2016", data_root=tmp_path)
    with pytest.raises(DataNotFoundError) as info:
        ds.get_data([2])
    msg = str(info.value)
    assert "MNE-BIDS-zhou2016/16534752.json" in msg and "sub-2" in msg


def test_expected_paths_match_moabb_layout(tmp_path):
    """Our expected files are where MOABB's own downloader would put them."""
    bnci = BNCI2014_001(data_root=tmp_path)
    url = "https://lampx.tugraz.at/~bci/database/001-2014/A03T.mat"
    moabb_path = _sanitize_path(_normalize_destination(url, bnci.data_root / "MNE-bnci-data"))
    assert bnci.expected_files(3)[0] == moabb_path

    phys = PhysionetMI(data_root=tmp_path)
    url = "https://physionet.org/files/eegmmidb/1.0.0/S007/S007R08.edf"
    moabb_path = _sanitize_path(_normalize_destination(url, phys.data_root / "MNE-eegbci-data"))
    assert phys.run_file(7, 8) == moabb_path

    from moabb.datasets.bids_interface import get_bids_root

    zhou = Zhou2016(data_root=tmp_path)
    zhou.data_root.mkdir()
    with offline_moabb(zhou.data_root, zhou.mne_sign):
        assert get_bids_root(zhou.code) == zhou.bids_root


def test_offline_context_blocks_network_in_this_thread_only(tmp_path):
    with offline_moabb(tmp_path, "BNCI"):
        with pytest.raises(NetworkBlockedError, match="offline mode"):
            socket.create_connection(("192.0.2.1", 80), timeout=0.01)
        with pytest.raises(NetworkBlockedError):
            socket.getaddrinfo("example.org", 443)
    # restored afterwards
    assert "guarded" not in repr(socket.socket.connect)
    assert socket.socket.connect.__qualname__ == "socket.connect"


def test_truncated_edf_is_invalid_data(tmp_path, data_root):
    src = PhysionetMI(data_root=data_root)
    dst = PhysionetMI(data_root=tmp_path)
    for run in dst.runs:
        target = dst.run_file(1, run)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(src.run_file(1, run).read_bytes()[:3000])
    with pytest.raises(
        InvalidDataError, match=r"(?s)3 file\(s\) of subject 1 cannot be used.*S001R04.edf is truncated"
    ):
        dst.get_data([1])


def test_fingerprint_depends_on_runs(tmp_path):
    a = PhysionetMI(data_root=tmp_path)
    b = PhysionetMI(data_root=tmp_path, include_feet=True)
    assert a.fingerprint() == PhysionetMI(data_root=tmp_path).fingerprint()
    assert a.fingerprint() != b.fingerprint()


@pytest.mark.data
def test_arrays_equal_moabb_own_class(data_root, monkeypatch, no_network):
    """Same arrays as MOABB's own PhysionetMI pointed at the same files."""
    import numpy as np

    monkeypatch.setenv("MNE_DATASETS_EEGBCI_PATH", str(data_root / "PhysionetMI"))
    monkeypatch.setenv("MOABB_DOWNLOAD_PROVIDER", "upstream")
    theirs = mdatasets.PhysionetMI()
    theirs.feet_runs = []
    ours = get_dataset("PhysionetMI", data_root=data_root)
    X1, y1, m1 = LeftRightImagery().get_data(theirs, [3])
    X2, y2, m2 = LeftRightImagery().get_data(ours, [3])
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert m1.equals(m2)


def test_bnci_present_but_corrupt_files_reach_moabb_offline(tmp_path, no_network):
    """With files present MOABB's own loader runs (no network) and a bad file is InvalidDataError."""
    ds = get_dataset("BNCI2014_001", data_root=tmp_path)
    for path in ds.expected_files(1):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not a MATLAB file")
    with pytest.raises(InvalidDataError, match="BNCI2014-001: reading subject"):
        ds.get_data([1])


def _edf_header_only() -> bytes:
    """An EDF file whose header is consistent (1 signal, 1 record of 10 samples) but whose
    content is not a recording MOABB can use: passes the integrity check, fails in MOABB."""

    def field(value, width):
        return str(value).ljust(width)[:width].encode("ascii")

    head = (
        field("0", 8)
        + field("X", 80)
        + field("X", 80)
        + field("01.01.00", 8)
        + field("00.00.00", 8)
        + field(512, 8)
        + field("", 44)
        + field(1, 8)
        + field(1, 8)
        + field(1, 4)
    )
    signal = (
        field("EEG", 16)
        + field("", 80)
        + field("uV", 8)
        + field(-100, 8)
        + field(100, 8)
        + field(-32768, 8)
        + field(32767, 8)
        + field("", 80)
        + field(10, 8)
        + field("", 32)
    )
    return head + signal + bytes(20)


def test_zhou_present_layout_reads_offline_without_writing(tmp_path, no_network):
    import json

    ds = get_dataset("Zhou2016", data_root=tmp_path)
    root = ds.bids_root
    eeg = root / "sub-1" / "ses-0" / "eeg"
    eeg.mkdir(parents=True)
    (root / "16534752.json").write_text(
        json.dumps({"files": [{"key": "dataset_description.json"}, {"key": "sub-1.zip"}]})
    )
    (root / "dataset_description.json").write_text('{"Name": "x", "BIDSVersion": "1.8.0"}')
    (eeg / "sub-1_ses-0_task-imagery_run-0_eeg.edf").write_bytes(_edf_header_only())
    (eeg / "sub-1_ses-0_task-imagery_run-0_events.tsv").write_text("onset\tduration\n")
    before = sorted(p for p in tmp_path.rglob("*"))
    ds.check_local(1)  # complete layout passes the check
    with pytest.raises(InvalidDataError, match="Zhou2016: reading subject"):
        ds.get_data([1])
    assert sorted(p for p in tmp_path.rglob("*")) == before  # no lock files, no downloads
