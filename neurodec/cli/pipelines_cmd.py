"""``neurodec pipelines``: list the pipelines defined in a folder of YAML (and Python) files."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["pipelines", "ALLOW_PYTHON_HELP", "echo_python_files"]

ALLOW_PYTHON_HELP = (
    "Execute Python pipeline files (*.py, MOABB's format). They are code and run with your "
    "permissions: use only on files you trust. Without it they are listed from their source "
    "and left out of runs."
)


def echo_python_files(specs) -> None:
    """Say on stderr which Python pipeline files were executed and which were left out."""
    from neurodec.evaluation.python_pipelines import PythonPipelineSpec

    python = [s for s in specs if isinstance(s, PythonPipelineSpec)]
    ran = [f"{s.path} (sha256 {s.content_hash})" for s in python if s.executed]
    left = [str(s.path) for s in python if not s.executed]
    if ran:
        click.echo(f"executed {len(ran)} Python pipeline file(s): {', '.join(ran)}", err=True)
    if left:
        click.echo(
            f"not executed (pass --allow-python to run them): {len(left)} Python pipeline "
            f"file(s): {', '.join(left)}",
            err=True,
        )


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
@click.option("--allow-python", is_flag=True, help=ALLOW_PYTHON_HELP)
def pipelines(folder, paradigm, trust_modules, allow_python):
    """List pipelines in FOLDER [default: the bundled pipelines/]: name, paradigms, steps, file.

    Files naming a module outside the allow-list (and not given with --trust-module) are
    refused; nothing is imported. Python files (*.py) are listed from their source and
    executed only with --allow-python.
    """
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.pipelines import read_pipeline_specs
    from neurodec.evaluation.python_pipelines import PythonPipelineSpec

    folder = folder if folder is not None else pipelines_dir()
    specs = read_pipeline_specs(
        folder, paradigm=paradigm, trust_modules=list(trust_modules), allow_python=allow_python
    )
    echo_python_files(specs)
    if not specs:
        click.echo(f"no pipelines for paradigm {paradigm} in {folder}")
        return
    for s in specs:
        if isinstance(s, PythonPipelineSpec) and not s.executed:
            steps = f"(Python, not executed; imports {', '.join(s.imports) or 'nothing'})"
        else:
            steps = " -> ".join(step["name"] for step in s.steps)
        grid = f"  grid: {', '.join(s.param_grid)}" if s.param_grid else ""
        click.echo(
            f"{s.name:<24} {','.join(s.paradigms):<32} {steps}{grid}  [{s.path.name} {s.content_hash}]"
        )
