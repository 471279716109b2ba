"""``neurodec tokenize``: tokens of a recording with a trained tokenizer (and bad-channel repair)."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["tokenize"]


@click.command("tokenize")
@click.argument("recording", type=click.Path(path_type=Path))
@click.option(
    "--checkpoint", required=True, type=click.Path(path_type=Path), help="A tokenizer checkpoint (.pt)."
)
@click.option(
    "--out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="Tokens file (.npz)."
)
@click.option("--bads", default=None, help="Comma-separated channels to repair (default: none).")
@click.option(
    "--repaired",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the recording with the --bads channels reconstructed here (.fif).",
)
def tokenize(recording: Path, checkpoint: Path, out: Path, bads: str | None, repaired: Path | None) -> None:
    """Tokenize RECORDING (any file neurodec reads) with a trained tokenizer; write the token
    indices (windows x frames x sources x levels), window onsets and channel names to OUT."""
    from neurodec.errors import InvalidInputError
    from neurodec.extras import require

    require("torch", "neurodec tokenize")
    import numpy as np

    from neurodec.io import read_recording
    from neurodec.models.checkpoint import load_model

    model = load_model(checkpoint)
    rec = read_recording(recording)
    tokens = model.encode(rec)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        out, codes=tokens.codes, onsets=tokens.onsets, channels=np.array(tokens.sensors["name"], dtype=str)
    )
    click.echo(f"{tokens.codes.shape[0]} windows x {tokens.codes.shape[1:]} tokens -> {out}")
    if repaired is not None or bads:
        if not (repaired is not None and bads):
            raise InvalidInputError(
                "--bads and --repaired go together: the channels to repair and the output file"
            )
        fixed = model.reconstruct(rec.raw, bads=[b.strip() for b in bads.split(",") if b.strip()])
        repaired.parent.mkdir(parents=True, exist_ok=True)
        fixed.save(repaired, overwrite=True, verbose="error")
        click.echo(f"repaired {bads} -> {repaired}")
