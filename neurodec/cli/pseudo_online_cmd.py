"""``neurodec pseudo-online``: ``neurodec benchmark --evaluations pseudo-online`` plus a
per-run table and an online-vs-offline scatter plot."""

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
    help="Results folder (as benchmark's): results.sqlite (resumable), results.csv, plots, and "
    "pseudo_online.csv / pseudo_online.png.",
)
@click.option("--step", type=float, default=0.1, show_default=True, help="Seconds between decisions.")
@click.option("--chunk-size", type=int, default=16, show_default=True, help="Samples per pushed chunk.")
@click.option("--metric", default=None, help="roc_auc, accuracy or balanced_accuracy.")
@click.option("--n-jobs", type=int, default=1, show_default=True, help="Parallel folds (-1: all cores).")
@click.option("--random-state", type=int, default=42, show_default=True, help="Seed of grid searches.")
@click.option("--overwrite", is_flag=True, help="Recompute instead of resuming.")
def pseudo_online(
    pipelines_path,
    datasets,
    subjects,
    paradigm,
    data_root,
    results_dir,
    step,
    chunk_size,
    metric,
    n_jobs,
    random_state,
    overwrite,
):
    """Score each held-out run offline and replayed through the streaming decoder, side by
    side: the pseudo-online protocol of `neurodec benchmark`, into the same results store."""
    quiet_libraries()
    from neurodec.evaluation.benchmark import load_datasets, run_benchmark
    from neurodec.evaluation.pipelines import read_pipeline_specs
    from neurodec.evaluation.store import check_writable
    from neurodec.online.evaluation import online_offline_table
    from neurodec.online.pseudo_online import plot_pseudo_online

    check_writable(results_dir)
    specs = read_pipeline_specs(pipelines_path)
    ds = load_datasets(datasets, data_root, list(subjects) or None)
    result = run_benchmark(
        specs,
        ds,
        ["pseudo-online"],
        results_dir,
        paradigm=paradigm,
        n_jobs=n_jobs,
        random_state=random_state,
        metric=metric,
        overwrite=overwrite,
        evaluation_options={"pseudo-online": {"step": step, "chunk_size": chunk_size}},
    )
    table = online_offline_table(result.folds)
    if table.empty:
        click.echo("no runs to score (each needs both classes and another run to train on)")
        return
    table.to_csv(results_dir / "pseudo_online.csv", index=False)
    plot_pseudo_online(table, results_dir / "pseudo_online.png")
    summary = (
        table.groupby(["dataset", "pipeline", "metric"])
        .agg(
            offline=("offline", "mean"),
            online=("online", "mean"),
            runs=("fold", "size"),
            trials=("n_trials", "sum"),
            scored_online=("n_online", "sum"),
        )
        .reset_index()
    )
    click.echo(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    click.echo(
        f"\nresults: {results_dir / 'pseudo_online.csv'}, {results_dir / 'pseudo_online.png'}; "
        f"`neurodec results {results_dir} show|compare|plot` reports them with the other protocols"
    )
