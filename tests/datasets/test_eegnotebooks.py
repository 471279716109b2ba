"""EEGNotebooks_VisualP300: layout, sessions, options, and MOABB's P300 tools accepting it."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from moabb.paradigms import P300

from neurodec.datasets import get_dataset
from neurodec.datasets.eegnotebooks import EEGNotebooks_VisualP300
from neurodec.errors import DataNotFoundError, InvalidInputError
from tests.datasets._muse_factory import HEADER_2018, muse_rows, muse_text, write_muse

NAME = "EEGNotebooks_VisualP300"
# MANIFEST: runs per session, sessions in date order.
RUNS = {1: [6, 5, 5], 2: [5, 3], 3: [5, 6, 4], 4: [1], 5: [5]}


def _fake_subject(root, subject, sessions, clip=False, seed=0):
    """Synthetic muse files in the dataset's layout: sessions = {folder: [file names]}."""
    for k, (folder, names) in enumerate(sessions.items()):
        for j, name in enumerate(names):
            times, data, markers = muse_rows(n=3072, t0=1000.0 + 200 * j, seed=seed + 10 * k + j)
            if clip:
                data[1000:1010, 1] = -1000.0
            text = muse_text(times, data, markers, header=HEADER_2018)
            write_muse(root / NAME / f"subject{subject}" / folder / name, text)


# ----------------------------------------------------------------- real data
@pytest.mark.data
def test_sessions_and_runs_as_manifest(data_root):
    ds = get_dataset(NAME, data_root=data_root)
    assert ds.local_subjects() == [1, 2, 3, 4, 5]
    for subject, runs in RUNS.items():
        folders = ds.session_folders(subject)
        assert [f.name for f in folders] == [f"session{i + 1}" for i in range(len(runs))]
        assert len(ds.expected_files(subject)) == sum(runs)


@pytest.mark.data
def test_get_data_two_sessions_in_date_order(data_root):
    ds = get_dataset(NAME, data_root=data_root)
    data = ds.get_data([2])
    assert list(data[2]) == ["0", "1"]
    assert [len(runs) for runs in data[2].values()] == RUNS[2]
    first, second = data[2]["0"]["0"], data[2]["1"]["0"]
    assert first.info["meas_date"].year == 2017 and second.info["meas_date"].year == 2018
    assert len(mne.pick_types(first.info, eeg=True)) == 4


@pytest.mark.data
def test_moabb_p300_paradigm_accepts_real_data(data_root):
    ds = get_dataset(NAME, data_root=data_root)
    X, y, meta = P300().get_data(ds, [4])
    # subject 4: one 60-s run with 82 non-target / 12 target markers (MANIFEST);
    # epochs whose [0, 0.8] s window passes the end of the run are dropped by MOABB.
    raw = ds.get_data([4])[4]["0"]["0"]
    events = mne.find_events(raw, shortest_event=1, verbose=False)
    fits = events[:, 0] + 0.8 * 256 < raw.n_times
    assert X.shape[:2] == (fits.sum(), 4)
    assert (y == "Target").sum() == ((events[:, 2] == 2) & fits).sum() == 12
    assert set(meta["session"]) == {"0"} and set(meta["run"]) == {"0"}


@pytest.mark.data
def test_oz_electrode_option(data_root):
    ds = get_dataset(NAME, data_root=data_root, oz_electrode=True, subjects=[3])
    data = ds.get_data([3])
    third = data[3]["2"]["0"]
    assert "Oz" in third.ch_names and third.get_channel_types(picks=["Oz"]) == ["eeg"]
    assert "Right AUX" in data[3]["0"]["0"].ch_names  # other sessions keep AUX as misc
    default = get_dataset(NAME, data_root=data_root)
    assert default.oz_electrode is False


