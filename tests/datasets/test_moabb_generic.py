"""Any MOABB dataset by name, offline, from MOABB's download layout or an MNE data folder.

The fixture builds MOABB's layout for ``AlexMI`` (not one of the four hand-written
offline classes): ``MNE-alexeeg-data/zenodo/806023/subject<N>.raw.fif``, where MOABB's
downloader stores the Zenodo files.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest

from neurodec.datasets import dataset_table, get_dataset
from neurodec.datasets.moabb_generic import GenericOfflineDataset, moabb_dataset_classes
from neurodec.errors import DataNotFoundError, UnknownNameError
from neurodec.paradigms import MotorImagery

CHANNELS = ["Fpz", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8", "P7", "P3", "Pz", "P4", "P8"]
ALEX_FILE = "MNE-alexeeg-data/zenodo/806023/subject{}.raw.fif"


def _write_alex(folder: Path, subject: int) -> Path:
    """A small recording in AlexMI's format: 16 EEG + stim (2 right hand, 3 feet, 4 rest)."""
    path = folder / ALEX_FILE.format(subject)
    path.parent.mkdir(parents=True, exist_ok=True)
    sfreq, n = 128.0, 128 * 50
    rng = np.random.default_rng(subject)
    stim = np.zeros((1, n))
    stim[0, 256 + 512 * np.arange(12)] = np.tile([2, 3, 4], 4)  # 12 trials of 3 s
    info = mne.create_info([*CHANNELS, "STI 014"], sfreq, ["eeg"] * 16 + ["stim"])
    raw = mne.io.RawArray(np.vstack([rng.standard_normal((16, n)) * 1e-5, stim]), info, verbose=False)
    raw.save(path, verbose=False)
    return path


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    """``neurodec/AlexMI/MNE-alexeeg-data/...`` and an MNE data folder ``mne_data/MNE-alexeeg-data``."""
    base = tmp_path_factory.mktemp("moabb_layout")
    for s in (1, 2):
        _write_alex(base / "neurodec" / "AlexMI", s)
    (base / "mne_data").mkdir()
    (base / "mne_data" / "MNE-alexeeg-data").symlink_to(base / "neurodec" / "AlexMI" / "MNE-alexeeg-data")
    return base / "neurodec", base / "mne_data"


def test_any_moabb_class_is_known_by_name():
    classes = moabb_dataset_classes()
    assert len(classes) > 100 and "AlexMI" in classes and "FakeDataset" not in classes
    with pytest.raises(UnknownNameError, match="Did you mean 'PhysionetMI'"):
        get_dataset("PhysionetMII")


