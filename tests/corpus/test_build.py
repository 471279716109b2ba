"""Building a corpus: manifest, shards, sensor tables, resume after a crash, option checks,
and real files (folder, BIDS, registry dataset)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import neurodec.corpus.build as build_module
from neurodec.corpus import Corpus, PreprocessOptions, build_corpus, preprocess_raw, to_windows
from neurodec.errors import ConfigError, DataNotFoundError
from tests.corpus.conftest import simulated


def test_manifest_describes_every_recording(small_corpus):
    rec = small_corpus.recordings.sort_values(["source", "subject"]).reset_index(drop=True)
    assert rec["source"].tolist() == ["SimulatedMI", "SimulatedMI", "SimulatedMI-meg", "SimulatedMI-seeg"]
    assert rec["modality"].tolist() == ["eeg", "eeg", "meg", "seeg"]
    assert rec["subject"].tolist() == ["1", "2", "1", "1"]
    assert rec["session"].tolist() == ["0"] * 4 and rec["run"].tolist() == ["0"] * 4
    assert rec["n_channels"].tolist() == [32, 32, 306, 64]
    assert rec["n_windows"].between(14, 15).all()  # ~30 s of data per run -> whole 2-s windows
    assert small_corpus.n_windows == rec["n_windows"].sum() and len(small_corpus) == 4
    assert sorted(small_corpus.select(modalities="meg")) == small_corpus.select(sources="SimulatedMI-meg")
    assert len(small_corpus.select(subjects=[2])) == 1
    header = json.loads((small_corpus.path / "corpus.json").read_text())
    assert header["options"]["sfreq"] == 256.0 and header["dtype"] == "float16"


def test_windows_and_sensor_tables_match_preprocessing(small_corpus):
    rid = small_corpus.select(sources="SimulatedMI-meg")[0]
    shards = small_corpus.shards(rid)
    assert all(isinstance(s, np.memmap) and s.dtype == np.float16 for s in shards)
    raw = simulated("meg").get_data(subjects=[1])[1]["0"]["0"]
    pre = preprocess_raw(raw)
    expected = to_windows(pre.data, 512)
    np.testing.assert_allclose(small_corpus.windows(rid), expected, atol=2e-3 * np.abs(expected).max())
    table = small_corpus.sensors(rid)
    pd.testing.assert_frame_equal(
        table[["name", "type", "xn", "nx", "gx"]], pre.sensors[["name", "type", "xn", "nx", "gx"]]
    )
    entry = small_corpus.entry(rid)
    assert entry["channel_types"] == {"grad": 204, "mag": 102}
    np.testing.assert_allclose(np.array(entry["scales"], dtype=float), pre.scales)


def test_shards_split_long_recordings(tmp_path):
    corpus = build_corpus(tmp_path / "c", simulated("seeg"), shard_windows=4, progress=False)
    rid = corpus.select()[0]
    assert [s["n_windows"] for s in corpus.entry(rid)["shards"]] == [4, 4, 4, 2]
    assert corpus.windows(rid).shape == (14, 64, 512)


def test_killed_build_resumes_where_it_stopped(tmp_path, monkeypatch):
    sources = [simulated("eeg", 3, n_eeg_channels=32)]
    straight = build_corpus(tmp_path / "straight", sources, progress=False)

    calls = []
    real_run = build_module._run_job

    def crash_on_second(out, job, options, shard_windows):
        calls.append(job.description)
        if len(calls) == 2:
            raise KeyboardInterrupt  # killed while the second subject is written
        return real_run(out, job, options, shard_windows)

    monkeypatch.setattr(build_module, "_run_job", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        build_corpus(tmp_path / "resumed", sources, progress=False)
    assert len(Corpus(tmp_path / "resumed")) == 1  # the manifest only lists finished jobs
    calls.clear()
    monkeypatch.setattr(build_module, "_run_job", lambda *a: calls.append(a[1].description) or real_run(*a))
    resumed = build_corpus(tmp_path / "resumed", sources, progress=False)
    assert calls == ["SimulatedMI subject 2", "SimulatedMI subject 3"]  # subject 1 not redone
    assert sorted(resumed.entries) == sorted(straight.entries)
    for rid in straight.entries:
        np.testing.assert_array_equal(resumed.windows(rid), straight.windows(rid))
    calls.clear()
    build_corpus(tmp_path / "resumed", sources, progress=False)
    assert calls == []  # nothing left to do


def test_other_options_in_the_same_folder_are_refused(tmp_path):
    out = tmp_path / "c"
    build_corpus(out, simulated("seeg"), progress=False)
    with pytest.raises(ConfigError, match="other settings.*'window_s': \\(2.0, 4.0\\)"):
        build_corpus(out, simulated("seeg"), options=PreprocessOptions(window_s=4.0), progress=False)
    corpus = build_corpus(
        out, simulated("seeg"), options=PreprocessOptions(window_s=4.0), overwrite=True, progress=False
    )
    assert corpus.options.window_s == 4.0 and corpus.n_windows == 7
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    with pytest.raises(ConfigError, match="not a corpus folder"):
        build_corpus(tmp_path / "other", simulated("seeg"), progress=False)
    with pytest.raises(DataNotFoundError, match="not a corpus"):
        Corpus(tmp_path)


@pytest.mark.data
def test_real_bids_ieeg_and_meg_folder(tmp_path, data_root):
    corpus = build_corpus(tmp_path / "c", [data_root / "iEEG", data_root / "MEG"], progress=False)
    rec = corpus.recordings.set_index("path")
    seeg = rec.loc[str(data_root / "iEEG/sub-01/ieeg/sub-01_task-clinical_ieeg.edf")]
    ecog = rec.loc[str(data_root / "iEEG/sub-02/ieeg/sub-02_task-clinical_ieeg.edf")]
    assert (seeg["modality"], seeg["subject"], seeg["n_channels"], seeg["n_windows"]) == (
        "seeg",
        "01",
        88,
        10,
    )
    assert (ecog["modality"], ecog["subject"], ecog["n_channels"]) == (
        "ecog",
        "02",
        64,
    )  # strips have no position
    kit = rec.loc[str(data_root / "MEG/kit/test.sqd")]
    assert (kit["modality"], kit["subject"], kit["n_channels"], kit["n_windows"]) == ("meg", "kit", 157, 1)
    jobs = [json.loads(p.read_text()) for p in (corpus.path / "jobs").glob("*.json")]
    skipped = [s["why"] for j in jobs for s in j["skipped"]]
    assert any("shorter than one 2-s window (1.00 s)" in why for why in skipped)  # the 1-s SSS file


@pytest.mark.data
def test_registry_dataset_source(tmp_path, data_root):
    corpus = build_corpus(
        tmp_path / "c", {"dataset": "PhysionetMI", "subjects": [1]}, data_root=data_root, progress=False
    )
    rec = corpus.recordings
    assert len(rec) == 3 and set(rec["modality"]) == {"eeg"} and (rec["n_channels"] == 64).all()
    assert set(rec["subject"]) == {"1"} and sorted(rec["run"]) == ["0", "1", "2"]
    assert (rec["n_windows"] == 62).all()  # 125 s per run


def test_a_changed_recording_replaces_its_older_version(tmp_path, caplog):
    """The same file rewritten (or a subject read again from changed files) is built again and
    replaces the older version: the corpus never holds a recording twice."""
    raw = simulated("eeg", n_eeg_channels=32).get_data([1])[1]
    raw = next(iter(next(iter(raw.values())).values()))
    path = tmp_path / "rec_raw.fif"
    raw.save(path, verbose="error")
    first = build_corpus(tmp_path / "c", path, progress=False)
    (old_id,) = first.select()
    raw.copy().crop(tmax=raw.times[-1] / 2).save(path, overwrite=True, verbose="error")
    with caplog.at_level("INFO", logger="neurodec.corpus.build"):
        again = build_corpus(tmp_path / "c", path, progress=False)
    (new_id,) = again.select()
    assert new_id != old_id and not (tmp_path / "c" / "recordings" / old_id).exists()
    assert again.entry(new_id)["n_windows"] < first.entry(old_id)["n_windows"]
    assert len(list((tmp_path / "c" / "jobs").glob("*.json"))) == 1
    assert "changed since it was added" in caplog.text
    # another source (another modality) is another identity: both stay
    both = build_corpus(tmp_path / "c", [path, simulated("seeg")], progress=False)
    assert len(both.select()) == 2
