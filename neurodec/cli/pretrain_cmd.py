"""``neurodec pretrain-tokenizer``: train the brain tokenizer from a YAML config."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["pretrain_tokenizer"]


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
