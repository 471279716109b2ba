"""`neurodec stream` in event-locked mode: one decision per marker of an LSL marker stream.

Loopback only; every stream has its own uuid name/source_id, every blocking call a timeout.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("mne_lsl")
pytest.importorskip("skops")

from neurodec.cli import main  # noqa: E402

SFREQ = 250.0
CH = ["C3", "Cz", "C4", "Pz"]


@pytest.fixture(scope="module")
def recentering_decoder(tmp_path_factory):
    """A Cov + Recentering + TS + LR decoder file on 0.2-s epochs from the marker (tmin 0)."""
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from neurodec.online import save_decoder
    from neurodec.riemann.estimators import Recentering

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, len(CH), 50)) * 10
    y = np.array(["left_hand", "right_hand"] * 15)
    X[y == "right_hand", 1] *= 3
    pipe = make_pipeline(Covariances("oas"), Recentering(), TangentSpace(), LogisticRegression())
    pipe.fit(X, y, recentering__domains=np.repeat(["s1", "s2"], 15))
    path = tmp_path_factory.mktemp("dec") / "rc.ndec"
    return save_decoder(path, pipe, {"tmin": 0.0}, CH, SFREQ, n_times=50)


@pytest.mark.slow
@pytest.mark.lsl(timeout=60)
def test_cli_stream_decodes_one_epoch_per_selected_marker(
    recording, replay_factory, recentering_decoder, unique_name, capsys
):
    path, _ = recording  # annotations left_hand 0.4 s, right_hand 1.2 s, left_hand 1.8 s
    rep = replay_factory(path, chunk_size=16, repeat=1, wait_for_consumer=10)
    rep.start()  # holds its first push until the signal has a consumer (markers are opened first)
    args = ["stream", "--decoder", str(recentering_decoder), "--source-id", rep.source_id]
    args += ["--markers-source-id", rep.source_id, "--codes", "left_hand", "--print-decisions"]
    args += ["--out-name", f"{unique_name}-out", "--data-timeout", "1", "--loopback-only"]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 2 and "sent nothing" in err and len(err.strip().splitlines()) == 1  # the replay ended
    assert f"after each marker of '{rep.name}-annotations' with code left_hand" in out
    assert "decisions 2 (flagged 0)" in out  # the right_hand marker is ignored
    printed = [line.split("\t") for line in out.splitlines() if line.count("\t") == 4]
    assert [p[1] for p in printed] == ["left_hand", "left_hand"]  # the marker's code
    assert all(p[2] in ("left_hand", "right_hand") and p[4].strip() == "ok" for p in printed)


@pytest.mark.lsl(timeout=30)
@pytest.mark.parametrize(("flag", "mode"), [([], "online"), (["--no-adapt"], "fixed")])
def test_cli_stream_without_the_marker_stream_is_one_line_and_adapts_unless_told(
    recentering_decoder, unique_name, capsys, caplog, flag, mode
):
    caplog.set_level(logging.INFO, logger="neurodec.online.adapt")
    args = ["stream", "--decoder", str(recentering_decoder), "--name", unique_name, *flag]
    code = main([*args, "--markers-name", f"{unique_name}-absent", "--timeout", "0.3", "--loopback-only"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"no LSL marker stream with name '{unique_name}-absent'" in err
    assert f"streaming with {mode} re-centering" in caplog.text


def test_cli_stream_marker_options_are_documented_and_checked(recentering_decoder, capsys):
    base = ["stream", "--decoder", str(recentering_decoder), "--name", "x"]
    assert main([*base, "--codes", "a"]) == 2
    assert "--codes selects markers" in capsys.readouterr().err
    assert main([*base, "--markers-name", "m", "--markers-source-id", "m"]) == 2
    assert "at most one of --markers-name" in capsys.readouterr().err
    assert main(["stream", "--help"]) == 0
    usage = capsys.readouterr().out
    assert all(opt in usage for opt in ("--markers-name", "--markers-source-id", "--codes", "--no-adapt"))
