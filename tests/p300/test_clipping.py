"""The clipping rule: an epoch with a sample on the Muse's rails is rejected,
identically offline (neurodec.quality) and in the evaluation (neurodec's and
MOABB's P300 paradigms on ``annotate_clipping=True``)."""

from __future__ import annotations

import numpy as np
import pytest
from moabb.paradigms import P300 as MoabbP300

from neurodec.datasets import get_dataset
from neurodec.errors import InvalidInputError
from neurodec.paradigms import P300
from neurodec.quality import clipped_epochs, clipped_samples, clipped_spans, clipping_report

from .conftest import CLIPPED_RUN, NAME, copy_run, place, synthetic_run


def test_rails_flagged_and_nothing_else():
    data = np.array([[0.0, -1000.0, 999.0, 10.0, 10.0], [0.0, 0.0, 0.0, 999.51171875, -999.4]])
    np.testing.assert_array_equal(clipped_samples(data), [False, True, False, True, False])
    np.testing.assert_array_equal(clipped_spans([0, 1, 1, 0, 1]), [[1, 3], [4, 5]])
    with pytest.raises(InvalidInputError, match="n_channels, n_times"):
        clipped_samples(np.zeros(5))
    with pytest.raises(InvalidInputError, match="positive"):
        clipped_samples(np.zeros((1, 5)), limit=0)


def test_epoch_windows_include_both_ends_and_stop_at_the_data():
    mask = np.zeros(100, bool)
    mask[50] = True
    events = np.array([10, 30, 40, 50, 51, 95])
    np.testing.assert_array_equal(
        clipped_epochs(mask, events, 0, 10), [False, False, True, True, False, False]
    )
    with pytest.raises(InvalidInputError, match="ends"):
        clipped_epochs(mask, events, 5, 2)


def _both_paradigms(dataset, subject):
    nd = P300().get_data(dataset, subjects=[subject])
    mo = MoabbP300().get_data(dataset, subjects=[subject])
    return nd, mo


def test_synthetic_run_same_epochs_rejected_offline_and_in_both_paradigms(tmp_root):
    # markers every 150 samples from 64; an epoch spans 206 samples, so a rail
    # sample at 524 lies in the epochs of the events at 364 and 514
    place(tmp_root, 4, 1, "data_2018-04-22-21.41.19.csv", synthetic_run(clip_at=(524,)))
    flagged = get_dataset(NAME, data_root=tmp_root, annotate_clipping=True)
    plain = get_dataset(NAME, data_root=tmp_root)
    report = clipping_report(flagged, subjects=[4])
    assert report["clipped_epochs"].tolist() == [2] and report["channels"].tolist() == ["AF7"]
    (Xn, yn, mn), (Xm, ym, mm) = _both_paradigms(flagged, 4)
    X0, _, _ = P300().get_data(plain, subjects=[4])
    assert len(X0) - len(Xn) == 2
    np.testing.assert_allclose(Xn, Xm, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(yn, ym)
    # the two epochs that touch the clipped sample are the ones missing
    keep = ~clipped_epochs(np.isin(np.arange(7680), [524]), np.arange(64, 7680 - 300, 150), 0, 205)
    np.testing.assert_allclose(Xn, X0[keep[: len(X0)]])


@pytest.mark.data
def test_real_saturated_run_rejected_identically(data_root, tmp_root):
    """subject5/session1 20.33.55 (MANIFEST caveat: saturation) copied as a
    one-run dataset: 19 rail samples on AF7 touch 12 epochs."""
    copy_run(data_root, CLIPPED_RUN, tmp_root, subject=4, session=1)
    # subject 4's own run is not there (a subject 5 run stands in): allow it
    flagged = get_dataset(NAME, data_root=tmp_root, annotate_clipping=True, allow_missing_runs=True)
    report = clipping_report(flagged, subjects=[4])
    assert report.loc[0, "clipped_samples"] == 19 and report.loc[0, "channels"] == "AF7"
    assert report.loc[0, "clipped_epochs"] == 12
    (Xn, yn, _), (Xm, ym, _) = _both_paradigms(flagged, 4)
    X0, _, _ = P300().get_data(get_dataset(NAME, data_root=tmp_root, allow_missing_runs=True), subjects=[4])
    assert len(X0) - len(Xn) == 12
    assert Xn.shape == Xm.shape
    np.testing.assert_allclose(Xn, Xm, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(yn, ym)
    # exactly the epochs whose window holds a rail sample are gone
    import mne

    raw = flagged.get_data(subjects=[4])[4]["0"]["0"]
    events = mne.find_events(raw, shortest_event=0, verbose=False)
    mask = clipped_samples(raw.get_data(picks="eeg") * 1e6)
    hit = clipped_epochs(mask, events[:, 0] - raw.first_samp, 0, 205)[: len(X0)]
    np.testing.assert_allclose(Xn, X0[~hit])


def test_report_rejects_unknown_subject(tmp_root):
    place(tmp_root, 4, 1, "data_2018-04-22-21.41.19.csv", synthetic_run(n=1536))
    with pytest.raises(InvalidInputError, match="9"):
        clipping_report(get_dataset(NAME, data_root=tmp_root), subjects=[9])