def test_reads_moabbs_layout_and_equals_moabb(roots, monkeypatch):
    root, _ = roots
    ds = get_dataset("AlexMI", data_root=root)
    assert isinstance(ds, GenericOfflineDataset) and ds.code == "AlexandreMotorImagery"
    assert ds.data_root == root / "AlexMI"
    assert ds.expected_files(1) == [root / "AlexMI" / ALEX_FILE.format(1)]
    assert ds.local_subjects() == [1, 2]
    every = dataset_table(root, moabb="all").set_index("name")  # every MOABB class, absent ones too
    assert (
        every.loc["AlexMI", "local"] == "2/8 subjects"
        and every.loc["BNCI2015_001", "local"] == "0/12 subjects"
    )
    ours = MotorImagery(cache=False).get_data(ds, [1, 2])
    assert ours[0].shape == (24, 16, 385) and set(ours[1]) == {"right_hand", "feet", "rest"}
    # MOABB's own class on the same folder gives the same arrays
    from moabb.datasets import AlexMI
    from moabb.paradigms import MotorImagery as MoabbMI

    monkeypatch.setenv("MNE_DATASETS_ALEXEEG_PATH", str(root / "AlexMI"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = MoabbMI().get_data(AlexMI(), [1, 2])
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    pd.testing.assert_frame_equal(ours[2], theirs[2])


def test_missing_file_is_named_before_reading_and_nothing_is_fetched(roots):
    root, _ = roots
    ds = get_dataset("AlexMI", data_root=root)
    missing = root / "AlexMI" / ALEX_FILE.format(3)
    with pytest.raises(DataNotFoundError, match="subject 3 are missing") as info:
        ds.get_data([3])
    assert str(missing) in str(info.value)
    # MOABB's own data_path, reached directly, names the file and its URL instead of downloading
    with pytest.raises(
        DataNotFoundError, match=r"missing file .*subject3.raw.fif \(MOABB downloads it from https"
    ):
        ds.data_path(3)
    with pytest.raises(DataNotFoundError, match="no dataset folder"):
        get_dataset("AlexMI", data_root=root.parent / "empty_root_does_not_exist").check_local(1)


def test_an_mne_data_folder_works_as_data_root(roots):
    _, mne_data = roots
    before = sorted(p.name for p in mne_data.iterdir())
    ds = get_dataset("AlexMI", data_root=mne_data)
    assert ds.data_root == mne_data and ds.local_subjects() == [1, 2]
    X, y, _ = MotorImagery(cache=False).get_data(ds, [2])
    assert X.shape == (12, 16, 385)
    table = dataset_table(mne_data).set_index("name")
    assert table.loc["AlexMI", "local"] == "2/8 subjects" and table.loc["AlexMI", "paradigm"] == "imagery"
    assert "BNCI2015_001" not in table.index  # only MOABB datasets with files are listed by default
    assert sorted(p.name for p in mne_data.iterdir()) == before  # planning created no folders


def test_found_through_mnes_config(roots, monkeypatch, tmp_path):
    _, mne_data = roots
    monkeypatch.delenv("NEURODEC_DATA", raising=False)
    monkeypatch.setenv("MNE_DATA", str(mne_data))
    monkeypatch.chdir(tmp_path)
    import neurodec.config

    def fake_root(path=None):  # neurodec's default root holds no AlexMI here
        return Path(path or os.environ.get("NEURODEC_DATA") or tmp_path / "none")

    monkeypatch.setattr(neurodec.config, "data_root", fake_root)
    assert get_dataset("AlexMI").data_root == mne_data
    monkeypatch.setenv("NEURODEC_DATA", str(tmp_path))  # an explicit root is used as given
    assert get_dataset("AlexMI").data_root == tmp_path / "AlexMI"


def test_cli_lists_moabb_datasets_present(roots, capsys):
    from neurodec.cli import main

    _, mne_data = roots
    assert main(["datasets", "--data-root", str(mne_data), "--format", "csv"]) == 0
    table = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out)).set_index("name")
    assert table.loc["AlexMI", "local"] == "2/8 subjects"
    assert table.loc["PhysionetMI", "local"] == "0/109 subjects"


@pytest.mark.data
def test_physionet_from_an_mne_data_folder(data_root, tmp_path, cache_dir):
    """A MOABB user's ~/mne_data (MNE-eegbci-data directly inside) works for the four
    hand-written datasets too."""
    source = data_root / "PhysionetMI" / "MNE-eegbci-data"
    if not source.is_dir():
        pytest.skip(f"{source} is missing")
    (tmp_path / "MNE-eegbci-data").symlink_to(source)
    ds = get_dataset("PhysionetMI", data_root=tmp_path)
    assert ds.data_root == tmp_path and len(ds.local_subjects()) == 20
    ref = get_dataset("PhysionetMI", data_root=data_root)
    from neurodec.paradigms import LeftRightImagery

    a = LeftRightImagery(cache=False).get_data(ds, [1])
    b = LeftRightImagery(cache=False).get_data(ref, [1])
    np.testing.assert_array_equal(a[0], b[0])
    assert os.listdir(tmp_path) == ["MNE-eegbci-data"]
