"""Sensor tables of the real recordings: EEG montage fill, EEGLAB .locs, iEEG TSVs, MEG coils."""

from __future__ import annotations

import logging

import mne
import numpy as np
import pandas as pd
import pytest

from neurodec.errors import MissingPositionsError
from neurodec.sensors import fill_positions, fit_sphere, sensor_table

pytestmark = pytest.mark.data

PHYSIONET = "PhysionetMI/MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R04.edf"


@pytest.fixture(scope="module")
def neuromag(data_root):
    return mne.io.read_raw_fif(data_root / "MEG/neuromag/sample_audvis_trunc_raw_sss.fif", verbose=False)


def test_physionet_standard_montage_from_dotted_names(data_root):
    raw = mne.io.read_raw_edf(data_root / PHYSIONET, verbose=False)
    assert not sensor_table(raw)["has_position"].any()  # nothing in the file
    filled = fill_positions(raw)
    assert len(filled) == 64
    assert filled["Fc5."] == "FC5" and filled["C3.."] == "C3" and filled["Iz.."] == "Iz"
    table = sensor_table(raw).set_index("name")
    assert table["has_position"].all()
    c3, c4 = table.loc["C3.."], table.loc["C4.."]
    assert c3["x"] < -0.03 and c4["x"] > 0.03  # left/right in the head frame (RAS)
    assert table.loc["Fpz.", "y"] > 0.07 and table.loc["Oz..", "y"] < -0.07


def test_physionet_without_matching_names_raises(data_root):
    raw = mne.io.read_raw_edf(data_root / PHYSIONET, verbose=False)
    raw.rename_channels({"Fc5.": "Elec1", "C3..": "Elec2"})
    with pytest.raises(MissingPositionsError, match="Elec1") as info:
        fill_positions(raw)
    assert "Elec2" in str(info.value)


def test_eeglab_locs_positions(data_root):
    raw = mne.io.read_raw_eeglab(data_root / "formats/EEGLAB/test_raw.set", verbose=False)
    mont = mne.channels.read_custom_montage(data_root / "formats/EEGLAB/test_chans.locs")
    raw.rename_channels(dict(zip(raw.ch_names, mont.ch_names)))
    raw.set_montage(mont)
    table = sensor_table(raw).set_index("name")
    assert table["has_position"].all() and (table["coord_frame"] == "head").all()
    center, radius = fit_sphere(table[["x", "y", "z"]].to_numpy(dtype=float))
    assert radius == pytest.approx(0.095, rel=0.05)  # the .locs template sphere
    assert table.loc["F3", "x"] < 0 < table.loc["F4", "x"]
    r = np.linalg.norm(table[["xn", "yn", "zn"]].to_numpy(dtype=float), axis=1)
    np.testing.assert_allclose(r, 1.0, atol=0.05)


def test_ieeg_positions_from_tsv(data_root):
    import mne_bids

    path = data_root / "iEEG/sub-01/ieeg/sub-01_task-clinical_ieeg.edf"
    raw = mne_bids.read_raw_bids(mne_bids.get_bids_path_from_fname(path), verbose=False)
    table = sensor_table(raw).set_index("name")
    tsv = pd.read_csv(
        data_root / "iEEG/sub-01/ieeg/sub-01_space-fsaverage_electrodes.tsv", sep="\t"
    ).set_index("name")
    np.testing.assert_allclose(
        table.loc[tsv.index, ["x", "y", "z"]].to_numpy(dtype=float), tsv[["x", "y", "z"]], atol=1e-9
    )
    seeg = table[table["type"] == "seeg"]
    assert len(seeg) == 88 and (seeg[["nx", "ny", "nz"]].to_numpy() == 0).all()
    assert (seeg["x"] < 0.001).all()  # left hemisphere
    assert table.attrs["normalization"]["ieeg"]["method"] == "fixed"
    np.testing.assert_allclose(seeg["xn"], seeg["x"] / 0.095)
    # sEEG contacts are not scalp electrodes: the EEG montage filler leaves them alone
    assert fill_positions(raw) == {}


def test_meg_head_frame_radius_and_normals(neuromag):
    table = sensor_table(neuromag)
    meg = table[table["type"].isin(["mag", "grad"])]
    assert len(meg) == 306 and (meg["coord_frame"] == "head").all()
    pos = meg[["x", "y", "z"]].to_numpy(dtype=float)
    center, radius = fit_sphere(pos)
    dist = np.linalg.norm(pos - center, axis=1)
    assert np.all((dist > 0.07) & (dist < 0.15)), (dist.min(), dist.max())
    normals = meg[["nx", "ny", "nz"]].to_numpy(dtype=float)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-6)
    radial = (pos - center) / dist[:, None]
    mags = (meg["type"] == "mag").to_numpy()
    cos = (normals[mags] * radial[mags]).sum(axis=1)
    assert np.all(cos > 0.7), cos.min()  # outward and close to radial


