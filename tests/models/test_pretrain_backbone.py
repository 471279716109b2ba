"""Backbone pretraining: bit-exact resume, settings checks, one-file checkpoints, CLI, two-process DDP."""

from __future__ import annotations

import os
import socket

import pytest

torch = pytest.importorskip("torch")

from neurodec.cli import main  # noqa: E402
from neurodec.errors import ConfigError  # noqa: E402
from neurodec.models.checkpoint import load_checkpoint  # noqa: E402
from neurodec.models.pretrain_backbone import (  # noqa: E402
    BackbonePretrainConfig,
    load_backbone_config,
    load_foundation,
    masked_accuracy,
    pretrain_backbone,
    segments_of,
)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tokens")


def _config(corpus, tokenizer, cache, out, **changes) -> BackbonePretrainConfig:
    base = dict(
        corpus=str(corpus.path),
        out=str(out),
        tokenizer=str(tokenizer),
        token_cache=str(cache),
        model={"size": "test", "context_windows": 2},
        steps=6,
        batch_size=4,
        warmup_steps=2,
        checkpoint_every=2,
        log_every=1,
        progress=False,
    )
    return BackbonePretrainConfig(**{**base, **changes})


def _same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_after_a_kill_is_bit_exact(small_corpus, tiny_tokenizer_path, cache_dir, tmp_path):
    make = lambda out, **c: _config(small_corpus, tiny_tokenizer_path, cache_dir, tmp_path / out, **c)  # noqa: E731
    straight = pretrain_backbone(make("straight"))
    pretrain_backbone(make("killed"), stop_after=5)  # last checkpoint at step 4; step 5 is lost
    assert load_checkpoint(tmp_path / "killed" / "checkpoint.pt", kind="backbone")["step"] == 4
    resumed = pretrain_backbone(make("killed"))
    assert resumed.step == straight.step == 6
    assert _same_state(resumed.model.state_dict(), straight.model.state_dict())
    assert resumed.metrics["step"].tolist() == [1, 2, 3, 4, 5, 6]
    cols = ["step", "lr", "loss", "acc_0", "acc_1", "grad_norm"]
    assert resumed.metrics[cols].equals(straight.metrics[cols])
    assert straight.metrics["loss"].iloc[-1] < straight.metrics["loss"].iloc[0]
    model, tokenizer = load_foundation(straight.checkpoint)  # one file: backbone + tokenizer
    assert straight.checkpoint.name == "foundation.pt"
    assert _same_state(model.state_dict(), straight.model.state_dict()) and not model.training
    assert tokenizer.preprocess["sfreq"] == 256.0 and model.config.codebook_size == 64
    other = pretrain_backbone(make("other", seed=1))
    assert not _same_state(other.model.state_dict(), straight.model.state_dict())


def test_other_settings_model_or_format_are_refused(small_corpus, tiny_tokenizer_path, cache_dir, tmp_path):
    make = lambda **c: _config(small_corpus, tiny_tokenizer_path, cache_dir, tmp_path / "run", **c)  # noqa: E731
    pretrain_backbone(make(steps=2))
    with pytest.raises(ConfigError, match=r"other settings \(lr: now 0.01, checkpoint 0.0005\)"):
        pretrain_backbone(make(steps=4, lr=0.01))
    with pytest.raises(ConfigError, match="backbone of another configuration .*n_layers: wanted 3"):
        pretrain_backbone(make(steps=4, model={"size": "test", "context_windows": 2, "n_layers": 3}))
    with pytest.raises(ConfigError, match="does not read this tokenizer's tokens .*codebook_size: model 512"):
        pretrain_backbone(make(model={"size": "test", "codebook_size": 512}))
    assert pretrain_backbone(make(steps=4)).step == 4  # more steps: allowed
    ckpt = torch.load(tmp_path / "run" / "foundation.pt", weights_only=True)
    ckpt["format_version"] = 99
    torch.save(ckpt, tmp_path / "future.pt")
    with pytest.raises(ConfigError, match="checkpoint format v99; this neurodec .* reads v1"):
        load_foundation(tmp_path / "future.pt")
    with pytest.raises(ConfigError, match="not a neurodec backbone checkpoint .*neurodec-tokenizer"):
        load_foundation(tiny_tokenizer_path)


def test_tokens_are_cached_per_tokenizer(small_corpus, tiny_tokenizer_path, tmp_path):
    from neurodec.models.checkpoint import load_model
    from neurodec.models.config import ModelConfig
    from neurodec.models.tokens import tokenizer_key

    tokenizer = load_model(tiny_tokenizer_path)
    cfg = ModelConfig.from_size("test").for_tokenizer(tokenizer.config)
    segs = segments_of(small_corpus, tokenizer, cfg, token_cache=str(tmp_path))
    folder = tmp_path / tokenizer_key(tokenizer)
    files = sorted(folder.glob("*.npy"))
    assert len(files) == len(small_corpus.entries) and len(segs) > 0
    stamp = [f.stat().st_mtime_ns for f in files]
    segments_of(small_corpus, tokenizer, cfg, token_cache=str(tmp_path))  # read, not recomputed
    assert [f.stat().st_mtime_ns for f in files] == stamp
    first = segs[0]
    assert first.shape == (2, 8, 16, 2) and first.dtype == torch.int64
    rid = segs.recording_ids[0]
    x = torch.from_numpy(small_corpus.windows(rid)[:2])
    from neurodec.sensors import sensor_features

    f, t = (torch.from_numpy(a) for a in sensor_features(small_corpus.sensors(rid)))
    assert torch.equal(tokenizer.tokenize(x, f.expand(2, -1, -1), t.expand(2, -1)), first)
    with torch.no_grad():
        tokenizer.quantizer.levels[0].codebook.add_(1.0)  # another tokenizer: another cache
    assert tokenizer_key(tokenizer) != folder.name


