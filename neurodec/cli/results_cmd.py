"""``neurodec results DIR [show|compare|plot|export-moabb TARGET]``: read a results folder."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["results"]


def _load(folder: Path):
    from neurodec.errors import DataNotFoundError
    from neurodec.evaluation.store import ResultsStore, resolve_store_path

    path = resolve_store_path(folder)
    if not path.exists():
        raise DataNotFoundError(
            f"no results store at {path}; run `neurodec benchmark --results {folder}` first"
        )
    store = ResultsStore(path)
    try:
        return store, store.to_frame()
    except Exception:
        store.close()
        raise


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
def results(folder, action, target, paradigm, contexts, export, perm_cutoff):
    """Show the summary, compare pipelines (paired tests, effect sizes, meta-analysis), write
    plots, or export to MOABB's results format.

    export-moabb TARGET writes MOABB's results table (what moabb.analysis plotting and
    statistics take) to TARGET.csv / TARGET.parquet, or MOABB's HDF5 files under the folder
    TARGET (results/<PARADIGM>/<Evaluation>/results_.hdf5, read by moabb's Results).
    """
    from neurodec.errors import InvalidInputError
    from neurodec.evaluation.stats import meta_analysis, paired_comparisons
    from neurodec.evaluation.summary import per_session_scores, summary_table

    if (action == "export-moabb") != (target is not None):
        raise InvalidInputError(
            "give TARGET with export-moabb only: neurodec results DIR export-moabb out.csv|out.parquet|FOLDER"
        )
    store, folds = _load(folder)
    try:
        if folds.empty:
            click.echo(f"{folder}: the store is empty")
            return
        if action == "export-moabb":
            from neurodec.evaluation.moabb_export import moabb_results_frame, write_moabb

            frame = moabb_results_frame(folds, paradigm=paradigm, contexts=list(contexts) or None)
            for f in write_moabb(frame, target, paradigm):
                click.echo(f"wrote {f} ({len(frame)} rows in MOABB's results format)")
            return
        scores = per_session_scores(folds)
        if action == "show":
            t = summary_table(scores)
            click.echo(t.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
            if export is not None:
                if export.suffix == ".csv":
                    store.export_csv(export)
                elif export.suffix == ".parquet":
                    store.export_parquet(export)
                else:
                    raise InvalidInputError(f"--export {export}: use a .csv or .parquet file name")
                click.echo(f"wrote {export}")
        elif action == "compare":
            comps = paired_comparisons(scores, perm_cutoff=perm_cutoff)
            if comps.empty:
                click.echo("need at least two pipelines to compare")
                return
            click.echo(comps.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
            pipes = sorted(scores["pipeline"].unique())
            if scores["dataset"].nunique() > 1:
                click.echo("\nmeta-analysis across datasets (Stouffer):")
                for i, a in enumerate(pipes):
                    for b in pipes[i + 1 :]:
                        m = meta_analysis(comps, a, b).iloc[-1]
                        click.echo(f"  {a} > {b}: smd={m['smd']:.3f} p={m['p']:.3g}")
        else:
            from neurodec.evaluation.plots import write_plots

            files = write_plots(scores, folder)
            for f in files:
                click.echo(f"wrote {f}")
    finally:
        store.close()