def test_planar_gradiometer_directions(neuromag):
    table = sensor_table(neuromag)
    grad = table[table["type"] == "grad"]
    g = grad[["gx", "gy", "gz"]].to_numpy(dtype=float)
    n = grad[["nx", "ny", "nz"]].to_numpy(dtype=float)
    np.testing.assert_allclose(np.linalg.norm(g, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(
        (g * n).sum(axis=1), 0.0, atol=2e-3
    )  # tangential (file geometry: |dot| < 8e-4)
    # the two gradiometers of a triplet (MEG xxx2, xxx3) share a position and measure orthogonal gradients
    by_name = grad.set_index("name")
    pairs = [(n2, n2[:-1] + "3") for n2 in by_name.index if n2.endswith("2")]
    assert len(pairs) == 102
    for a, b in pairs:
        np.testing.assert_allclose(
            by_name.loc[a, ["x", "y", "z"]].to_numpy(float), by_name.loc[b, ["x", "y", "z"]].to_numpy(float)
        )
        assert (
            abs(
                by_name.loc[a, ["gx", "gy", "gz"]].to_numpy(float)
                @ by_name.loc[b, ["gx", "gy", "gz"]].to_numpy(float)
            )
            < 1e-3
        )
    assert (table.loc[table["type"] == "mag", ["gx", "gy", "gz"]].to_numpy() == 0).all()


def test_meg_device_to_head_transform_applied(neuromag):
    table = sensor_table(neuromag).set_index("name")
    ch = neuromag.info["chs"][neuromag.ch_names.index("MEG 0111")]
    expected = mne.transforms.apply_trans(neuromag.info["dev_head_t"], ch["loc"][:3])
    np.testing.assert_allclose(table.loc["MEG 0111", ["x", "y", "z"]].to_numpy(float), expected, atol=1e-12)
    assert table.loc["MEG 0111", "coil_name"] == "FIFFV_COIL_VV_MAG_T3"
    eeg = table[table["type"] == "eeg"]
    assert len(eeg) == 60 and eeg["has_position"].all() and (eeg[["nx", "ny", "nz"]].to_numpy() == 0).all()


def test_meg_without_dev_head_t_says_so(data_root, caplog):
    raw = mne.io.read_raw_fif(data_root / "MEG/neuromag/test_elekta_3ch_raw.fif", verbose=False)
    assert raw.info["dev_head_t"] is None
    with caplog.at_level(logging.WARNING, logger="neurodec"):
        table = sensor_table(raw)
    meg = table[table["type"].isin(["mag", "grad"])]
    assert (meg["coord_frame"] == "meg").all() and meg["has_position"].all()
    assert any("device-to-head" in r.getMessage() for r in caplog.records)
    grad = meg[meg["type"] == "grad"]
    np.testing.assert_allclose(
        (grad[["gx", "gy", "gz"]].to_numpy() * grad[["nx", "ny", "nz"]].to_numpy()).sum(1), 0, atol=2e-3
    )


def test_kit_axial_gradiometers(data_root):
    kit = data_root / "MEG/kit"
    raw = mne.io.read_raw_kit(
        kit / "test.sqd",
        mrk=kit / "test_mrk.sqd",
        elp=kit / "test_elp.txt",
        hsp=kit / "test_hsp.txt",
        verbose=False,
    )
    table = sensor_table(raw)
    mag = table[table["type"] == "mag"]
    assert len(mag) == 157 and (mag["coord_frame"] == "head").all()
    assert (mag[["gx", "gy", "gz"]].to_numpy() == 0).all()  # axial: no planar gradient direction
    pos, normals = mag[["x", "y", "z"]].to_numpy(float), mag[["nx", "ny", "nz"]].to_numpy(float)
    center, radius = fit_sphere(pos)
    dist = np.linalg.norm(pos - center, axis=1)
    assert np.all((dist > 0.07) & (dist < 0.15))
    cos = (normals * (pos - center) / dist[:, None]).sum(axis=1)
    assert np.median(np.abs(cos)) > 0.8  # coils are oriented radially
    plain = sensor_table(mne.io.read_raw_kit(kit / "test.sqd", verbose=False))
    assert (
        plain.loc[plain["type"] == "mag", "coord_frame"] == "meg"
    ).all()  # identity transform: no head position
