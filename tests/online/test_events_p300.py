"""Event-locked decoding of the real Muse P300 recordings (EEGNotebooks_VisualP300), pseudo-online."""

from __future__ import annotations

import numpy as np
import pytest

SESSION = "EEGNotebooks_VisualP300/subject1/session1"
SFREQ, N_TIMES, BAND = 256.0, 206, (1.0, 24.0)  # the P300 paradigm of the dataset: 1-24 Hz, 0-0.8 s


def _run(path):
    import mne

    from neurodec.io import read_recording

    raw = read_recording(path).raw
    events = mne.find_events(raw, shortest_event=1, verbose=False)
    events = events[np.isin(events[:, 2], [1, 2])]
    data = raw.get_data(picks=["TP9", "AF7", "AF8", "TP10"])
    onsets = events[:, 0] - raw.first_samp
    keep = onsets + N_TIMES <= data.shape[1]
    labels = np.where(events[keep, 2] == 2, "Target", "NonTarget")
    return data, onsets[keep], labels


@pytest.mark.data
def test_p300_decoder_file_replayed_event_locked_scores_as_offline(tmp_path, data_root):
    from pyriemann.estimation import XdawnCovariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline

    from neurodec.online import load_decoder, save_decoder
    from neurodec.online.causal import causal_filter
    from neurodec.online.events import replay_events

    files = sorted((data_root / SESSION).glob("data_*.csv.gz"))
    assert len(files) == 6

    def epochs(data, onsets):
        filtered = causal_filter(data * 1e6, SFREQ, *BAND)  # as the stream filters it
        return np.stack([filtered[:, o : o + N_TIMES] for o in onsets])

    Xs, ys = [], []
    for path in files[:3]:  # training runs
        data, onsets, labels = _run(path)
        Xs.append(epochs(data, onsets))
        ys.append(labels)
    est = make_pipeline(
        XdawnCovariances(nfilter=2, estimator="oas", xdawn_estimator="scm"),
        TangentSpace(),
        LogisticRegression(max_iter=1000),
    ).fit(np.concatenate(Xs), np.concatenate(ys))
    path = save_decoder(
        tmp_path / "p300.ndec",
        est,
        {"name": "P300", "fmin": BAND[0], "fmax": BAND[1], "tmin": 0.0, "tmax": 0.8},
        ["TP9", "AF7", "AF8", "TP10"],
        SFREQ,
        n_times=N_TIMES,
    )
    decoder = load_decoder(path).event_locked(scale=1e6)  # the replayed run is in volts

    data, onsets, labels = _run(files[5])  # a held-out run, markers 40 ms behind the signal
    out = replay_events(decoder, data, onsets, labels, chunk_size=12, delay=0.04)
    assert len(out) == len(onsets) and [d.onset for d in out] == onsets.tolist()
    ok = np.array([d.ok for d in out])
    assert {d.quality for d in out if not d.ok} <= {"settling"} and ok.sum() >= len(out) - 3
    online = roc_auc_score(labels[ok] == "Target", [d.probabilities[1] for d in np.array(out)[ok]])
    offline_scores = est.predict_proba(epochs(data, onsets[ok]))[:, 1]
    offline = roc_auc_score(labels[ok] == "Target", offline_scores)
    assert online == pytest.approx(offline, abs=1e-9)  # the same epochs, decoded live
    np.testing.assert_allclose([d.probabilities[1] for d in np.array(out)[ok]], offline_scores, rtol=1e-8)
    assert online > 0.65  # and the P300 is decoded
