"""``neurodec pretrain-tokenizer`` and ``neurodec pretrain``: train the tokenizer / the backbone from YAML."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["pretrain_tokenizer", "pretrain"]


@click.command("pretrain-tokenizer")
@click.option(
    "--config", "config_file", required=True, type=click.Path(path_type=Path), help="YAML pretraining config."
)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None, help="Override `out`.")
@click.option(
    "--corpus", type=click.Path(path_type=Path, file_okay=False), default=None, help="Override `corpus`."
)
@click.option("--steps", type=int, default=None, help="Override `steps`.")
@click.option("--device", default=None, help="Override `device` (auto, cpu, cuda).")
@click.option("--restart", is_flag=True, help="Start over instead of resuming from out/checkpoint.pt.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def pretrain_tokenizer(config_file, out, corpus, steps, device, restart, no_progress) -> None:
    """Pretrain a BrainTokenizer (resumes from OUT/checkpoint.pt when present)."""
    from neurodec.extras import require

    require("torch", "neurodec pretrain-tokenizer")
    from neurodec.models.pretrain import load_pretrain_config, pretrain

    overrides = {
        "out": str(out) if out else None,
        "corpus": str(corpus) if corpus else None,
        "steps": steps,
        "device": device,
        "progress": False if no_progress else None,
    }
    config = load_pretrain_config(config_file, **overrides)
    result = pretrain(config, resume=not restart)
    last = result.metrics.iloc[-1] if len(result.metrics) else None
    summary = (
        f" loss {last['loss']:.4f}, r {last['r']:.3f}, r_hidden {last['r_hidden']:.3f}"
        if last is not None
        else ""
    )
    click.echo(f"step {result.step}:{summary}; model written to {result.checkpoint}")


@click.command("pretrain")
@click.option(
    "--config",
    "config_file",
    required=True,
    type=click.Path(path_type=Path),
    help="YAML backbone pretraining config.",
)
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None, help="Override `out`.")
@click.option(
    "--corpus", type=click.Path(path_type=Path, file_okay=False), default=None, help="Override `corpus`."
)
@click.option("--tokenizer", type=click.Path(path_type=Path), default=None, help="Override `tokenizer`.")
@click.option("--steps", type=int, default=None, help="Override `steps`.")
@click.option("--device", default=None, help="Override `device` (auto, cpu, cuda).")
@click.option("--restart", is_flag=True, help="Start over instead of resuming from out/checkpoint.pt.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def pretrain(config_file, out, corpus, tokenizer, steps, device, restart, no_progress) -> None:
    """Pretrain the masked-token backbone on a tokenized corpus (resumable).

    Several processes: torchrun --nproc-per-node N -m neurodec pretrain --config FILE
    """
    from neurodec.extras import require

    require("torch", "neurodec pretrain")
    from neurodec.models.pretrain_backbone import load_backbone_config, pretrain_backbone

    overrides = {
        "out": str(out) if out else None,
        "corpus": str(corpus) if corpus else None,
        "tokenizer": str(tokenizer) if tokenizer else None,
        "steps": steps,
        "device": device,
        "progress": False if no_progress else None,
    }
    config = load_backbone_config(config_file, **overrides)
    result = pretrain_backbone(config, resume=not restart)
    if len(result.metrics):
        last = result.metrics.iloc[-1]
        levels = sorted(c for c in result.metrics.columns if c.startswith("acc_"))
        accs = ", ".join(f"{c} {last[c]:.3f}" for c in levels)
        click.echo(
            f"step {result.step}: loss {last['loss']:.4f}, {accs}; model written to {result.checkpoint}"
        )
