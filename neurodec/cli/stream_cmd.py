"""``neurodec stream``: decode a live LSL stream or BrainFlow board with a decoder file,
publish the decisions on LSL."""

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
@click.option(
    "--brainflow-board",
    default=None,
    metavar="BOARD",
    help="Decode a BrainFlow board instead of an LSL stream: synthetic, playback (with --brainflow-file), "
    "a BoardIds name (cyton_board) or its number.",
)
@click.option(
    "--brainflow-file",
    type=click.Path(path_type=Path),
    default=None,
    help="The recording the playback board plays (BrainFlow's CSV format).",
)
@click.option(
    "--brainflow-master",
    default=None,
    metavar="BOARD",
    help="The board the playback file was recorded with [default: synthetic].",
)
@click.option("--serial-port", default=None, help="Serial port of a wired BrainFlow board (/dev/ttyUSB0).")
@click.option(
    "--markers-name",
    default=None,
    help="Event-locked mode: one decision per marker of this LSL marker stream (name must match exactly "
    "one marker stream), on the epoch the decoder was trained on (from the paradigm's tmin).",
)
@click.option("--markers-source-id", default=None, help="Event-locked mode, the marker stream's source_id.")
@click.option(
    "--codes",
    cls=MultiValueOption,
    default=(),
    help="Event-locked mode: decode only the markers with these codes [default: every marker].",
)
@click.option(
    "--no-adapt",
    is_flag=True,
    help="A decoder trained with re-centering whitens by its fixed training mean instead of adapting "
    "to the stream's running mean (the default).",
)
@click.option("--out-name", default=None, help="Publish decisions on this LSL stream (+ '<name>-markers').")
@click.option("--step", type=float, default=0.1, show_default=True, help="Seconds between decisions.")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds to find the stream.")
@click.option(
    "--data-timeout", type=float, default=5.0, show_default=True, help="Seconds without data = stream lost."
)
@click.option(
    "--duration", type=float, default=None, help="Stop after this many seconds [default: until lost]."
)
@click.option("--max-decisions", type=int, default=None, help="Stop after this many decisions.")
@click.option("--trust", cls=MultiValueOption, default=(), help="Extra types to trust in the decoder file.")
@click.option("--loopback-only", is_flag=True, help="Keep LSL discovery on this machine (127.0.0.1).")
@click.option("--print-decisions", is_flag=True, help="Also print one line per decision.")
def stream(
    decoder_path,
    source_id,
    name,
    brainflow_board,
    brainflow_file,
    brainflow_master,
    serial_port,
    markers_name,
    markers_source_id,
    codes,
    no_adapt,
    out_name,
    step,
    timeout,
    data_timeout,
    duration,
    max_decisions,
    trust,
    loopback_only,
    print_decisions,
):
    """Decode the LSL stream selected by --source-id or --name, or the BrainFlow board of
    --brainflow-board, with a decoder file (from `neurodec fit`), publishing decisions on
    --out-name; a status line shows decisions, latency p50/p99, dropped samples and missed
    deadlines. With --markers-name or --markers-source-id (an LSL marker stream, e.g. a stimulus
    program's or `neurodec replay`'s '<name>-annotations') it decodes one epoch per marker
    instead of sliding windows (--codes: only those markers). A decoder trained with
    re-centering adapts to the stream unless --no-adapt. A stream that stops sending for
    --data-timeout seconds ends the run with one line and exit code 2; --duration,
    --max-decisions, Ctrl-C and SIGTERM stop it cleanly (exit code 0)."""
    from neurodec.errors import InvalidInputError
    from neurodec.online.decoder_file import load_decoder

    if sum(v is not None for v in (source_id, name, brainflow_board)) != 1:
        raise InvalidInputError("give exactly one of --source-id, --name or --brainflow-board")
    if brainflow_board is None and (brainflow_file or brainflow_master or serial_port):
        raise InvalidInputError(
            "--brainflow-file, --brainflow-master and --serial-port need --brainflow-board"
        )
    if markers_name is not None and markers_source_id is not None:
        raise InvalidInputError("give at most one of --markers-name and --markers-source-id")
    event_locked = markers_name is not None or markers_source_id is not None
    if codes and not event_locked:
        raise InvalidInputError("--codes selects markers: it needs --markers-name or --markers-source-id")
    if max_decisions is not None and max_decisions < 1:
        raise InvalidInputError(f"--max-decisions must be at least 1, got {max_decisions}")
    board = None
    if brainflow_board is not None:
        from neurodec.online.brainflow import open_board

        board = open_board(  # an unknown board or a missing file fails before anything else
            brainflow_board,
            file=brainflow_file,
            master=brainflow_master,
            serial_port=serial_port,
            data_timeout=data_timeout,
        )
    if loopback_only:
        from neurodec.online.lsl import lsl_loopback_only

        lsl_loopback_only()
    outlet = markers = None
    try:
        dec_file = load_decoder(decoder_path, trusted=trust)
        adapt = False if no_adapt else "auto"
        if event_locked:
            decoder = dec_file.event_locked(codes=list(codes) or None, step=step, adapt=adapt)
        else:
            decoder = dec_file.streaming(step=step, adapt=adapt)
        if event_locked:  # opened before the signal, so no marker of its first chunks is missed
            from neurodec.online.markers import open_markers

            markers = open_markers(markers_source_id, markers_name, timeout=timeout)
        if out_name:
            from neurodec.online.lsl import DecisionOutlet

            outlet = DecisionOutlet(out_name, decoder.classes_)
        if board is not None:
            src = board.start()
            what = f"BrainFlow board {src.name} ({src.n_channels} EEG channels, {src.sfreq:g} Hz, µV)"
        else:
            from neurodec.online.lsl import open_stream

            src = open_stream(source_id, name, timeout=timeout, data_timeout=data_timeout)
            what = f"{src.name!r} (source_id {src.source_id})"
        with src:
            if markers is not None:
                how = (
                    f"one {decoder.n_window}-sample epoch from {decoder.tmin:g} s after each marker of "
                    f"{markers.name!r}" + (f" with code {', '.join(sorted(decoder.codes))}" if codes else "")
                )
            else:
                how = f"{decoder.n_window}-sample windows every {decoder.n_step} samples"
            click.echo(
                f"decoding {what} with {decoder_path.name}: {how}"
                + (f"; decisions on LSL {out_name!r}" if out_name else "")
            )
            ended = _decode(decoder, src, outlet, duration, max_decisions, print_decisions, markers)
            if decoder.monitor is not None:
                click.echo("\r" + decoder.monitor.status_line())
            if isinstance(ended, Exception):
                raise ended
            if ended:
                click.echo(f"stopped: {ended}")
    finally:
        if markers is not None:
            markers.close()
        if outlet is not None:
            outlet.close()
        if board is not None:
            board.close()


