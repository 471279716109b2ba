"""``neurodec datasets``: the registered datasets and what is on disk under the data root."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["datasets"]


@click.command("datasets")
@click.option(
    "--data-root",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder holding one subfolder per dataset, or an MNE data folder such as ~/mne_data "
    "[default: $NEURODEC_DATA or ../shared/data].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Also list every MOABB dataset class not on disk (by default: those with files under "
    "the data root).",
)
def datasets(data_root: Path | None, fmt: str, show_all: bool) -> None:
    """List datasets: paradigm, subjects, sessions per subject, sampling rate,
    channels, events, and how many subjects' files are present locally.

    Besides the registered datasets, any MOABB dataset class whose files are under the
    data root (``<root>/<ClassName>/MNE-<sign>-data/...``, or an MNE data folder such as
    ~/mne_data given as --data-root) is listed and usable by its class name.
    """
    from neurodec.config import data_root as resolve
    from neurodec.datasets.registry import dataset_table

    # DataNotFoundError -> exit code 2 in neurodec.cli.main
    table = dataset_table(data_root, moabb="all" if show_all else "present")
    if fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
        return
    if fmt == "json":
        click.echo(table.to_json(orient="records", indent=2))
        return
    root = resolve(data_root)
    note = "" if root.is_dir() else "  (missing: no local files)"
    click.echo(f"data root: {root}{note}")
    click.echo(table.to_string(index=False))
