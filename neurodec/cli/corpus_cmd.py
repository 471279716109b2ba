"""``neurodec corpus``: build a pretraining corpus, or describe one."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["corpus"]


@click.group("corpus")
def corpus() -> None:
    """Preprocess recordings into a tokenizer pretraining corpus (build), or describe one (info)."""


@corpus.command("build")
@click.argument("out", type=click.Path(path_type=Path, file_okay=False))
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--data-root", type=click.Path(path_type=Path, file_okay=False), default=None, help="Data root."
)
@click.option("--shard-windows", type=int, default=512, show_default=True, help="Windows per .npy shard.")
@click.option("--overwrite", is_flag=True, help="Replace a corpus built with other options.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def build(
    out: Path, sources: tuple[str, ...], data_root, shard_windows: int, overwrite: bool, no_progress: bool
):
    """Build (or resume) the corpus OUT from SOURCES: dataset names (PhysionetMI), folders,
    BIDS roots or files, or NAME:key=value,... (PhysionetMI:subjects=1-15,
    SimulatedMI:modality=meg,n_subjects=4)."""
    from neurodec.corpus import build_corpus
    from neurodec.corpus.sources import parse_source

    result = build_corpus(
        out,
        [parse_source(s) for s in sources],
        data_root=data_root,
        shard_windows=shard_windows,
        overwrite=overwrite,
        progress=not no_progress,
    )
    click.echo(repr(result))


@corpus.command("info")
@click.argument("path", type=click.Path(path_type=Path, file_okay=False))
def info(path: Path) -> None:
    """Recordings, windows and hours per source and modality of the corpus at PATH."""
    from neurodec.corpus import Corpus

    c = Corpus(path)
    table = c.recordings
    click.echo(repr(c))
    if len(table):
        table["hours"] = table["n_windows"] * c.options.window_s / 3600
        summary = table.groupby(["source", "modality"]).agg(
            recordings=("id", "size"),
            subjects=("subject", "nunique"),
            windows=("n_windows", "sum"),
            hours=("hours", "sum"),
        )
        click.echo(summary.round(3).to_string())
