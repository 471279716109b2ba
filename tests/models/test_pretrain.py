"""Pretraining: bit-exact resume after a kill, settings checks, checkpoints, schedule, CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from neurodec.cli import main  # noqa: E402
from neurodec.config import REPO_ROOT  # noqa: E402
from neurodec.errors import ConfigError  # noqa: E402
from neurodec.models import BrainTokenizer  # noqa: E402
from neurodec.models import pretrain as pretrain_module  # noqa: E402
from neurodec.models.checkpoint import load_checkpoint, load_model, saved_config  # noqa: E402
from neurodec.models.pretrain import (  # noqa: E402
    PretrainConfig,
    load_pretrain_config,
    lr_factor,
    pretrain,
)
from neurodec.models.training import autocast_dtype, autocast_for  # noqa: E402


def _config(corpus, out, **changes) -> PretrainConfig:
    base = dict(
        corpus=str(corpus.path),
        out=str(out),
        model="tiny",
        steps=6,
        batch_size=4,
        warmup_steps=2,
        max_channels=24,
        checkpoint_every=2,
        log_every=1,
        progress=False,
    )
    return PretrainConfig(**{**base, **changes})


def _same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_after_a_kill_is_bit_exact(small_corpus, tmp_path):
    straight = pretrain(_config(small_corpus, tmp_path / "straight"))
    killed_dir = tmp_path / "killed"
    pretrain(_config(small_corpus, killed_dir), stop_after=5)  # last checkpoint at step 4; step 5 is lost
    assert load_checkpoint(killed_dir / "checkpoint.pt")["step"] == 4
    resumed = pretrain(_config(small_corpus, killed_dir))
    assert resumed.step == straight.step == 6
    assert _same_state(resumed.model.state_dict(), straight.model.state_dict())
    a = load_checkpoint(tmp_path / "straight" / "checkpoint.pt")
    b = load_checkpoint(killed_dir / "checkpoint.pt")
    assert a["optimizer"]["state"].keys() == b["optimizer"]["state"].keys()
    for k in a["optimizer"]["state"]:
        assert all(
            torch.equal(a["optimizer"]["state"][k][n], b["optimizer"]["state"][k][n])
            for n in ("exp_avg", "exp_avg_sq")
        )
    assert a["scheduler"] == b["scheduler"]
    cols = ["step", "lr", "loss", "r", "r_hidden", "perplexity_0", "dead_1"]
    assert resumed.metrics["step"].tolist() == [1, 2, 3, 4, 5, 6]  # the lost step-5 row was replaced
    assert resumed.metrics[cols].equals(straight.metrics[cols])
    final = load_model(tmp_path / "straight" / "tokenizer.pt")
    assert _same_state(final.state_dict(), straight.model.state_dict())
    assert final.preprocess["sfreq"] == 256.0 and not final.training


def test_halfway_kill_and_resume_match_a_straight_run(small_corpus, tmp_path):
    straight = pretrain(_config(small_corpus, tmp_path / "a", checkpoint_every=3))
    pretrain(_config(small_corpus, tmp_path / "b", checkpoint_every=3), stop_after=3)
    resumed = pretrain(_config(small_corpus, tmp_path / "b", checkpoint_every=3))
    assert _same_state(resumed.model.state_dict(), straight.model.state_dict())
    other_seed = pretrain(_config(small_corpus, tmp_path / "c", checkpoint_every=3, seed=1))
    assert not _same_state(other_seed.model.state_dict(), straight.model.state_dict())


def test_quantiser_warm_up_then_kmeans_on_learned_latents(small_corpus, tmp_path):
    result = pretrain(_config(small_corpus, tmp_path / "w", steps=4, vq_warmup_steps=2))
    ppl = result.metrics["perplexity_0"].tolist()
    assert all(p != p for p in ppl[:2]) and all(p >= 1 for p in ppl[2:])  # NaN while warming up
    assert all(bool(level.initialized) for level in result.model.quantizer.levels)
    stopped = pretrain(_config(small_corpus, tmp_path / "s", steps=4, vq_warmup_steps=2), stop_after=2)
    assert not any(bool(level.initialized) for level in stopped.model.quantizer.levels)


def test_resuming_with_other_settings_fails_clearly(small_corpus, tmp_path):
    out = tmp_path / "run"
    pretrain(_config(small_corpus, out, steps=2))
    with pytest.raises(ConfigError, match=r"other settings \(lr: now 0.01, checkpoint 0.001\)"):
        pretrain(_config(small_corpus, out, steps=4, lr=0.01))
    with pytest.raises(ConfigError, match="another configuration .*n_levels: wanted 3, checkpoint has 2"):
        pretrain(_config(small_corpus, out, steps=4, model={"size": "tiny", "n_levels": 3}))
    longer = pretrain(_config(small_corpus, out, steps=4))  # more steps: allowed
    assert longer.step == 4
    fresh = pretrain(_config(small_corpus, out, steps=2, lr=0.01), resume=False)
    assert fresh.metrics["step"].tolist() == [1, 2]


def test_checkpoints_of_another_version_or_kind_are_refused(tmp_path):
    model = BrainTokenizer("tiny")
    from neurodec.models.checkpoint import save_checkpoint

    path = save_checkpoint(tmp_path / "m.pt", model, step=0)
    assert _same_state(load_model(path).state_dict(), model.state_dict())
    ckpt = torch.load(path, weights_only=True)
    ckpt["format_version"] = 99
    torch.save(ckpt, tmp_path / "future.pt")
    with pytest.raises(ConfigError, match="checkpoint format v99; this neurodec .* reads v1"):
        load_model(tmp_path / "future.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ConfigError, match="not a neurodec tokenizer checkpoint"):
        load_model(tmp_path / "other.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="not a readable"):
        load_model(tmp_path / "junk.pt")


def test_checkpoints_from_before_the_loss_options_keep_their_loss(small_corpus, tmp_path):
    out = tmp_path / "run"
    pretrain(_config(small_corpus, out, steps=2))
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)
    # as written before these fields existed (the first design: convolutions and attention)
    for name in ("phase_weighting", "standardize_loss", "frame_encoder", "spatial_mixing", "basis_ridge"):
        del ckpt["model_config"][name]
    torch.save(ckpt, out / "checkpoint.pt")
    with pytest.raises(ConfigError, match="weights do not fit"):  # new-design weights, old config
        load_model(out / "checkpoint.pt")
    first = BrainTokenizer(saved_config(ckpt))
    ckpt["model"] = first.state_dict()
    torch.save(ckpt, out / "checkpoint.pt")
    old = load_model(out / "checkpoint.pt")
    assert (old.config.phase_weighting, old.config.standardize_loss) == ("uniform", False)
    assert (old.config.frame_encoder, old.config.spatial_mixing) == ("conv", "attention")
    with pytest.raises(ConfigError, match="phase_weighting: wanted 'amplitude', checkpoint has 'uniform'"):
        pretrain(_config(small_corpus, out, steps=4))


def test_learning_rate_schedule():
    assert lr_factor(0, 10, 100, 0.1) == pytest.approx(0.1)
    assert lr_factor(9, 10, 100, 0.1) == pytest.approx(1.0)
    assert lr_factor(10, 10, 100, 0.1) == pytest.approx(1.0)
    assert lr_factor(55, 10, 100, 0.1) == pytest.approx(0.55)
    assert lr_factor(100, 10, 100, 0.1) == pytest.approx(0.1)


def test_bf16_autocast_is_chosen_on_cuda_only():
    assert autocast_dtype("cuda") is torch.bfloat16
    assert autocast_dtype(torch.device("cuda", 1)) is torch.bfloat16
    assert autocast_dtype("cpu") is None
    assert autocast_dtype("mps") is None
    with autocast_for("cpu"):  # CPU autocast (bf16 when enabled) must stay off: float32 results
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


def test_training_steps_run_under_the_selected_autocast(small_corpus, tmp_path, monkeypatch):
    devices = []

    def spy(device):
        devices.append(torch.device(device))
        return autocast_for(device)

    monkeypatch.setattr(pretrain_module, "autocast_for", spy)
    pretrain(_config(small_corpus, tmp_path / "run", steps=1, device="cpu"))
    assert devices == [torch.device("cpu")]


def test_yaml_config_errors(tmp_path):
    cfg = tmp_path / "c.yml"
    cfg.write_text("corpus: c\nout: o\nsteps: 5\nbatchsize: 3\n")
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['batchsize'\]"):
        load_pretrain_config(cfg)
    cfg.write_text("out: o\n")
    with pytest.raises(ConfigError, match="missing setting"):
        load_pretrain_config(cfg)
    cfg.write_text("corpus: c\nout: o\nmodel: huge\n")
    with pytest.raises(ConfigError, match="unknown tokenizer size 'huge'"):
        load_pretrain_config(cfg)
    cfg.write_text("corpus: c\nout: o\nsteps: 0\n")
    with pytest.raises(ConfigError, match="steps must be a positive integer"):
        load_pretrain_config(cfg)
    cfg.write_text("corpus: c\nout: o\n")
    assert load_pretrain_config(cfg, steps=7).steps == 7


def test_ci_config_trains_from_the_command_line(tmp_path, capsys):
    config = Path(REPO_ROOT) / "configs" / "tokenizer_ci.yml"
    args = ["pretrain-tokenizer", "--config", str(config), "--out", str(tmp_path / "run")]
    args += ["--corpus", str(tmp_path / "corpus"), "--no-progress"]
    assert main(args) == 0
    assert "step 20:" in capsys.readouterr().out
    metrics = (tmp_path / "run" / "metrics.csv").read_text().splitlines()
    assert len(metrics) == 1 + 4 and metrics[0].startswith("step,epoch,lr,loss")
    assert main(args) == 0  # already done: resumes at step 20, trains nothing
    assert "step 20:" in capsys.readouterr().out
    assert main(["pretrain-tokenizer", "--config", str(tmp_path / "missing.yml")]) == 2
    assert "does not exist" in capsys.readouterr().err
