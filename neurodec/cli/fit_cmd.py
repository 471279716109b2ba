"""``neurodec fit``: fit a YAML pipeline on a dataset and write a decoder file."""

from __future__ import annotations

from pathlib import Path

import click

from neurodec.cli.benchmark_cmd import MultiValueOption, quiet_libraries

__all__ = ["fit"]


@click.command("fit")
@click.argument("pipeline", type=click.Path(path_type=Path))
@click.option("--dataset", required=True, help="Dataset name (see `neurodec datasets`).")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="Decoder file to write.")
@click.option(
    "--subjects", cls=MultiValueOption, type=int, default=(), help="Training subjects [default: all]."
)
@click.option("--paradigm", default=None, help="Force LeftRightImagery, MotorImagery or P300.")
@click.option("--name", default=None, help="Pipeline name, when PIPELINE is a folder.")
@click.option(
    "--causal",
    is_flag=True,
    help="Fit on epochs filtered causally as the stream is (event-locked ERP/P300 decoders need it).",
)
@click.option(
    "--data-root",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder with one subfolder per dataset [default: NEURODEC_DATA or ../shared/data].",
)
def fit(pipeline, dataset, out, subjects, paradigm, name, causal, data_root):
    """Fit PIPELINE (a YAML file) on a dataset and write a decoder file for `neurodec stream`."""
    quiet_libraries()
    from neurodec.evaluation.benchmark import load_datasets
    from neurodec.online.decoder_file import load_decoder
    from neurodec.online.training import fit_decoder

    (ds,) = load_datasets([dataset], data_root, list(subjects) or None)
    path = fit_decoder(
        pipeline, ds, out, subjects=list(subjects) or None, paradigm=paradigm, name=name, causal=causal
    )
    dec = load_decoder(path)
    band = f"{dec.fmin or 0:g}-{dec.fmax or dec.sfreq / 2:g} Hz"
    click.echo(
        f"wrote {path}: {dec.metadata['metadata']['pipeline']} on {dec.metadata['metadata']['dataset']} "
        f"subjects {dec.metadata['metadata']['subjects']}, {len(dec.ch_names)} channels at {dec.sfreq:g} Hz, "
        f"windows of {dec.window:g} s, band {band}{' (causal epochs)' if causal else ''}, "
        f"classes {list(dec.classes)}"
    )
