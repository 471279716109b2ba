"""sensor_table and normalized_positions on synthetic infos."""

from __future__ import annotations

import mne
import numpy as np
import pandas as pd
import pytest

from neurodec.errors import InvalidInputError
from neurodec.sensors import SENSOR_COLUMNS, fit_sphere, normalized_positions, sensor_table


def _eeg_info(names=("Fz", "Cz", "Pz", "C3", "C4", "O1", "O2", "F3", "F4", "T7", "T8")):
    info = mne.create_info(
        [*names, "EOG1", "STI 014", "AUX"], 250.0, [*["eeg"] * len(names), "eog", "stim", "misc"]
    )
    with mne.utils.use_log_level("error"):
        info.set_montage("standard_1005", on_missing="ignore")
    return info


def test_columns_types_and_positions():
    table = sensor_table(_eeg_info())
    assert set(SENSOR_COLUMNS) <= set(table.columns) and {"xn", "yn", "zn"} <= set(table.columns)
    assert table["type"].tolist()[-3:] == ["eog", "stim", "misc"]
    eeg = table[table["type"] == "eeg"]
    assert eeg["has_position"].all() and (eeg["coord_frame"] == "head").all()
    dist = np.linalg.norm(eeg[["x", "y", "z"]].to_numpy(), axis=1)
    assert np.all((dist > 0.05) & (dist < 0.15))  # metres
    assert (table[["nx", "ny", "nz", "gx", "gy", "gz"]].to_numpy() == 0).all()  # electrodes: zero normals
    others = table[table["type"] != "eeg"]
    assert others[["x", "y", "z", "xn"]].isna().all().all() and not others["has_position"].any()
    assert (table["coil_name"].iloc[0] == "FIFFV_COIL_EEG") and table["coil"].iloc[0] == 1


def test_accepts_info_raw_epochs_and_recording_like():
    info = _eeg_info()
    raw = mne.io.RawArray(np.zeros((len(info["ch_names"]), 100)), info, verbose=False)
    epochs = mne.EpochsArray(np.zeros((2, len(info["ch_names"]), 10)), info, verbose=False)

    class FakeRecording:
        def __init__(self, raw):
            self.raw = raw

    ref = sensor_table(info)
    for inst in (raw, epochs, FakeRecording(raw)):
        pd.testing.assert_frame_equal(sensor_table(inst), ref)
    with pytest.raises(InvalidInputError, match="mne.Info"):
        sensor_table(np.zeros(3))


def test_bad_channels_flagged():
    info = _eeg_info()
    info["bads"] = ["Cz"]
    table = sensor_table(info).set_index("name")
    assert table.loc["Cz", "bad"] and not table.loc["Fz", "bad"]


def test_fit_sphere_recovers_sphere():
    rng = np.random.default_rng(3)
    v = rng.normal(size=(50, 3))
    v[:, 2] = np.abs(v[:, 2])  # upper hemisphere only, like a cap
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    center, radius = fit_sphere(v * 0.09 + [0.001, 0.02, 0.04])
    np.testing.assert_allclose(center, [0.001, 0.02, 0.04], atol=1e-10)
    assert radius == pytest.approx(0.09)
    with pytest.raises(InvalidInputError):
        fit_sphere(np.zeros((3, 3)))


def test_normalized_positions_unit_sphere_and_deterministic():
    table = sensor_table(_eeg_info())
    norm = normalized_positions(table)
    eeg = table["type"] == "eeg"
    r = np.linalg.norm(norm.loc[eeg, ["xn", "yn", "zn"]].to_numpy(), axis=1)
    assert np.all((r > 0.8) & (r < 1.2))
    assert norm.loc[~eeg].isna().all().all()
    assert norm.attrs["normalization"]["eeg"]["method"] == "sphere_fit"
    pd.testing.assert_frame_equal(norm, normalized_positions(table))
    np.testing.assert_allclose(table.loc[eeg, "xn"], norm.loc[eeg, "xn"])


def test_normalized_positions_ieeg_and_few_sensors_use_fixed_scale():
    table = pd.DataFrame(
        {"type": ["seeg", "seeg", "eeg"], "x": [0.0095, 0.019, 0.0], "y": [0, 0, 0.095], "z": [0, 0, 0.0]}
    )
    norm = normalized_positions(table)
    np.testing.assert_allclose(norm["xn"], [0.1, 0.2, 0.0])
    np.testing.assert_allclose(norm["yn"], [0, 0, 1.0])
    assert {m["method"] for m in norm.attrs["normalization"].values()} == {"fixed"}
    with pytest.raises(InvalidInputError, match="columns"):
        normalized_positions(pd.DataFrame({"x": [1.0]}))


def test_empty_info():
    info = mne.create_info(["a"], 100.0, "misc")
    table = sensor_table(info)
    assert len(table) == 1 and not table["has_position"].any()
