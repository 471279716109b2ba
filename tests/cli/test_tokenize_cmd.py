"""``neurodec tokenize``: tokens file and repaired recording."""

from __future__ import annotations

import mne
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurodec.cli import main  # noqa: E402
from neurodec.models import BrainTokenizer  # noqa: E402
from neurodec.models.checkpoint import save_checkpoint  # noqa: E402
from tests.corpus.conftest import simulated  # noqa: E402


def test_tokenize_and_repair(tmp_path, capsys):
    raw = simulated("eeg", n_eeg_channels=32).get_data(subjects=[1])[1]["0"]["0"]
    rec_file = tmp_path / "rec_raw.fif"
    raw.save(rec_file, verbose="error")
    torch.manual_seed(0)
    ckpt = save_checkpoint(tmp_path / "tok.pt", BrainTokenizer("tiny"), step=0)
    out = tmp_path / "tokens.npz"
    args = ["tokenize", str(rec_file), "--checkpoint", str(ckpt), "--out", str(out)]
    assert main([*args, "--bads", "C3,Cz", "--repaired", str(tmp_path / "fixed_raw.fif")]) == 0
    saved = np.load(out)
    assert saved["codes"].shape[1:] == (8, 16, 2) and len(saved["channels"]) == 32
    assert len(saved["onsets"]) == len(saved["codes"])
    fixed = mne.io.read_raw_fif(tmp_path / "fixed_raw.fif", verbose="error")
    assert not np.allclose(fixed.get_data(picks=["C3"]), raw.get_data(picks=["C3"]))
    np.testing.assert_allclose(fixed.get_data(picks=["O1"]), raw.get_data(picks=["O1"]))
    assert "repaired C3,Cz" in capsys.readouterr().out
    assert main([*args, "--bads", "C3"]) == 2
    assert "go together" in capsys.readouterr().err
    assert (
        main(["tokenize", str(rec_file), "--checkpoint", str(tmp_path / "none.pt"), "--out", str(out)]) == 2
    )
