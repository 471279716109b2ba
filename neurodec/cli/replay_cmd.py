"""``neurodec replay``: play a recording as a live LSL stream (mne-lsl's PlayerLSL)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import click

from neurodec.cli.benchmark_cmd import quiet_libraries

__all__ = ["replay"]


@click.command("replay")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--chunk-size", type=int, default=16, show_default=True, help="Samples pushed at once.")
@click.option(
    "--repeat", type=int, default=1, show_default=True, help="Plays of the file (0: until stopped)."
)
@click.option("--name", default=None, help="Stream name [default: neurodec-replay-<file>].")
@click.option("--source-id", default=None, help="Stream source_id [default: a fresh UUID].")
@click.option(
    "--wait-for-consumer",
    type=float,
    default=0.0,
    show_default=True,
    help="Seconds to hold the first push until a consumer connects (so it gets every sample).",
)
@click.option("--no-annotations", is_flag=True, help="Do not publish the annotations stream.")
@click.option("--loopback-only", is_flag=True, help="Keep LSL discovery on this machine (127.0.0.1).")
def replay(file, chunk_size, repeat, name, source_id, wait_for_consumer, no_annotations, loopback_only):
    """Play FILE (any format neurodec reads) as a live LSL stream, in real time."""
    quiet_libraries()
    # mne-lsl warns at the end of a file whose length is a multiple of the chunk size; nothing is lost.
    warnings.filterwarnings("ignore", message=".*End of file reached with an empty chunk.*")
    if loopback_only:
        from neurodec.online.lsl import lsl_loopback_only

        lsl_loopback_only()
    from neurodec.online.replay import Replay

    rep = Replay(
        file,
        chunk_size=chunk_size,
        repeat=repeat,
        name=name,
        source_id=source_id,
        annotations=not no_annotations,
        wait_for_consumer=wait_for_consumer,
    )
    total = "until stopped" if rep.duration is None else f"{rep.duration:.1f} s"
    click.echo(
        f"replaying {file} as LSL stream {rep.name!r} (source_id {rep.source_id}): "
        f"{len(rep.ch_names)} channels at {rep.sfreq:g} Hz, "
        f"{rep.n_file_samples} samples x {repeat or 'inf'} ({total})"
        + (f"; annotations on {rep.name + '-annotations'!r}" if rep.annotations else "")
    )
    with rep:
        while not rep.wait(timeout=0.5):
            elapsed = time.monotonic() - rep.started
            click.echo(f"\r{elapsed:7.1f} s / {total}", nl=False)
    click.echo(f"\rdone: {rep.n_samples} samples pushed in {time.monotonic() - rep.started:.1f} s")
