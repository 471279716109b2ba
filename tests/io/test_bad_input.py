"""Bad input to read_recording: each case gives a clear neurodec error (or warning)."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError, NeurodecError
from neurodec.io import SUPPORTED_FORMATS, read_recording
from tests.io.conftest import make_raw


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        read_recording(tmp_path / "nope.edf")


def test_path_of_wrong_type():
    with pytest.raises(InvalidInputError, match="path"):
        read_recording(123)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["recording.xyz", "recording", "data.mat"])
def test_unknown_extension_lists_formats(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"0" * 100)
    with pytest.raises(InvalidInputError, match="Supported formats") as info:
        read_recording(path)
    assert "EDF" in str(info.value) and "BrainVision" in str(info.value) and "BIDS" in str(info.value)


@pytest.mark.parametrize("suffix, hint", [(".eeg", ".vhdr"), (".fdt", ".set"), (".vmrk", ".vhdr")])
def test_companion_file_gets_a_hint(tmp_path, suffix, hint):
    path = tmp_path / f"rec{suffix}"
    path.write_bytes(b"0" * 100)
    with pytest.raises(InvalidInputError, match=hint.replace(".", r"\.")):
        read_recording(path)


def test_folder_that_is_not_bids(tmp_path):
    with pytest.raises(InvalidInputError, match="not a BIDS dataset"):
        read_recording(tmp_path)


def test_supported_formats_table():
    assert {"fif", "edf", "bdf", "gdf", "brainvision", "eeglab", "cnt", "kit", "bids", "muse_csv"} <= set(
        SUPPORTED_FORMATS
    )


def test_nan_samples_name_the_channel(write_fif):
    raw = make_raw()
    data = raw.get_data()
    data[2, 100:110] = np.nan
    raw._data[:] = data
    with pytest.raises(InvalidDataError, match="NaN") as info:
        read_recording(write_fif(raw))
    assert "Pz" in str(info.value) and "Fz" not in str(info.value)


def test_flat_channel_warn_marks_bad(write_fif, caplog):
    raw = make_raw()
    raw._data[1] = 0.0
    path = write_fif(raw)
    with caplog.at_level(logging.WARNING, logger="neurodec"):
        rec = read_recording(path)
    assert rec.raw.info["bads"] == ["Cz"]
    assert rec.sensors.set_index("name").loc["Cz", "bad"]
    assert any("flat" in r.getMessage() and "Cz" in r.getMessage() for r in caplog.records)


def test_flat_channel_raise_and_ignore(write_fif):
    raw = make_raw()
    raw._data[3] = 1e-6
    path = write_fif(raw)
    with pytest.raises(InvalidDataError, match="Oz"):
        read_recording(path, on_flat="raise")
    assert read_recording(path, on_flat="ignore").raw.info["bads"] == []
    with pytest.raises(InvalidInputError, match="on_flat"):
        read_recording(path, on_flat="drop")  # type: ignore[arg-type]


def test_ch_types_with_unknown_names(write_fif):
    path = write_fif(make_raw())
    with pytest.raises(InvalidInputError, match="not in the recording") as info:
        read_recording(path, ch_types={"Cz": "eog", "EKG9": "ecg"})
    assert "EKG9" in str(info.value)


def test_ch_types_with_unknown_type(write_fif):
    path = write_fif(make_raw())
    with pytest.raises(InvalidInputError, match="unknown channel type"):
        read_recording(path, ch_types={"Cz": "brainwave"})


def test_ch_types_wrong_object(write_fif):
    with pytest.raises(InvalidInputError, match="ch_types"):
        read_recording(write_fif(make_raw()), ch_types=["Cz"])  # type: ignore[arg-type]


def test_ch_types_from_channels_tsv(write_fif, tmp_path):
    tsv = tmp_path / "x_channels.tsv"
    tsv.write_text("name\ttype\tstatus\nFz\tEEG\tgood\nCz\tEOG\tbad\n")
    rec = read_recording(write_fif(make_raw()), ch_types=tsv)
    assert rec.raw.get_channel_types(picks=["Cz"]) == ["eog"]
    assert "Cz" in rec.raw.info["bads"]
    tsv.write_text("name\ttype\nFz\tBRAINWAVE\n")
    with pytest.raises(InvalidDataError, match="BRAINWAVE"):
        read_recording(write_fif(make_raw()), ch_types=tsv)


def test_electrodes_tsv_that_matches_no_channel(write_fif, tmp_path):
    tsv = tmp_path / "x_electrodes.tsv"
    tsv.write_text("name\tx\ty\tz\nA1x\t0.01\t0.02\t0.03\nA2x\t0.02\t0.02\t0.03\n")
    with pytest.raises(InvalidInputError, match="matches the recording"):
        read_recording(write_fif(make_raw()), electrodes=tsv)
    with pytest.raises(DataNotFoundError):
        read_recording(write_fif(make_raw()), electrodes=tmp_path / "missing_electrodes.tsv")


def test_electrodes_tsv_in_millimetres(write_fif, tmp_path):
    (tmp_path / "x_electrodes.tsv").write_text(
        "name\tx\ty\tz\nFz\t0\t60\t70\nCz\t0\t0\t95\nPz\tn/a\tn/a\tn/a\n"
    )
    (tmp_path / "x_coordsystem.json").write_text(
        '{"EEGCoordinateSystem": "CapTrak", "EEGCoordinateUnits": "mm"}'
    )
    rec = read_recording(write_fif(make_raw()), electrodes=tmp_path / "x_electrodes.tsv", montage=None)
    table = rec.sensors.set_index("name")
    np.testing.assert_allclose(
        table.loc["Cz", ["x", "y", "z"]].to_numpy(dtype=float), [0, 0, 0.095], atol=1e-9
    )
    assert not table.loc["Pz", "has_position"]


def test_unknown_reader_option(write_fif):
    with pytest.raises(InvalidInputError, match="option not understood"):
        read_recording(write_fif(make_raw()), not_an_option=3)


def test_bids_entities_on_a_plain_file(write_fif):
    with pytest.raises(InvalidInputError, match="BIDS"):
        read_recording(write_fif(make_raw()), subject="01")


def test_montage_errors(write_fif, tmp_path):
    path = write_fif(make_raw())
    with pytest.raises(InvalidInputError, match="built-in montage"):
        read_recording(path, montage="not_a_montage")
    with pytest.raises(DataNotFoundError):
        read_recording(path, montage=tmp_path / "absent.locs")
    bad = tmp_path / "broken.elc"
    bad.write_text("garbage\n\x00\x01")
    with pytest.raises(InvalidDataError, match="montage file"):
        read_recording(path, montage=bad)


def test_garbage_file_with_known_extension(tmp_path):
    rng = np.random.default_rng(0)
    for ext in (".fif", ".edf", ".bdf", ".gdf", ".set", ".sqd", ".cnt"):
        path = tmp_path / f"garbage{ext}"
        path.write_bytes(rng.integers(0, 256, 4000, dtype=np.uint8).tobytes())
        with pytest.raises(InvalidDataError):
            read_recording(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.edf"
    path.write_bytes(b"")
    with pytest.raises(InvalidDataError, match="not a valid EDF"):
        read_recording(path)


def test_errors_are_neurodec_errors_with_builtin_bases(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_recording(tmp_path / "x.fif")
    with pytest.raises(ValueError):
        read_recording(tmp_path)
    assert issubclass(InvalidDataError, NeurodecError)


# ---------------------------------------------------------------- truncated copies of real files


def _truncate(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


@pytest.mark.data
@pytest.mark.parametrize(
    "rel, fraction",
    [
        ("formats/EDFplus/chtypes_edf.edf", 0.5),
        ("formats/BDF/test.bdf", 0.5),
        ("formats/GDF/test_1ch.gdf", 0.5),
        # the CNT's data and event table end at 39% of the file (trailing bytes are unused)
        ("formats/CNT/scan41_short.cnt", 0.3),
        ("MEG/neuromag/test_elekta_3ch_raw.fif", 0.5),
        ("MEG/kit/test.sqd", 0.5),
        ("PhysionetMI/MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R04.edf", 0.9),
    ],
)
def test_truncated_real_file(data_root, tmp_path, rel, fraction):
    src = data_root / rel
    dst = _truncate(src, tmp_path / src.name, fraction)
    with pytest.raises(InvalidDataError, match=r"truncated|corrupt"):
        read_recording(dst)


@pytest.mark.data
def test_truncated_eeglab_data_file(data_root, tmp_path):
    folder = data_root / "formats/EEGLAB"
    shutil.copy(folder / "test_raw.set", tmp_path / "test_raw.set")
    _truncate(folder / "test_raw.fdt", tmp_path / "test_raw.fdt")
    with pytest.raises(InvalidDataError):
        read_recording(tmp_path / "test_raw.set")
    os.remove(tmp_path / "test_raw.fdt")
    with pytest.raises(DataNotFoundError):
        read_recording(tmp_path / "test_raw.set")


@pytest.mark.data
def test_truncated_brainvision_data_file(data_root, tmp_path):
    folder = data_root / "formats/BrainVision"
    for ext in ("vhdr", "vmrk"):
        shutil.copy(folder / f"bv_dig_test.{ext}", tmp_path / f"bv_dig_test.{ext}")
    data = (folder / "bv_dig_test.eeg").read_bytes()
    (tmp_path / "bv_dig_test.eeg").write_bytes(data[: len(data) // 2 + 1])  # cut mid-sample
    with pytest.raises(InvalidDataError, match="truncated"):
        read_recording(tmp_path / "bv_dig_test.vhdr")
    os.remove(tmp_path / "bv_dig_test.eeg")
    with pytest.raises(DataNotFoundError, match="DataFile"):
        read_recording(tmp_path / "bv_dig_test.vhdr")


@pytest.mark.data
def test_bids_root_selection_errors(data_root):
    root = data_root / "formats/BIDS_EEG"
    with pytest.raises(DataNotFoundError, match="subjects there"):
        read_recording(root, subject="99")
    root_ieeg = data_root / "iEEG"
    with pytest.raises(InvalidInputError, match="narrow it down"):
        read_recording(root_ieeg)
    rec = read_recording(root_ieeg, subject="02")
    assert "ecog" in rec.raw.get_channel_types()
    with pytest.raises(InvalidInputError, match="pass the root folder"):
        read_recording(root / "sub-01/eeg/sub-01_task-attention_eeg.edf", subject="01")
