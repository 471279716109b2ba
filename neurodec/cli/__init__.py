"""The ``neurodec`` command line: thin commands over the library layers.

Each sub-command lives in its own module (``neurodec/cli/<name>_cmd.py``) and is
registered in :data:`COMMANDS`; modules are imported lazily so ``neurodec --help``
stays fast.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys

import click

from neurodec import __version__
from neurodec.errors import NeurodecError, Terminated

__all__ = ["main", "cli"]

#: sub-command name -> (module, attribute, one-line help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "datasets": (
        "neurodec.cli.datasets_cmd",
        "datasets",
        "List datasets, their subjects/sessions and local files.",
    ),
    "demo": ("neurodec.cli.demo_cmd", "demo", "Run a small benchmark on the simulated dataset."),
    "benchmark": (
        "neurodec.cli.benchmark_cmd",
        "benchmark",
        "Evaluate pipelines on datasets (MOABB protocols).",
    ),
    "pipelines": ("neurodec.cli.pipelines_cmd", "pipelines", "List the pipelines in a folder of YAML files."),
    "results": (
        "neurodec.cli.results_cmd",
        "results",
        "Show, compare, plot or export (MOABB's format) a results store.",
    ),
    "fit": ("neurodec.cli.fit_cmd", "fit", "Fit a pipeline on a dataset and write a decoder file."),
    "stream": ("neurodec.cli.stream_cmd", "stream", "Decode a live LSL stream with a decoder file."),
    "replay": ("neurodec.cli.replay_cmd", "replay", "Play a recording as a live LSL stream."),
    "pseudo-online": (
        "neurodec.cli.pseudo_online_cmd",
        "pseudo_online",
        "Score held-out runs offline and replayed through the streaming decoder.",
    ),
    "corpus": ("neurodec.cli.corpus_cmd", "corpus", "Build or describe a tokenizer pretraining corpus."),
    "pretrain-tokenizer": (
        "neurodec.cli.pretrain_cmd",
        "pretrain_tokenizer",
        "Pretrain the brain tokenizer from a YAML config (resumable).",
    ),
    "pretrain": (
        "neurodec.cli.pretrain_cmd",
        "pretrain",
        "Pretrain the masked-token backbone from a YAML config (resumable; torchrun for DDP).",
    ),
    "tokenize": (
        "neurodec.cli.tokenize_cmd",
        "tokenize",
        "Tokenize a recording with a trained tokenizer (and repair bad channels).",
    ),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (mod, _, _) in COMMANDS.items() if importlib.util.find_spec(mod))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr, _ = COMMANDS[name]
        if importlib.util.find_spec(module) is None:
            return None
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="neurodec")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """neurodec: decode EEG, MEG and iEEG with MOABB-compatible protocols."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("neurodec").setLevel(level)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; turns neurodec errors into exit code 2 and a
    SIGTERM/SIGHUP stop into one line and ``128 + signum`` (143 for SIGTERM)."""
    try:
        cli.main(args=argv, prog_name="neurodec", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except NeurodecError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except Terminated as exc:
        click.echo(f"{exc}: results stored so far are kept; run the same command again to resume", err=True)
        return exc.code
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
