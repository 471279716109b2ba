"""fill_positions, name standardisation and montage files (synthetic)."""

from __future__ import annotations

import logging

import mne
import numpy as np
import pytest

from neurodec.errors import DataNotFoundError, InvalidDataError, InvalidInputError, MissingPositionsError
from neurodec.sensors import fill_positions, load_montage, sensor_table, standardize_channel_name


@pytest.mark.parametrize(
    "raw_name, expected",
    [
        ("Fc5.", "Fc5"),
        ("C3..", "C3"),
        ("T10.", "T10"),
        ("EEG Fp1-Ref", "Fp1"),
        (" Cz ", "Cz"),
        ("POL T1", "T1"),
        ("EEG O2-REF", "O2"),
        ("Fp1-A2", "Fp1"),
        ("MEG 0113", "MEG 0113"),
    ],
)
def test_standardize_channel_name(raw_name, expected):
    assert standardize_channel_name(raw_name) == expected


def _raw(names, types="eeg"):
    info = mne.create_info(list(names), 100.0, types)
    return mne.io.RawArray(np.zeros((len(names), 10)), info, verbose=False)


def test_fill_dotted_and_case_insensitive_names():
    raw = _raw(["Fc5.", "C3..", "cz", "FP1", "Iz.."])
    filled = fill_positions(raw)
    assert filled == {"Fc5.": "FC5", "C3..": "C3", "cz": "Cz", "FP1": "Fp1", "Iz..": "Iz"}
    table = sensor_table(raw).set_index("name")
    assert table["has_position"].all() and (table["coord_frame"] == "head").all()
    ref = mne.io.RawArray(np.zeros((1, 10)), mne.create_info(["C3"], 100.0, "eeg"), verbose=False)
    with mne.utils.use_log_level("error"):
        ref.set_montage("colin27_1005")
    np.testing.assert_allclose(
        table.loc["C3..", ["x", "y", "z"]].to_numpy(dtype=float), ref.info["chs"][0]["loc"][:3]
    )


def test_existing_positions_are_kept():
    raw = _raw(["Cz", "C3"])
    raw.info["chs"][0]["loc"][:3] = [0.01, 0.02, 0.09]
    assert fill_positions(raw) == {"C3": "C3"}
    np.testing.assert_allclose(raw.info["chs"][0]["loc"][:3], [0.01, 0.02, 0.09])
    assert fill_positions(raw) == {}  # nothing left to fill


def test_unmatched_names_raise_and_leave_info_untouched():
    raw = _raw(["Cz", "Chan7", "Chan8"])
    with pytest.raises(MissingPositionsError, match="Chan7") as info:
        fill_positions(raw)
    assert "Chan8" in str(info.value) and "Cz" not in str(info.value).split(":")[1]
    assert not sensor_table(raw)["has_position"].any()


def test_unmatched_names_warn_or_ignore(caplog):
    raw = _raw(["Cz", "Chan7"])
    with caplog.at_level(logging.WARNING, logger="neurodec"):
        assert fill_positions(raw, on_missing="warn") == {"Cz": "Cz"}
    assert any("Chan7" in r.getMessage() for r in caplog.records)
    raw = _raw(["Cz", "Chan7"])
    assert fill_positions(raw, on_missing="ignore") == {"Cz": "Cz"}
    with pytest.raises(InvalidInputError, match="on_missing"):
        fill_positions(raw, on_missing="skip")  # type: ignore[arg-type]


def test_non_eeg_channels_are_not_filled():
    raw = _raw(["Cz", "EOG"], ["eeg", "eog"])
    assert fill_positions(raw) == {"Cz": "Cz"}


def test_other_builtin_montage_and_recording_refresh():
    class Rec:
        def __init__(self, raw):
            self.raw, self.sensors = raw, sensor_table(raw)

    rec = Rec(_raw(["A1", "A2", "B1"]))
    assert fill_positions(rec, "biosemi128") == {"A1": "A1", "A2": "A2", "B1": "B1"}
    assert rec.sensors["has_position"].all()


def test_load_montage_errors(tmp_path):
    with pytest.raises(InvalidInputError, match="built-in"):
        load_montage("standard_9999")
    with pytest.raises(InvalidInputError):
        load_montage(42)  # type: ignore[arg-type]
    with pytest.raises(DataNotFoundError):
        load_montage(tmp_path / "x.locs")
    bad = tmp_path / "x.sfp"
    bad.write_text("this is not\na montage\x00")
    with pytest.raises(InvalidDataError):
        load_montage(bad)
    mont = load_montage("standard_1020")
    assert load_montage(mont) is mont and "Cz" in mont.ch_names
