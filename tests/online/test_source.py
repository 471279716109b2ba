"""Checking a source against a decoder and the decode loop, with in-memory sources (no LSL)."""

from __future__ import annotations

import numpy as np
import pytest

from neurodec.errors import InvalidInputError
from neurodec.online import StreamingDecoder
from neurodec.online.source import StreamLostError, match_source, run_stream, unit_factor
from tests.online._estimators import recorder

CH = ["C3", "Cz", "C4", "Pz"]


class ArraySource:
    """Serves an array in the chunks asked for; lost once it is exhausted."""

    def __init__(self, data, sfreq=100.0, ch_names=CH, units=None, name="mem"):
        self.data, self.sfreq, self.ch_names, self.units, self.name = data, sfreq, ch_names, units, name
        self.n_channels = data.shape[0]
        self.pos = 0
        self.asked = []

    def read(self, max_samples, timeout):
        self.asked.append(max_samples)
        if self.pos >= self.data.shape[1]:
            raise StreamLostError("gone")
        a, b = self.pos, min(self.pos + max_samples, self.data.shape[1])
        self.pos = b
        return self.data[:, a:b].copy(), np.arange(a, b) / self.sfreq

    def backlog(self):
        return 0

    def clock(self):
        import time

        return time.perf_counter()


def _decoder(**kw):
    kw = {"window": 0.5, "step": 0.1, "sfreq": 100.0, "ch_names": CH, **kw}
    return StreamingDecoder(recorder(len(CH)), **kw)


def test_unit_factors():
    assert unit_factor("microvolts") == unit_factor("uV") == unit_factor("µV") == unit_factor("-6") == 1e-6
    assert unit_factor("0") == unit_factor("V") == 1.0 and unit_factor("mV") == 1e-3
    assert unit_factor("furlongs") is None and unit_factor(None) is None


def test_wrong_rate_missing_channels_and_mixed_units_are_refused_at_start():
    data = np.zeros((4, 10))
    with pytest.raises(InvalidInputError, match="runs at 200 Hz but the decoder was trained at 100 Hz"):
        match_source(_decoder(), ArraySource(data, sfreq=200.0))
    with pytest.raises(InvalidInputError, match=r"lacks channel\(s\) \['Pz'\]"):
        match_source(_decoder(), ArraySource(data, ch_names=["C3", "Cz", "C4", "Oz"]))
    with pytest.raises(InvalidInputError, match=r"lacks channel\(s\) \['Pz'\]"):  # two candidates
        match_source(_decoder(), ArraySource(np.zeros((5, 10)), ch_names=["C3", "Cz", "C4", "PZ", "pz."]))
    with pytest.raises(InvalidInputError, match="3 unnamed channels"):
        match_source(_decoder(), ArraySource(np.zeros((3, 10)), ch_names=None))
    with pytest.raises(InvalidInputError, match="several units"):
        match_source(_decoder(unit="uV"), ArraySource(data, units=["0", "0", "-6", "0"]))
    with pytest.raises(InvalidInputError, match="several channels named"):
        match_source(_decoder(), ArraySource(np.zeros((5, 10)), ch_names=[*CH, "Cz"]))


def test_decorated_names_of_files_match_the_decoder_names():
    # PhysionetMI's EDF files say 'C3..' and 'Fcz.', the dataset (and its decoders) 'C3' and 'FCz'
    order, _ = match_source(
        _decoder(ch_names=["FCz", "C3", "C4", "Pz"]),
        ArraySource(np.zeros((4, 1)), ch_names=["C3..", "C4..", "Pz..", "Fcz."]),
    )
    assert order.tolist() == [3, 0, 1, 2]


def test_units_set_the_scale_and_names_the_order():
    order, scale = match_source(_decoder(unit="uV"), ArraySource(np.zeros((4, 1)), units=["0"] * 4))
    assert order is None and scale == pytest.approx(1e6)
    names = ["Pz", "STI", "C4", "C3", "Cz"]
    order, scale = match_source(
        _decoder(unit="uV"), ArraySource(np.zeros((5, 1)), ch_names=names, units=None)
    )
    assert order.tolist() == [3, 4, 2, 0] and scale is None


def test_run_reorders_scales_and_equals_pushing_the_arrays():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 400)) * 1e-5  # volts
    names = ["Pz", "STI", "C4", "C3", "Cz"]
    stream = np.vstack([x[3], np.zeros(400), x[2], x[0], x[1]])
    dec = _decoder(unit="uV", fmin=5, fmax=30)
    with pytest.raises(StreamLostError):
        got = []
        for d in dec.run(ArraySource(stream, ch_names=names, units=["0"] * 5)):
            got.append(d)
    ref_dec = _decoder(fmin=5, fmax=30, scale=1e6)
    ref = ref_dec.push(x, np.arange(400) / 100.0)
    assert [d.sample for d in got] == [d.sample for d in ref]
    np.testing.assert_allclose(np.concatenate(dec.estimator.seen_), np.concatenate(ref_dec.estimator.seen_))
    assert dec.monitor.n_decisions == len(ref) and dec.monitor.n_flagged == sum(not d.ok for d in ref)


def test_run_reads_exactly_what_the_next_window_needs():
    src = ArraySource(np.zeros((4, 120)))
    dec = _decoder()
    with pytest.raises(StreamLostError):
        list(dec.run(src))
    # 50 samples for the first window, then one step (10) per decision
    assert src.asked[:4] == [50, 10, 10, 10]


def test_duration_stops_the_loop():
    class Silent(ArraySource):
        def read(self, max_samples, timeout):
            import time

            time.sleep(timeout)
            return np.zeros((4, 0)), np.zeros(0)

    import time

    t0 = time.monotonic()
    assert list(run_stream(_decoder(), Silent(np.zeros((4, 1))), duration=0.3, poll=0.05)) == []
    assert time.monotonic() - t0 < 2.0