def _decode(decoder, src, outlet, duration, max_decisions, print_decisions, markers=None):
    """Decode (one decision per marker when ``markers`` is a marker stream) until the
    duration, the decision count, a stop request (Ctrl-C, SIGTERM, SIGHUP) or the stream's
    end. Returns the :class:`StreamLostError` that ended it, why it stopped early (a
    sentence), or ``""`` when the duration ran out."""
    from neurodec.errors import Terminated
    from neurodec.evaluation.procs import terminate_gracefully
    from neurodec.online.source import StreamLostError

    last = 0.0
    n = 0
    try:
        with terminate_gracefully():  # SIGTERM/SIGHUP stop the loop as Ctrl-C does
            extra = {} if markers is None else {"markers": markers}
            for d in decoder.run(src, outlet=outlet, duration=duration, **extra):
                n += 1
                if print_decisions:
                    probs = "" if d.probabilities is None else " ".join(f"{p:.3f}" for p in d.probabilities)
                    code = "" if markers is None else f"{d.code}\t"
                    click.echo(f"\n{d.timestamp:.4f}\t{code}{d.prediction}\t{probs}\t{d.quality}", nl=False)
                now = time.monotonic()
                if now - last >= 0.5:
                    click.echo("\r" + decoder.monitor.status_line(), nl=False)
                    last = now
                if max_decisions is not None and n >= max_decisions:
                    return f"after {max_decisions} decisions"
    except StreamLostError as exc:
        return exc
    except KeyboardInterrupt:
        return "interrupted (Ctrl-C)"
    except Terminated as exc:
        return f"terminated (signal {exc.code - 128})"
    return ""
