"""Every file in the data root loads through read_recording, with the MANIFESTs' counts."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from neurodec.io import Recording, read_recording

pytestmark = pytest.mark.data


def _counts(rec: Recording) -> dict[str, int]:
    return dict(Counter(rec.raw.get_channel_types()))


def _check_common(rec: Recording) -> None:
    assert isinstance(rec, Recording)
    assert rec.events.ndim == 2 and rec.events.shape[1] == 3
    assert rec.events.dtype.kind == "i"
    assert len(rec.sensors) == len(rec.raw.ch_names)
    assert list(rec.sensors["name"]) == rec.raw.ch_names
    assert set(rec.event_id.values()) >= set(np.unique(rec.events[:, 2]).tolist())


def test_edf_plus(data_root):
    rec = read_recording(data_root / "formats/EDFplus/chtypes_edf.edf")
    _check_common(rec)
    assert rec.format == "edf"
    assert _counts(rec) == {"eeg": 42}
    assert rec.raw.info["sfreq"] == 200
    assert rec.raw.n_times == 1000
    assert len(rec.raw.annotations) == 8
    assert len(rec.events) == 8 and "starts turning head" in rec.event_id
    # 10-20 names inside "EEG Fp1-Ref" get standard positions; POL/ECG channels do not.
    table = rec.sensors.set_index("name")
    assert table.loc["EEG Fp1-Ref", "has_position"] and not table.loc["POL E", "has_position"]


def test_bdf_status_channel(data_root):
    rec = read_recording(data_root / "formats/BDF/test.bdf")
    _check_common(rec)
    assert _counts(rec) == {"eeg": 72, "stim": 1}
    assert rec.raw.info["sfreq"] == 2048
    np.testing.assert_array_equal(rec.events[:, [0, 2]], [[589, 128]])
    assert rec.event_id == {"128": 128}


def test_gdf_without_events(data_root):
    rec = read_recording(data_root / "formats/GDF/test_1ch.gdf")
    _check_common(rec)
    assert _counts(rec) == {"eeg": 1}
    assert rec.raw.info["sfreq"] == 150 and rec.raw.n_times == 4500
    assert rec.events.shape == (0, 3) and rec.event_id == {}


def test_brainvision_with_captrak_positions(data_root):
    folder = data_root / "formats/BrainVision"
    rec = read_recording(
        folder / "bv_dig_test.vhdr",
        ch_types={"ECG": "ecg", "HEOG": "eog", "VEOG": "eog"},
        montage=folder / "captrak_coords.bvct",
    )
    _check_common(rec)
    assert _counts(rec) == {"eeg": 64, "ecg": 1, "eog": 2}
    assert rec.raw.info["sfreq"] == 5000 and rec.raw.n_times == 5000
    eeg = rec.sensors[rec.sensors["type"] == "eeg"]
    assert eeg["has_position"].all() and (eeg["coord_frame"] == "head").all()
    radius = np.linalg.norm(eeg[["x", "y", "z"]].to_numpy() - [0, 0, 0.04], axis=1)
    assert np.all((radius > 0.05) & (radius < 0.15))
    assert not rec.sensors.set_index("name").loc["ECG", "has_position"]
    assert "Comment/ControlBox is not connected via USB" in rec.event_id


def test_eeglab_with_locs_names_and_positions(data_root):
    folder = data_root / "formats/EEGLAB"
    plain = read_recording(folder / "test_raw.set", montage=None)
    assert plain.raw.ch_names[0] == "EEG 000" and not plain.sensors["has_position"].any()
    rec = read_recording(folder / "test_raw.set", montage=folder / "test_chans.locs")
    _check_common(rec)
    assert rec.raw.ch_names[:3] == ["FPz", "EOG1", "F3"] and rec.raw.ch_names[-1] == "O2"
    assert _counts(rec) == {"eeg": 32}
    assert rec.raw.info["sfreq"] == 128 and rec.raw.n_times == 30504
    assert rec.event_counts == {"square": 80, "rt": 74}
    assert rec.sensors["has_position"].all()


def test_cnt_falls_back_to_int16(data_root):
    rec = read_recording(
        data_root / "formats/CNT/scan41_short.cnt", ch_types={"NA1": "misc", "LEFT_EAR": "misc"}
    )
    _check_common(rec)
    assert _counts(rec) == {"eeg": 124, "eog": 2, "misc": 2}
    assert rec.raw.info["sfreq"] == 400 and rec.raw.n_times == 3070
    assert rec.event_counts == {"7": 3, "109": 2, "0": 1}
    assert {"LEFT_EAR", "VEOGR"} <= set(rec.raw.info["bads"])


def test_bids_eeg_root_with_entities(data_root):
    rec = read_recording(data_root / "formats/BIDS_EEG", subject="01", task="attention")
    _check_common(rec)
    assert rec.format == "bids"
    assert _counts(rec) == {"eeg": 30, "eog": 2}
    assert rec.raw.n_times == 238 * 128
    assert rec.event_counts == {"square": 80, "rt": 74}
    assert int(rec.sensors["has_position"].sum()) == 30


def test_bids_eeg_file_inside_tree(data_root):
    rec = read_recording(data_root / "formats/BIDS_EEG/sub-01/eeg/sub-01_task-attention_eeg.edf")
    assert rec.format == "bids" and _counts(rec) == {"eeg": 30, "eog": 2}
    plain = read_recording(
        data_root / "formats/BIDS_EEG/sub-01/eeg/sub-01_task-attention_eeg.edf", bids=False, montage=None
    )
    assert plain.format == "edf" and _counts(plain) == {"eeg": 32}


def test_neuromag_sss_306(data_root):
    rec = read_recording(data_root / "MEG/neuromag/sample_audvis_trunc_raw_sss.fif")
    _check_common(rec)
    assert _counts(rec) == {"grad": 204, "mag": 102, "eeg": 60, "stim": 9, "eog": 1}
    assert rec.events.shape == (0, 3)  # stim channels all zero in this 1-s window
    assert rec.raw.info["bads"] == []  # zero stim lines are not "flat channels"
    meg = rec.sensors[rec.sensors["type"].isin(["mag", "grad"])]
    assert (meg["coord_frame"] == "head").all()


def test_triux_3ch_events(data_root):
    rec = read_recording(data_root / "MEG/neuromag/test_elekta_3ch_raw.fif")
    _check_common(rec)
    assert _counts(rec) == {"mag": 1, "grad": 2, "stim": 1}
    assert len(rec.events) == 162
    assert rec.event_counts == {"1": 26, "2": 25, "4": 18, "8": 16, "16": 19, "32": 22, "64": 17, "128": 19}


def test_kit_with_marker_and_digitiser_files(data_root):
    kit = data_root / "MEG/kit"
    rec = read_recording(
        kit / "test.sqd",
        mrk=kit / "test_mrk.sqd",
        elp=kit / "test_elp.txt",
        hsp=kit / "test_hsp.txt",
        stim=list(range(167, 159, -1)),
        slope="+",
        stimthresh=1,
    )
    _check_common(rec)
    assert _counts(rec) == {"mag": 157, "ref_meg": 3, "misc": 32, "stim": 1}
    np.testing.assert_array_equal(rec.events[:, [0, 2]], [[269, 128], [1552, 128]])
    reference = np.loadtxt(kit / "test-eve.txt", dtype=int)  # MNE's own list (first_samp offset 10)
    np.testing.assert_array_equal(rec.events[:, 2], reference[:, 2])
    assert (rec.sensors.loc[rec.sensors["type"] == "mag", "coord_frame"] == "head").all()


def test_ieeg_seeg_from_bids_sidecars(data_root):
    rec = read_recording(data_root / "iEEG/sub-01/ieeg/sub-01_task-clinical_ieeg.edf")
    _check_common(rec)
    assert _counts(rec) == {"seeg": 88, "misc": 8, "ecg": 2}
    assert rec.raw.info["sfreq"] == 1000
    seeg = rec.sensors[rec.sensors["type"] == "seeg"]
    assert seeg["has_position"].all() and len(seeg) == 88
    assert (seeg[["nx", "ny", "nz"]].to_numpy() == 0).all()
    assert rec.event_counts == {"test annotation": 2, "test mark": 1}


def test_ieeg_ecog_from_bids_sidecars(data_root):
    rec = read_recording(data_root / "iEEG/sub-02/ieeg/sub-02_task-clinical_ieeg.edf")
    _check_common(rec)
    assert _counts(rec) == {"ecog": 76, "ecg": 2}
    assert rec.raw.info["sfreq"] == pytest.approx(999.4121, abs=1e-3)
    ecog = rec.sensors[rec.sensors["type"] == "ecog"]
    assert int(ecog["has_position"].sum()) == 64
    assert (ecog.loc[ecog["has_position"], "coord_frame"] == "unknown").all()
    assert rec.event_counts == {"eeg sz start": 1}


def test_ieeg_explicit_tsvs_match_bids(data_root):
    """Generic-EEG EDF + explicit electrodes=/ch_types= gives what the BIDS reader gives."""
    folder = data_root / "iEEG/sub-01/ieeg"
    rec = read_recording(
        folder / "sub-01_task-clinical_ieeg.edf",
        bids=False,
        ch_types=folder / "sub-01_task-clinical_channels.tsv",
        electrodes=folder / "sub-01_space-fsaverage_electrodes.tsv",
    )
    bids = read_recording(folder / "sub-01_task-clinical_ieeg.edf")
    assert rec.format == "edf"
    assert _counts(rec) == {"seeg": 88, "misc": 8, "ecg": 2}
    a = rec.sensors.set_index("name")[["x", "y", "z"]]
    b = bids.sensors.set_index("name")[["x", "y", "z"]]
    np.testing.assert_allclose(a.to_numpy(dtype=float), b.loc[a.index].to_numpy(dtype=float), atol=1e-9)
    # and the TSV values themselves (metres)
    import pandas as pd

    tsv = pd.read_csv(folder / "sub-01_space-fsaverage_electrodes.tsv", sep="\t").set_index("name")
    np.testing.assert_allclose(
        a.loc[tsv.index].to_numpy(dtype=float), tsv[["x", "y", "z"]].to_numpy(), atol=1e-9
    )


def test_ieeg_ecog_explicit_tsvs(data_root):
    folder = data_root / "iEEG/sub-02/ieeg"
    rec = read_recording(
        folder / "sub-02_task-clinical_ieeg.edf",
        bids=False,
        ch_types=folder / "sub-02_task-clinical_channels.tsv",
        electrodes=folder / "sub-02_space-Other_electrodes.tsv",
    )
    assert _counts(rec) == {"ecog": 76, "ecg": 2}
    ecog = rec.sensors[rec.sensors["type"] == "ecog"]
    assert int(ecog["has_position"].sum()) == 64
    assert set(ecog.loc[~ecog["has_position"], "name"].str[:3]) == {"BTM", "BTP"}


def test_physionetmi_edf(data_root):
    path = data_root / "PhysionetMI/MNE-eegbci-data/files/eegmmidb/1.0.0/S001/S001R04.edf"
    rec = read_recording(path)
    _check_common(rec)
    assert _counts(rec) == {"eeg": 64}
    assert rec.raw.info["sfreq"] == 160
    assert rec.event_counts == {"T0": 15, "T1": 8, "T2": 7}
    assert rec.sensors["has_position"].all()  # standard_1005 from the dotted names


def test_muse_csv_dispatch(data_root):
    pytest.importorskip("neurodec.io.muse", reason="neurodec.io.muse (muse-lsl CSV reader) not written yet")
    files = sorted((data_root / "EEGNotebooks_VisualP300").rglob("*.csv*"))
    assert files, "no muse CSV in the data root"
    rec = read_recording(files[0])
    assert rec.format == "muse_csv"
    assert "stim" in rec.raw.get_channel_types()
    assert len(rec.events) > 0 and set(np.unique(rec.events[:, 2])) <= {1, 2}
