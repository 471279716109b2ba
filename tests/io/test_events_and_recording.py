"""Events from stim channels or annotations; the Recording container (synthetic files)."""

from __future__ import annotations

import mne
import numpy as np

from neurodec.io import Recording, read_recording
from neurodec.io.events import extract_events, pick_trigger_channel
from tests.io.conftest import make_raw


def _with_stim(raw: mne.io.BaseRaw, name: str = "STI 014") -> mne.io.BaseRaw:
    stim = np.zeros((1, raw.n_times))
    stim[0, [50, 51, 200]] = [3, 3, 7]  # a 2-sample event then a 1-sample event
    stim[0, 400] = 3
    info = mne.create_info([name], raw.info["sfreq"], "stim")
    raw.add_channels([mne.io.RawArray(stim, info, verbose=False)], force_update_info=True)
    return raw


def test_events_from_stim_channel(write_fif):
    rec = read_recording(write_fif(_with_stim(make_raw())))
    np.testing.assert_array_equal(rec.events, [[50, 0, 3], [200, 0, 7], [400, 0, 3]])
    assert rec.event_id == {"3": 3, "7": 7}
    assert rec.event_counts == {"3": 2, "7": 1}
    assert rec.raw.info["bads"] == []  # the stim line is not a "flat channel"


def test_events_from_annotations_when_no_stim(write_fif):
    raw = make_raw()
    raw.set_annotations(
        mne.Annotations([0.5, 1.5, 2.5, 3.0], [0, 0, 0, 0.5], ["left", "right", "left", "BAD_seg"])
    )
    rec = read_recording(write_fif(raw))
    assert rec.event_counts == {"left": 2, "right": 1}  # BAD annotations are not events
    assert rec.events[:, 0].tolist() == [50, 150, 250]


def test_annotations_used_when_stim_channel_is_empty():
    raw = make_raw()
    raw.add_channels(
        [
            mne.io.RawArray(
                np.zeros((1, raw.n_times)), mne.create_info(["TRIG"], 100.0, "stim"), verbose=False
            )
        ],
        force_update_info=True,
    )
    raw.set_annotations(mne.Annotations([1.0], [0], ["go"]))
    events, event_id = extract_events(raw)
    assert event_id == {"go": 1} and events[:, 0].tolist() == [100]


def test_no_events():
    events, event_id = extract_events(make_raw())
    assert events.shape == (0, 3) and events.dtype.kind == "i" and event_id == {}


def test_trigger_channel_preference():
    raw = _with_stim(_with_stim(make_raw(), "STI 001"), "STI 014")
    assert pick_trigger_channel(raw) == "STI 014"
    assert pick_trigger_channel(make_raw()) is None


def test_recording_contents(write_fif):
    path = write_fif(make_raw())
    rec = read_recording(path)
    assert isinstance(rec, Recording)
    assert rec.path == path and rec.format == "fif"
    assert rec.channel_counts == {"eeg": 4}
    assert rec.raw.preload
    assert rec.sensors["has_position"].all()  # 'auto' montage: standard_1005 names
    assert "4 eeg" in repr(rec) and "fif" in repr(rec)
    lazy = read_recording(path, preload=False, montage=None)
    assert not lazy.raw.preload and not lazy.sensors["has_position"].any()


def test_montage_options(write_fif):
    path = write_fif(make_raw())
    assert read_recording(path, montage=None).sensors["has_position"].sum() == 0
    assert read_recording(path, montage="standard_1020").sensors["has_position"].all()
    mont = mne.channels.make_dig_montage(
        ch_pos={"Fz": [0, 0.07, 0.06], "Cz": [0, 0, 0.095]}, coord_frame="head"
    )
    table = read_recording(path, montage=mont).sensors.set_index("name")
    assert table.loc["Cz", "z"] == 0.095 and not table.loc["Pz", "has_position"]
