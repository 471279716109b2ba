"""``neurodec benchmark``: evaluate YAML pipelines on datasets with MOABB protocols."""

from __future__ import annotations

from pathlib import Path

import click

from neurodec.cli.pipelines_cmd import ALLOW_PYTHON_HELP, echo_python_files

__all__ = ["benchmark", "MultiValueOption", "print_summary", "quiet_libraries"]


class MultiValueOption(click.Option):
    """An option taking several values after one flag (``--evaluations a b``),
    repeated flags, or comma-separated values."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("multiple", True)
        super().__init__(*args, **kwargs)

    def add_to_parser(self, parser, ctx):
        super().add_to_parser(parser, ctx)
        for name in self.opts:
            opt = parser._long_opt.get(name) or parser._short_opt.get(name)
            if opt is None:
                continue
            original = opt.process

            def process(value, state, original=original):
                original(value, state)
                while state.rargs and not state.rargs[0].startswith("-"):
                    original(state.rargs.pop(0), state)

            opt.process = process

    def type_cast_value(self, ctx, value):
        raw = []
        for v in value or ():
            raw.extend(p for p in str(v).split(",") if p) if isinstance(v, str) else raw.append(v)
        return super().type_cast_value(ctx, tuple(raw))


def quiet_libraries() -> None:
    """Hide MNE/MOABB chatter and deprecation warnings unless -v was given."""
    import logging
    import warnings

    if logging.getLogger("neurodec").getEffectiveLevel() > logging.INFO:
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning, module="mne")
        logging.getLogger("moabb").setLevel(logging.ERROR)
        import mne

        mne.set_log_level("ERROR")


def print_summary(result) -> None:
    """Print the per-(dataset, evaluation, pipeline) summary table."""
    table = result.summary.copy()
    if table.empty:
        click.echo("no results")
        return
    table["score"] = table["mean"].map("{:.3f}".format) + " ± " + table["std"].fillna(0).map("{:.3f}".format)
    click.echo(table[["dataset", "evaluation", "metric", "pipeline", "score", "n"]].to_string(index=False))


@click.command("benchmark")
@click.option(
    "--pipelines",
    "pipelines_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder (or file) of pipeline files (YAML; Python with --allow-python) "
    "[default: the bundled pipelines/].",
)
@click.option(
    "--trust-module",
    "trust_modules",
    multiple=True,
    metavar="NAME",
    help="Let the pipeline files use estimator classes from module NAME (repeatable); only "
    "sklearn, pyriemann, neurodec, mne, braindecode, moabb and scipy are allowed without it.",
)
@click.option("--allow-python", is_flag=True, help=ALLOW_PYTHON_HELP)
@click.option(
    "--datasets", cls=MultiValueOption, required=True, help="Dataset names (space or comma separated)."
)
@click.option(
    "--dataset-option",
    "dataset_options",
    multiple=True,
    metavar="NAME=VALUE",
    help="Pass an option to the datasets' class (repeatable; VALUE is read as YAML), e.g. "
    "--dataset-option 'frequencies=[9, 11, 13, 15, 17]' for SimulatedSSVEP.",
)
@click.option(
    "--evaluations",
    cls=MultiValueOption,
    default=("within-session",),
    show_default=True,
    help="within-session, cross-session, cross-subject, pseudo-online (held-out runs replayed "
    "through the streaming decoder, beside the offline score of the same model).",
)
@click.option(
    "--data-root",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder with one subfolder per dataset [default: NEURODEC_DATA or ../shared/data].",
)
@click.option(
    "--results",
    "results_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Results folder: results.sqlite (resumable), results.csv and plots.",
)
@click.option("--subjects", cls=MultiValueOption, type=int, default=(), help="Only these subjects.")
@click.option(
    "--paradigm",
    default=None,
    help="Force one paradigm (LeftRightImagery, MotorImagery, P300, FilterBankLeftRightImagery, "
    "FilterBankMotorImagery, SSVEP, FilterBankSSVEP) [default: per pipeline, as MOABB].",
)
@click.option("--n-jobs", type=int, default=1, show_default=True, help="Parallel folds (-1: all cores).")
@click.option("--random-state", type=int, default=42, show_default=True)
@click.option(
    "--metric",
    default=None,
    help="roc_auc, accuracy, balanced_accuracy, kappa, log_loss, ece "
    "[default: ROC-AUC for 2 classes, else accuracy].",
)
@click.option(
    "--backend",
    type=click.Choice(["loky", "threading", "sequential", "dask"]),
    default="loky",
    show_default=True,
    help="Where folds run; dask uses --scheduler or a local cluster.",
)
@click.option("--scheduler", default=None, help="Dask scheduler address (tcp://host:8786).")
@click.option(
    "--online-step",
    type=float,
    default=0.1,
    show_default=True,
    help="pseudo-online: seconds between two decisions of the streaming decoder.",
)
@click.option(
    "--online-chunk",
    type=int,
    default=16,
    show_default=True,
    help="pseudo-online: samples per chunk pushed into the streaming decoder.",
)
@click.option("--overwrite", is_flag=True, help="Recompute instead of resuming.")
@click.option("--no-plots", is_flag=True, help="Do not write PNG plots.")
@click.option(
    "--allow-missing-runs",
    is_flag=True,
    help="Read the runs that are present when a dataset's run files are missing (a warning, and an "
    "incomplete_session metadata column) instead of failing.",
)
def benchmark(
    pipelines_path,
    trust_modules,
    allow_python,
    datasets,
    dataset_options,
    evaluations,
    data_root,
    results_dir,
    subjects,
    paradigm,
    n_jobs,
    random_state,
    metric,
    backend,
    scheduler,
    online_step,
    online_chunk,
    overwrite,
    no_plots,
    allow_missing_runs,
):
    """Evaluate pipelines on datasets (MOABB protocols); resumable, prints a summary."""
    quiet_libraries()
    from neurodec.config import pipelines_dir
    from neurodec.errors import InvalidInputError
    from neurodec.evaluation.benchmark import (
        load_datasets,
        parse_dataset_options,
        resolve_evaluations,
        run_benchmark,
    )
    from neurodec.evaluation.metrics import METRICS
    from neurodec.evaluation.pipelines import read_pipeline_specs
    from neurodec.evaluation.store import check_writable

    evaluations = resolve_evaluations(evaluations)
    if metric is not None and metric not in METRICS:
        raise InvalidInputError(f"unknown metric {metric!r}; choose one of {', '.join(sorted(METRICS))}")
    if scheduler and backend != "dask":
        raise InvalidInputError("--scheduler needs --backend dask")
    options = parse_dataset_options(dataset_options)
    check_writable(results_dir)  # a read-only store fails before anything is loaded
    path = pipelines_path if pipelines_path is not None else pipelines_dir()
    ds = load_datasets(
        datasets,
        data_root,
        list(subjects) or None,
        allow_missing_runs=allow_missing_runs,
        dataset_options=options,
    )
    specs = read_pipeline_specs(path, trust_modules=list(trust_modules), allow_python=allow_python)
    echo_python_files(specs)
    result = run_benchmark(
        specs,
        ds,
        evaluations,
        results_dir,
        paradigm=paradigm,
        n_jobs=n_jobs,
        random_state=random_state,
        backend=backend,
        scheduler=scheduler,
        metric=metric,
        overwrite=overwrite,
        plots=not no_plots,
        evaluation_options={"pseudo-online": {"step": online_step, "chunk_size": online_chunk}},
    )
    print_summary(result)
    click.echo(
        f"\nresults: {results_dir / 'results.csv'} ({result.n_stored} fold rows in the store, "
        f"{len(result.folds)} from this run); "
        f"plots: {len([f for f in result.files if f.suffix == '.png'])} PNG in {results_dir}"
    )
