"""Tokens of Raw/Epochs, and bad-channel repair (mechanics checked with an oracle decoder)."""

from __future__ import annotations

import mne
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurodec.errors import InvalidInputError  # noqa: E402
from neurodec.io import Recording  # noqa: E402
from neurodec.models import BrainTokenizer, TokenizerOutput  # noqa: E402
from neurodec.sensors import sensor_table  # noqa: E402
from tests.corpus.conftest import simulated  # noqa: E402


@pytest.fixture(scope="module")
def raw():
    return simulated("eeg", n_eeg_channels=32).get_data(subjects=[1])[1]["0"]["0"]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return BrainTokenizer("tiny").eval()


class OracleTokenizer(BrainTokenizer):
    """Returns the target as its reconstruction: what a perfect model would give."""

    def forward(self, x, features, type_ids, valid=None, visible=None, noise=None, quantize=True):
        out = super().forward(x, features, type_ids, valid, visible, noise, quantize)
        return TokenizerOutput(out.target.clone(), out.target, out.codes, out.commitment, out.stats)


def test_encode_raw_recording_and_epochs(raw, model):
    tokens = model.encode(raw)
    n_windows = int(np.ceil(raw.n_times / 160 / 2))  # 2-s windows, the last one padded
    assert tokens.codes.shape == (n_windows, 8, 16, 2) and tokens.codes.dtype == np.int64
    np.testing.assert_allclose(tokens.onsets[:3], [0.0, 2.0, 4.0])
    assert tokens.sensors["type"].eq("eeg").all() and len(tokens.sensors) == 32
    np.testing.assert_array_equal(model.encode(raw).codes, tokens.codes)
    rec = Recording(raw=raw, events=np.zeros((0, 3), int), event_id={}, sensors=sensor_table(raw))
    np.testing.assert_array_equal(model.encode(rec).codes, tokens.codes)
    epochs = mne.make_fixed_length_epochs(raw, duration=3.0, preload=True, verbose="error")
    ep_tokens = model.encode(epochs)
    assert ep_tokens.codes.shape == (len(epochs), 2, 8, 16, 2)  # 3 s -> two windows
    with pytest.raises(InvalidInputError, match="Raw, Epochs"):
        model.encode(np.zeros((3, 100)))


def test_reconstruct_with_a_perfect_decoder_gives_back_the_channel(raw):
    torch.manual_seed(0)
    oracle = OracleTokenizer("tiny").eval()
    bads = ["C3", "Pz"]
    repaired = oracle.reconstruct(raw, bads=bads)
    assert repaired is not raw and raw.info["bads"] == [] and repaired.info["bads"] == []
    others = [c for c in raw.ch_names if c not in bads]
    np.testing.assert_array_equal(repaired.get_data(picks=others), raw.get_data(picks=others))
    assert not np.array_equal(repaired.get_data(picks=bads), raw.get_data(picks=bads))
    # band-limited copy of the original (0.1 Hz high-pass, notch), same units and reference
    orig = raw.get_data(picks=bads)
    orig = orig - orig.mean(1, keepdims=True)
    got = repaired.get_data(picks=bads)
    core = slice(320, -320)  # filter edges aside
    for a, b in zip(orig[:, core], got[:, core]):
        assert np.corrcoef(a, b)[0, 1] > 0.99
        assert np.std(b) == pytest.approx(np.std(a), rel=0.05)


def test_reconstruct_with_a_model_and_its_errors(raw, model):
    marked = raw.copy()
    marked.info["bads"] = ["Cz"]
    repaired = model.reconstruct(marked, reset_bads=False)
    assert repaired.info["bads"] == ["Cz"] and np.isfinite(repaired.get_data(picks=["Cz"])).all()
    with pytest.raises(InvalidInputError, match="no bad channel"):
        model.reconstruct(raw)
    with pytest.raises(InvalidInputError, match="not in the recording"):
        model.reconstruct(raw, bads=["XX"])
    with pytest.raises(InvalidInputError, match="cannot reconstruct \\['EOG'\\]"):
        model.reconstruct(raw, bads=["EOG"])
