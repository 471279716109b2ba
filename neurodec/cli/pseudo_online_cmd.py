"""``neurodec pseudo-online``: held-out runs replayed through the streaming decoder."""

from __future__ import annotations

from pathlib import Path

import click

from neurodec.cli.benchmark_cmd import MultiValueOption, quiet_libraries

__all__ = ["pseudo_online"]


@click.command("pseudo-online")
@click.option(
    "--pipelines",
    "pipelines_path",
    type=click.Path(path_type=Path),
    required=True,
    help="Pipeline YAML file or folder.",
)
@click.option("--datasets", cls=MultiValueOption, required=True, help="Dataset names.")
@click.option("--subjects", cls=MultiValueOption, type=int, default=(), help="Only these subjects.")
@click.option("--paradigm", default=None, help="Force LeftRightImagery or MotorImagery.")
@click.option("--data-root", type=click.Path(path_type=Path), default=None, help="Folder of datasets.")
@click.option(
    "--results",
    "results_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder: pseudo_online.csv, pseudo_online.png and rows in results.sqlite.",
)
@click.option("--step", type=float, default=0.1, show_default=True, help="Seconds between decisions.")
@click.option("--chunk-size", type=int, default=16, show_default=True, help="Samples per pushed chunk.")
@click.option("--metric", default=None, help="roc_auc, accuracy or balanced_accuracy.")
def pseudo_online(
    pipelines_path, datasets, subjects, paradigm, data_root, results_dir, step, chunk_size, metric
):
    """Score each held-out run offline and replayed through the streaming decoder, side by side."""
    quiet_libraries()
    import pandas as pd

    from neurodec.evaluation.benchmark import load_datasets, paradigm_for
    from neurodec.evaluation.pipelines import read_pipeline_specs
    from neurodec.evaluation.store import ResultsStore
    from neurodec.online.pseudo_online import plot_pseudo_online, pseudo_online_scores, store_rows

    specs = read_pipeline_specs(pipelines_path)
    tables = []
    store = ResultsStore(results_dir)
    try:
        for ds in load_datasets(datasets, data_root, list(subjects) or None):
            par = paradigm_for(ds, paradigm)
            pipes = {s.name: s.build() for s in specs if type(par).__name__ in s.paradigms}
            if not pipes:
                continue
            table = pseudo_online_scores(pipes, ds, par, step=step, chunk_size=chunk_size, metric=metric)
            context = {
                "paradigm": par.get_params(),
                "step": step,
                "chunk_size": chunk_size,
                "metric": metric,
                "protocol": "leave-one-run-out",
            }
            store.add(store_rows(table, pipes, context))
            tables.append(table)
    finally:
        store.close()
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    if table.empty:
        click.echo("no runs to score (each needs both classes and another run to train on)")
        return
    results_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(results_dir / "pseudo_online.csv", index=False)
    plot_pseudo_online(table, results_dir / "pseudo_online.png")
    summary = (
        table.groupby(["dataset", "pipeline", "metric"])
        .agg(
            offline=("offline", "mean"),
            online=("online", "mean"),
            runs=("run", "size"),
            samples_file=("samples_file", "sum"),
            samples_decoded=("samples_decoded", "sum"),
            dropped=("dropped", "sum"),
            missing_trials=("n_missing", "sum"),
        )
        .reset_index()
    )
    click.echo(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    click.echo(f"\nresults: {results_dir / 'pseudo_online.csv'}, {results_dir / 'pseudo_online.png'}")
