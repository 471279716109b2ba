"""``neurodec results DIR [show|compare|plot|export-moabb TARGET]``: read a results folder.

The store is opened read-only (it may be a read-only file or folder, or in use
by a running benchmark). Rows of different runs (seed, paradigm, protocol
options, metric, pipeline definition, data version) are reported apart, with a
note, unless ``--pool`` is given.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["results"]


def _open(folder: Path):
    from neurodec.errors import DataNotFoundError
    from neurodec.evaluation.store import ResultsStore, resolve_store_path

    path = resolve_store_path(folder)
    if not path.exists():
        raise DataNotFoundError(
            f"no results store at {path}; run `neurodec benchmark --results {folder}` first"
        )
    return ResultsStore(path, readonly=True)


def _table(frame, columns, fmt) -> str:
    return frame[[c for c in columns if c in frame]].to_string(index=False, float_format=fmt)


@click.command("results")
@click.argument("folder", type=click.Path(path_type=Path))
@click.argument("action", type=click.Choice(["show", "compare", "plot", "export-moabb"]), default="show")
@click.argument("target", required=False, type=click.Path(path_type=Path))
@click.option(
    "--paradigm",
    default=None,
    help="export-moabb: the paradigm the runs used (a 'paradigm' column; the HDF5 layout needs it "
    "unless the store records it).",
)
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="HASH",
    help="export-moabb: only the runs with this context (repeatable).",
)
@click.option(
    "--export",
    type=click.Path(path_type=Path),
    default=None,
    help="show: also write every fold row to this .csv or .parquet file.",
)
@click.option(
    "--perm-cutoff",
    type=int,
    default=20,
    show_default=True,
    help="compare: permutation test below this many subjects, Wilcoxon from it.",
)
@click.option(
    "--pool",
    is_flag=True,
    help="Average across runs that differ (seed, paradigm, protocol options, metric, pipeline "
    "definition, data version) instead of reporting them apart.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="plot: folder for the PNG files [default: FOLDER].",
)
def results(folder, action, target, paradigm, contexts, export, perm_cutoff, pool, out):
    """Show the summary, compare pipelines (paired tests, effect sizes, meta-analysis), write
    plots, or export to MOABB's results format.

    export-moabb TARGET writes MOABB's results table (what moabb.analysis plotting and
    statistics take) to TARGET.csv / TARGET.parquet, or MOABB's HDF5 files under the folder
    TARGET (results/<PARADIGM>/<Evaluation>/results_.hdf5, read by moabb's Results).
    """
    from neurodec.errors import InvalidInputError
    from neurodec.evaluation.stats import meta_analysis, paired_comparisons
    from neurodec.evaluation.summary import per_session_scores, run_notes, summary_table

    if (action == "export-moabb") != (target is not None):
        raise InvalidInputError(
            "give TARGET with export-moabb only: neurodec results DIR export-moabb out.csv|out.parquet|FOLDER"
        )
    if export is not None and export.suffix not in (".csv", ".parquet"):
        raise InvalidInputError(f"--export {export}: use a .csv or .parquet file name")
    store = _open(folder)
    try:
        view = store.view(pool=pool)
        if view.empty:
            click.echo(f"{folder}: the store is empty")
            return
        if action == "export-moabb":
            from neurodec.evaluation.moabb_export import moabb_results_frame, write_moabb

            frame = moabb_results_frame(store.to_frame(), paradigm=paradigm, contexts=list(contexts) or None)
            for f in write_moabb(frame, target, paradigm):
                click.echo(f"wrote {f} ({len(frame)} rows in MOABB's results format)")
            return
        for note in run_notes(view):
            click.echo(f"note: {note}")
        scores = per_session_scores(view)
        runs = (scores["run"] != "").any()
        if action == "show":
            t = summary_table(scores)
            cols = ["dataset", "evaluation", "metric", "pipeline"] + (["run"] if runs else [])
            click.echo(_table(t, cols + ["mean", "std", "n"], lambda v: f"{v:.3f}"))
            if export is not None:
                (store.export_csv if export.suffix == ".csv" else store.export_parquet)(export)
                click.echo(f"wrote {export}")
        elif action == "compare":
            _compare(scores, perm_cutoff, runs, paired_comparisons, meta_analysis)
        else:
            from neurodec.evaluation.plots import write_plots

            target = out if out is not None else folder
            _check_plot_folder(target, out is None)
            for f in write_plots(scores, target):
                click.echo(f"wrote {f}")
    finally:
        store.close()


def _compare(scores, perm_cutoff, runs, paired_comparisons, meta_analysis) -> None:
    comps = paired_comparisons(scores, perm_cutoff=perm_cutoff)
    if comps.empty:
        click.echo("need at least two pipelines to compare")
        return
    cols = ["dataset", "evaluation"] + (["run"] if runs else [])
    cols += ["pipe1", "pipe2", "n_subjects", "mean_diff", "smd", "p", "test"]
    click.echo(_table(comps, cols, lambda v: f"{v:.3g}"))
    for ev, part in comps.groupby("evaluation", sort=True):
        per_dataset = part.drop_duplicates(["dataset", "run"] if "run" in part else ["dataset"])
        several = per_dataset["dataset"][per_dataset["dataset"].duplicated()].unique()
        if per_dataset["dataset"].nunique() < 2:
            continue
        if len(several):
            click.echo(
                f"\nno meta-analysis for {ev}: {', '.join(map(str, several))} hold(s) several runs "
                "(pass --pool to combine them)"
            )
            continue
        click.echo(f"\nmeta-analysis across datasets, {ev} (Stouffer):")
        pipes = sorted(set(part["pipe1"]))
        for i, a in enumerate(pipes):
            for b in pipes[i + 1 :]:
                if ((part["pipe1"] == a) & (part["pipe2"] == b)).any():
                    m = meta_analysis(part, a, b).iloc[-1]
                    click.echo(f"  {a} > {b}: smd={m['smd']:.3f} p={m['p']:.3g}")


def _check_plot_folder(target: Path, default: bool) -> None:
    from neurodec.errors import InvalidInputError
    from neurodec.evaluation.store import is_read_only

    if target.is_dir() and is_read_only(target):
        hint = "pass --out FOLDER to write them elsewhere" if default else "pass another --out folder"
        raise InvalidInputError(f"cannot write plots into {target} (read-only); {hint}")
