"""``neurodec stream``: decode a live LSL stream with a decoder file, publish the decisions."""

from __future__ import annotations

import time
from pathlib import Path

import click

from neurodec.cli.benchmark_cmd import MultiValueOption

__all__ = ["stream"]


@click.command("stream")
@click.option(
    "--decoder", "decoder_path", type=click.Path(path_type=Path), required=True, help="Decoder file."
)
@click.option("--source-id", default=None, help="Input stream's LSL source_id.")
@click.option("--name", default=None, help="Input stream's LSL name (must match exactly one stream).")
@click.option("--out-name", default=None, help="Publish decisions on this LSL stream (+ '<name>-markers').")
@click.option("--step", type=float, default=0.1, show_default=True, help="Seconds between decisions.")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds to find the stream.")
@click.option(
    "--data-timeout", type=float, default=5.0, show_default=True, help="Seconds without data = stream lost."
)
@click.option(
    "--duration", type=float, default=None, help="Stop after this many seconds [default: until lost]."
)
@click.option("--trust", cls=MultiValueOption, default=(), help="Extra types to trust in the decoder file.")
@click.option("--loopback-only", is_flag=True, help="Keep LSL discovery on this machine (127.0.0.1).")
@click.option("--print-decisions", is_flag=True, help="Also print one line per decision.")
def stream(
    decoder_path,
    source_id,
    name,
    out_name,
    step,
    timeout,
    data_timeout,
    duration,
    trust,
    loopback_only,
    print_decisions,
):
    """Decode the LSL stream selected by --source-id or --name with a decoder file
    (from `neurodec fit`), publishing decisions on --out-name; a status line shows
    decisions, latency p50/p99, dropped samples and missed deadlines."""
    from neurodec.errors import InvalidInputError
    from neurodec.online.decoder_file import load_decoder

    if (source_id is None) == (name is None):
        raise InvalidInputError("give exactly one of --source-id or --name")
    if loopback_only:
        from neurodec.online.lsl import lsl_loopback_only

        lsl_loopback_only()
    from neurodec.online.lsl import DecisionOutlet, open_stream
    from neurodec.online.source import StreamLostError

    dec_file = load_decoder(decoder_path, trusted=trust)
    decoder = dec_file.streaming(step=step)
    outlet = DecisionOutlet(out_name, decoder.classes_) if out_name else None
    try:
        with open_stream(source_id, name, timeout=timeout, data_timeout=data_timeout) as src:
            click.echo(
                f"decoding {src.name!r} (source_id {src.source_id}) with {decoder_path.name}: "
                f"{decoder.n_window}-sample windows every {decoder.n_step} samples"
                + (f"; decisions on LSL {out_name!r}" if out_name else "")
            )
            last = 0.0
            lost = None
            try:
                for d in decoder.run(src, outlet=outlet, duration=duration):
                    if print_decisions:
                        probs = (
                            "" if d.probabilities is None else " ".join(f"{p:.3f}" for p in d.probabilities)
                        )
                        click.echo(f"\n{d.timestamp:.4f}\t{d.prediction}\t{probs}\t{d.quality}", nl=False)
                    now = time.monotonic()
                    if now - last >= 0.5:
                        click.echo("\r" + decoder.monitor.status_line(), nl=False)
                        last = now
            except StreamLostError as exc:
                lost = exc
            if decoder.monitor is not None:
                click.echo("\r" + decoder.monitor.status_line())
            if lost is not None:
                raise lost
    finally:
        if outlet is not None:
            outlet.close()