def test_masked_accuracy_against_the_most_frequent_code(small_corpus, tiny_tokenizer_path, cache_dir):
    from neurodec.models import FoundationModel
    from neurodec.models.checkpoint import load_model
    from neurodec.models.config import ModelConfig

    tokenizer = load_model(tiny_tokenizer_path)
    cfg = ModelConfig.from_size("test").for_tokenizer(tokenizer.config)
    segs = segments_of(small_corpus, tokenizer, cfg, token_cache=str(cache_dir))
    counts = segs.level_counts(cfg.codebook_size)
    table = masked_accuracy(FoundationModel(cfg), segs, train_counts=counts)
    assert table["level"].tolist() == [0, 1] and (table["masked"] > 0).all()
    assert table["baseline"].between(0, 1).all() and table["accuracy"].between(0, 1).all()
    assert counts.sum(1).tolist() == [sum(len(c) for c in segs.codes) * 8 * 16] * 2


def test_cli_and_yaml(small_corpus, tiny_tokenizer_path, cache_dir, tmp_path, capsys):
    cfg = tmp_path / "b.yml"
    cfg.write_text(
        f"corpus: {small_corpus.path}\nout: {tmp_path / 'run'}\ntokenizer: {tiny_tokenizer_path}\n"
        f"token_cache: {cache_dir}\nmodel: {{size: test, context_windows: 2}}\nsteps: 3\nbatch_size: 2\n"
        "warmup_steps: 1\nlog_every: 1\n"
    )
    assert main(["pretrain", "--config", str(cfg), "--no-progress"]) == 0
    assert "step 3: loss" in capsys.readouterr().out
    header = (tmp_path / "run" / "metrics.csv").read_text().splitlines()[0]
    assert header.startswith(
        "step,epoch,lr,loss,loss_0,acc_0,loss_1,acc_1,grad_norm,segments_per_s,tokens_per_s"
    )
    cfg.write_text("corpus: c\nout: o\n")
    assert main(["pretrain", "--config", str(cfg)]) == 2
    assert "missing setting(s) ['tokenizer']" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="unknown backbone size 'huge'"):
        load_backbone_config(cfg, tokenizer="t.pt", model="huge")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world: int, port: int, config: BackbonePretrainConfig) -> None:
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(1)
    pretrain_backbone(config)  # joins the group from the environment, as under torchrun


@pytest.mark.slow
def test_two_processes_follow_the_loss_curve_of_one(small_corpus, tiny_tokenizer_path, cache_dir, tmp_path):
    """gloo, 2 processes x 2 segments = one process x 4 segments (same batches, same masks).

    Tolerance: gradients are all-reduced (summed in another order) and each process runs
    its matmuls on half the batch, so results differ by float32 rounding (~1e-7 relative
    per operation); over 6 AdamW steps the loss stays within 1e-4 (relative), while other
    batches and masks move it by more than 20 times that (checked below with another seed).
    """
    make = lambda out, **c: _config(  # noqa: E731
        small_corpus, tiny_tokenizer_path, cache_dir, tmp_path / out, checkpoint_every=6, **c
    )
    one = pretrain_backbone(make("one"))
    torch.multiprocessing.spawn(_ddp_worker, args=(2, _free_port(), make("two")), nprocs=2, join=True)
    import pandas as pd

    two = pd.read_csv(tmp_path / "two" / "metrics.csv")
    assert two["step"].tolist() == one.metrics["step"].tolist() == [1, 2, 3, 4, 5, 6]
    for col in ("loss", "acc_0", "acc_1"):
        assert two[col].to_numpy() == pytest.approx(one.metrics[col].to_numpy(), rel=1e-4, abs=1e-6)
    from neurodec.models.pretrain_backbone import load_foundation

    model, _ = load_foundation(tmp_path / "two" / "foundation.pt")
    for name, p in model.state_dict().items():
        assert torch.allclose(p, one.model.state_dict()[name], atol=1e-4), name
    other = pretrain_backbone(make("seed1", seed=1))  # other batches and masks: far outside the tolerance
    assert (other.metrics["loss"] - one.metrics["loss"]).abs().max() > 20 * 1e-4 * one.metrics["loss"].max()


@pytest.mark.slow
def test_ci_configs_train_tokenizer_then_backbone_from_the_command_line(tmp_path, capsys):
    from pathlib import Path

    from neurodec.config import REPO_ROOT

    configs = Path(REPO_ROOT) / "configs"
    corpus, tok_run = tmp_path / "corpus", tmp_path / "tok"
    args = ["pretrain-tokenizer", "--config", str(configs / "tokenizer_ci.yml"), "--out", str(tok_run)]
    assert main([*args, "--corpus", str(corpus), "--no-progress"]) == 0
    args = ["pretrain", "--config", str(configs / "backbone_ci.yml"), "--out", str(tmp_path / "bb")]
    args += ["--corpus", str(corpus), "--tokenizer", str(tok_run / "tokenizer.pt"), "--no-progress"]
    assert main(args) == 0
    assert "step 10: loss" in capsys.readouterr().out
    model, tokenizer = load_foundation(tmp_path / "bb" / "foundation.pt")
    assert model.config.name == "test" and tokenizer.config.name == "tiny"
    assert (corpus / "tokens").is_dir()  # the token cache lies beside the corpus