# ----------------------------------------------------------------- synthetic layout
def test_p300_and_clipping_on_synthetic_layout(tmp_path):
    _fake_subject(tmp_path, 4, {"session1": ["data_2018-04-22-21.41.19.csv"]}, clip=True)
    plain = get_dataset(NAME, data_root=tmp_path, subjects=[4])
    X, y, meta = P300().get_data(plain, [4])
    flagged = get_dataset(NAME, data_root=tmp_path, subjects=[4], annotate_clipping=True)
    raw = flagged.get_data([4])[4]["0"]["0"]
    assert list(raw.annotations.description).count("BAD_clipping") == 1
    Xf, yf, _ = P300().get_data(flagged, [4])
    # epochs overlapping samples 1000-1009 ([0, 0.8] s windows) are rejected
    assert 0 < len(yf) < len(y)
    assert X.shape[1:] == Xf.shape[1:] and X.shape[1] == 4
    assert plain.fingerprint() != flagged.fingerprint()


def _flatten(X):
    return X.reshape(len(X), -1)


def test_moabb_cross_session_evaluation_accepts_it(tmp_path):
    from moabb.evaluations import CrossSessionEvaluation
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    _fake_subject(
        tmp_path,
        2,
        {"session1": ["data_2017-02-09-18.12.53.csv"], "session2": ["data_2018-05-04-01.50.45.csv"]},
    )
    # one run per session of the real 5 and 3: read what is there
    ds = get_dataset(NAME, data_root=tmp_path, subjects=[2], allow_missing_runs=True)
    flat = FunctionTransformer(_flatten)
    evaluation = CrossSessionEvaluation(
        paradigm=P300(resample=64), datasets=[ds], overwrite=True, hdf5_path=str(tmp_path / "res")
    )
    results = evaluation.process({"LDA": make_pipeline(flat, LinearDiscriminantAnalysis())})
    assert sorted(results["session"]) == ["0", "1"]
    assert np.isfinite(results["score"]).all()


def test_session_order_follows_dates_not_folder_names(tmp_path):
    _fake_subject(
        tmp_path,
        1,
        {
            "session1": ["data_2017-02-09-17.13.56.csv"],
            "session2": ["data_2017-02-04-15_45_13.csv", "data_2017-02-04-15_47_49.csv"],
            "session3": ["data_2017-02-11-14.43.43.csv"],
        },
    )
    ds = EEGNotebooks_VisualP300(data_root=tmp_path)
    assert [f.name for f in ds.session_folders(1)] == ["session2", "session1", "session3"]
    assert [p.name for p in ds.expected_files(1)][:2] == [
        "data_2017-02-04-15_45_13.csv",
        "data_2017-02-04-15_47_49.csv",
    ]


def test_missing_session_folder(tmp_path):
    _fake_subject(tmp_path, 2, {"session1": ["data_2017-02-09-18.12.53.csv"]})
    ds = get_dataset(NAME, data_root=tmp_path)
    with pytest.raises(DataNotFoundError, match="subject 2 should have 2 session folder"):
        ds.get_data([2])


def test_missing_subject_folder_names_expected_path(tmp_path):
    ds = get_dataset(NAME, data_root=tmp_path)
    with pytest.raises(DataNotFoundError, match=r"subject5/session\*/data_\*\.csv\.gz"):
        ds.get_data([5])


def test_subject_out_of_range(tmp_path):
    ds = get_dataset(NAME, data_root=tmp_path)
    with pytest.raises(InvalidInputError, match=r"\[6\] do not exist.*1\.\.5"):
        ds.get_data([6])


def test_descriptor_drives_attributes():
    ds = EEGNotebooks_VisualP300(data_root="/nonexistent")
    assert ds.paradigm == "p300"
    assert ds.event_id == {"NonTarget": 1, "Target": 2}
    assert ds.interval == [0.0, 0.8]
    assert ds.sessions_per_subject == {1: 3, 2: 2, 3: 3, 4: 1, 5: 1}
    assert P300().is_valid(ds)
