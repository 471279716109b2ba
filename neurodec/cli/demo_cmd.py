"""``neurodec demo``: the first command for a new user.

A small within-session and cross-session benchmark of three classic pipelines
on the built-in simulated dataset (nothing to download), printed as a table.
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import click

__all__ = ["demo", "demo_pipelines", "demo_dataset"]

log = logging.getLogger(__name__)


def demo_pipelines() -> dict:
    """CSP+LDA, tangent space + logistic regression, and MDM."""
    from mne.decoding import CSP
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return {
        "CSP+LDA": make_pipeline(CSP(n_components=6), LinearDiscriminantAnalysis()),
        "TS+LR": make_pipeline(Covariances("oas"), TangentSpace(metric="riemann"), LogisticRegression()),
        "MDM": make_pipeline(Covariances("oas"), MDM(metric="riemann")),
    }


def demo_dataset(n_subjects: int = 3, n_sessions: int = 2, seed: int = 42):
    """The simulated motor-imagery dataset in a small configuration."""
    from neurodec.datasets import get_dataset

    return get_dataset(
        "SimulatedMI",
        n_subjects=n_subjects,
        n_sessions=n_sessions,
        n_runs=1,
        n_trials=40,
        n_eeg_channels=32,
        seed=seed,
    )


@click.command("demo")
@click.option(
    "--results",
    "results_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Keep the results here [default: a temporary folder].",
)
@click.option("--subjects", type=int, default=3, show_default=True)
@click.option("--sessions", type=int, default=2, show_default=True)
@click.option("--n-jobs", type=int, default=1, show_default=True)
def demo(results_dir, subjects, sessions, n_jobs):
    """Run a small benchmark on the simulated dataset and print the results table."""
    from neurodec.cli.benchmark_cmd import print_summary, quiet_libraries
    from neurodec.evaluation.benchmark import run_benchmark

    quiet_libraries()
    t0 = time.perf_counter()
    dataset = demo_dataset(subjects, sessions)
    click.echo(
        f"neurodec demo: {dataset.code}, {subjects} subjects x {sessions} sessions, "
        "pipelines CSP+LDA, TS+LR, MDM; within-session and cross-session"
    )
    with tempfile.TemporaryDirectory(prefix="neurodec-demo-") as tmp:
        folder = results_dir if results_dir is not None else Path(tmp)
        result = run_benchmark(
            demo_pipelines(),
            [dataset],
            ["within-session", "cross-session"],
            folder,
            n_jobs=n_jobs,
            random_state=42,
            plots=results_dir is not None,
        )
        print_summary(result)
    click.echo(
        f"\n{len(result.folds)} folds in {time.perf_counter() - t0:.1f}s"
        + (f"; results in {results_dir}" if results_dir is not None else "")
    )
