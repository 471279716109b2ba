"""``neurodec pipelines``: list the pipelines defined in a folder of YAML files."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["pipelines"]


@click.command("pipelines")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.option("--paradigm", default=None, help="Only pipelines for this paradigm.")
@click.option(
    "--trust-module",
    "trust_modules",
    multiple=True,
    metavar="NAME",
    help="Let the files use estimator classes from module NAME (repeatable); only sklearn, "
    "pyriemann, neurodec, mne, braindecode, moabb and scipy are allowed without it.",
)
def pipelines(folder, paradigm, trust_modules):
    """List pipelines in FOLDER [default: the bundled pipelines/]: name, paradigms, steps, file.

    Files naming a module outside the allow-list (and not given with --trust-module) are
    refused; nothing is imported.
    """
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.pipelines import read_pipeline_specs

    folder = folder if folder is not None else pipelines_dir()
    specs = read_pipeline_specs(folder, paradigm=paradigm, trust_modules=list(trust_modules))
    if not specs:
        click.echo(f"no pipelines for paradigm {paradigm} in {folder}")
        return
    for s in specs:
        steps = " -> ".join(step["name"] for step in s.steps)
        grid = f"  grid: {', '.join(s.param_grid)}" if s.param_grid else ""
        click.echo(
            f"{s.name:<24} {','.join(s.paradigms):<32} {steps}{grid}  [{s.path.name} {s.content_hash}]"
        )
