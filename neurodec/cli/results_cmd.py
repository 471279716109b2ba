"""``neurodec results DIR [show|compare|plot]``: read a results folder."""

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
@click.argument("action", type=click.Choice(["show", "compare", "plot"]), default="show")
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
def results(folder, action, export, perm_cutoff):
    """Show the summary, compare pipelines (paired tests, effect sizes, meta-analysis) or write plots."""
    from neurodec.errors import InvalidInputError
    from neurodec.evaluation.stats import meta_analysis, paired_comparisons
    from neurodec.evaluation.summary import per_session_scores, summary_table

    store, folds = _load(folder)
    try:
        if folds.empty:
            click.echo(f"{folder}: the store is empty")
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
