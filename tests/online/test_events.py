"""EventLockedDecoder: one decision per marker, whenever the marker comes (no transport)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from neurodec.errors import InvalidInputError
from neurodec.online import EventDecision, EventLockedDecoder
from neurodec.online.filters import causal_bandpass_sos, initial_state
from tests.online._estimators import recorder

SFREQ = 100.0
CH = ["C3", "Cz", "C4", "Pz"]
N = 50  # samples per epoch


def _decoder(est=None, **kw):
    kw = {"window": N / SFREQ, "tmin": -0.1, "sfreq": SFREQ, "ch_names": CH, "fmin": 1, "fmax": 20, **kw}
    return EventLockedDecoder(est if est is not None else recorder(len(CH), N), **kw)


def _signal(n, seed=0):
    return np.random.default_rng(seed).standard_normal((len(CH), n)) * 3 + 20


def _filtered(x):
    sos = causal_bandpass_sos(1, 20, SFREQ)
    return signal.sosfilt(sos, x, axis=-1, zi=initial_state(sos, x[:, 0]))[0]


def _push(dec, x, ts=None, chunk=7, start=0):
    out = []
    for i in range(start, x.shape[1], chunk):
        out += dec.push(x[:, i : i + chunk], None if ts is None else ts[i : i + chunk])
    return out


ONSETS = [400, 470, 555, 700]  # samples (after the filter has settled)


@pytest.mark.parametrize("when", ["before", "after", "interleaved"])
def test_each_marker_decodes_the_causally_filtered_epoch_from_tmin(when):
    x = _signal(900)
    dec = _decoder(max_delay=6.0)  # the last data come 5 s after the first epoch
    assert dec.n_window == N and dec.n_offset == -10
    times = [o / SFREQ + 0.002 for o in ONSETS]  # a little off the sample: the nearest one is the onset
    if when == "before":
        assert all(dec.push_marker(t, "T") == [] for t in times)
        out = _push(dec, x)
    elif when == "after":  # markers come once all the data is in: decoded by push_marker itself
        assert _push(dec, x) == []
        out = [d for t in times for d in dec.push_marker(t, "T")]
    else:  # each marker 1 s after its stimulus
        out = []
        for i in range(0, 900, 10):
            out += dec.push(x[:, i : i + 10])
            out += [
                d for t, o in zip(times, ONSETS) if i <= o + 100 < i + 10 for d in dec.push_marker(t, "T")
            ]
    assert len(out) == 4 and all(isinstance(d, EventDecision) and d.ok for d in out)
    assert [d.onset for d in out] == ONSETS and [d.code for d in out] == ["T"] * 4
    assert [d.sample for d in out] == [o - 10 + N for o in ONSETS]
    np.testing.assert_allclose([d.timestamp for d in out], [(o - 10 + N - 1) / SFREQ for o in ONSETS])
    np.testing.assert_allclose([d.marker_time for d in out], times)
    ref = _filtered(x)
    expected = np.stack([ref[:, o - 10 : o - 10 + N] for o in ONSETS])
    np.testing.assert_allclose(dec.estimator.windows, expected, rtol=1e-10, atol=1e-9)
    assert dec.n_waiting == 0 and dec.n_decoded == 4


def test_a_waiting_epoch_is_decoded_in_the_push_that_completes_it():
    x = _signal(600)
    dec = _decoder()
    dec.push(x[:, :400])
    assert dec.push_marker(4.2) == [] and dec.n_waiting == 1
    assert dec.samples_to_next_decision == dec.n_step  # its onset has not arrived: it cannot be placed
    assert dec.push(x[:, 400:425]) == []
    assert dec.samples_to_next_decision == 420 - 10 + N - 425
    assert dec.push(x[:, 425:459]) == []
    out = dec.push(x[:, 459:470])
    assert len(out) == 1 and out[0].sample == 460 and out[0].ok
    assert dec.samples_to_next_decision == dec.n_step  # nothing waiting


def test_markers_that_cannot_be_decoded_are_flagged():
    x = _signal(1500)
    ts = np.arange(1500) / SFREQ
    ts[1000:] += 2.0  # 2 s of samples missing after sample 999
    dec = _decoder(max_delay=1.0, codes=["T", "N"])
    dec.push_marker(0.3, "T")  # the filter is still settling
    dec.push_marker(-3.0, "T")  # before the stream's first sample
    dec.push_marker(5.0, "start")  # another code: ignored
    dec.push_marker(10.5, "T")  # inside the gap (no sample within half a sample period)
    dec.push_marker(9.8, "N")  # its epoch runs into the gap
    dec.push_marker(13.0, "T")  # right after the gap: the filter restarts
    dec.push_marker(15.0, "T")  # fine, well after the gap
    x[:, 700:703] = np.nan
    dec.push_marker(7.2, "T")  # NaN samples in its epoch
    out = _push(dec, x, ts)
    late = dec.push_marker(3.0, "T")  # its epoch left the buffer long ago (max_delay 1 s)
    fresh = dec.push_marker(16.0, "N")  # still buffered: decoded
    got = {d.marker_time: d.quality for d in out + late + fresh}
    assert got == {
        0.3: "settling",
        -3.0: "no_data",
        10.5: "gap",
        9.8: "gap",
        13.0: "gap",
        15.0: "ok",
        7.2: "nan",
        3.0: "late",
        16.0: "ok",
    }
    assert dec.n_ignored == 1 and dec.n_markers == 9
    assert all(d.prediction is None for d in out if not d.ok)
    assert dec.n_decoded == 2 and len(dec.estimator.windows) == 2


def test_duplicate_timestamps_flag_the_epoch_and_bad_markers_are_refused():
    x = _signal(800)
    ts = np.arange(800) / SFREQ
    ts[600:605] = ts[599]  # duplicated stamps: those samples are dropped
    dec = _decoder()
    dec.push_marker(5.8)
    out = _push(dec, x, ts)
    assert [d.quality for d in out] == ["duplicate"]
    with pytest.raises(InvalidInputError, match="finite"):
        dec.push_marker(np.nan)
    with pytest.raises(InvalidInputError, match="max_delay"):
        _decoder(max_delay=-1)


def test_event_locked_decoding_adapts_a_recentering_pipeline():
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from neurodec.riemann import Recentering

    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 4, N))
    y = np.repeat(["a", "b"], 15)
    X[15:, 1] *= 2
    est = make_pipeline(Covariances("oas"), Recentering(), TangentSpace(), LogisticRegression()).fit(X, y)
    dec = _decoder(est, fmin=None, fmax=None)
    x = _signal(900) * 4
    for o in ONSETS:
        dec.push_marker(o / SFREQ)
    out = _push(dec, x)
    assert all(d.ok for d in out) and dec.adapter.n_seen_ == 4


def test_a_marker_on_another_clock_is_reported(caplog):
    dec = _decoder()
    dec.push(_signal(300))
    with caplog.at_level("WARNING", logger="neurodec.online.events"):
        assert dec.push_marker(1.7e9) == []  # a Unix time against a stream on LSL's clock
    assert "same clock" in caplog.text and dec.n_waiting == 1
