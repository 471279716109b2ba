"""PNG figures of results (matplotlib, Agg backend; each returns the Figure).

- :func:`score_plot`: score per subject per pipeline, one panel per
  (dataset, evaluation, run).
- :func:`paired_plot`: pipeline A vs pipeline B, one panel per (evaluation,
  run) with one dot per subject (coloured by dataset).
- :func:`forest_plot`: per-dataset and combined effect sizes of A vs B.
- :func:`write_plots`: all of them into a folder.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from neurodec.errors import InvalidInputError  # noqa: E402
from neurodec.evaluation.stats import meta_analysis, paired_comparisons, subject_scores  # noqa: E402

__all__ = ["score_plot", "paired_plot", "forest_plot", "write_plots"]

log = logging.getLogger(__name__)


def _panel_title(*parts: object) -> str:
    return " - ".join(str(p) for p in parts if isinstance(p, str) and p)


def score_plot(results: pd.DataFrame) -> plt.Figure:
    """Dots of subject scores per pipeline with the mean, one panel per dataset/evaluation/run."""
    subj = subject_scores(results)
    for col in ("evaluation", "run"):
        if col not in subj:
            subj[col] = ""
    panels = list(subj.groupby(["dataset", "evaluation", "run"], sort=True))
    fig, axes = plt.subplots(
        len(panels), 1, figsize=(7, 1.2 + 1.0 * max(1, subj.pipeline.nunique()) * len(panels)), squeeze=False
    )
    rng = np.random.RandomState(0)
    for ax, ((ds, ev, run), df) in zip(axes[:, 0], panels):
        pipes = sorted(df.pipeline.unique())
        for i, p in enumerate(pipes):
            s = df[df.pipeline == p].score.to_numpy()
            ax.scatter(s, i + rng.uniform(-0.15, 0.15, len(s)), s=14, alpha=0.6)
            ax.plot([s.mean()] * 2, [i - 0.3, i + 0.3], color="k", lw=2)
        ax.set_yticks(range(len(pipes)), pipes)
        ax.set_title(_panel_title(ds, ev, run), fontsize=10)
        ax.set_xlabel(results["metric"].iloc[0] if "metric" in results else "score")
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def _paired_table(results: pd.DataFrame, pipe1: str, pipe2: str) -> pd.DataFrame:
    """Per-subject scores of both pipelines: one row per (evaluation, run, dataset, subject)."""
    subj = subject_scores(results)
    for col in ("evaluation", "run"):
        if col not in subj:
            subj[col] = ""
    subj = subj[subj["pipeline"].isin([pipe1, pipe2])]
    if subj.empty:
        return pd.DataFrame(columns=["evaluation", "run", "dataset", "subject", pipe1, pipe2])
    table = subj.pivot_table(
        index=["evaluation", "run", "dataset", "subject"], columns="pipeline", values="score"
    ).reset_index()
    if pipe1 not in table or pipe2 not in table:
        return table.iloc[0:0]
    return table.dropna(subset=[pipe1, pipe2])


def paired_plot(results: pd.DataFrame, pipe1: str, pipe2: str) -> plt.Figure:
    """Per-subject scores of ``pipe1`` (x) against ``pipe2`` (y): one panel per
    evaluation (and run), one dot per subject, a colour per dataset.

    Raises
    ------
    InvalidInputError
        If no subject has scores of both pipelines in the same evaluation and run.
    """
    table = _paired_table(results, pipe1, pipe2)
    if table.empty:
        raise InvalidInputError(f"no subject has scores of both {pipe1!r} and {pipe2!r} in one run")
    panels = list(table.groupby(["evaluation", "run"], sort=True))
    colours = {d: f"C{i % 10}" for i, d in enumerate(sorted(table["dataset"].unique()))}
    lo = float(min(table[pipe1].min(), table[pipe2].min(), 0.5)) - 0.02
    hi = float(max(table[pipe1].max(), table[pipe2].max(), 1.0)) + 0.02
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4.6), squeeze=False)
    for ax, ((ev, run), df) in zip(axes[0], panels):
        for ds, part in df.groupby("dataset", sort=True):
            ax.scatter(part[pipe1], part[pipe2], s=18, alpha=0.7, color=colours[ds], label=str(ds))
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xlabel(pipe1)
        ax.set_ylabel(pipe2)
        ax.set_title(f"{_panel_title(ev, run) or 'all'} ({len(df)} subjects)", fontsize=9)
        if len(colours) > 1:
            ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{pipe1} vs {pipe2}: one dot per subject, one panel per evaluation", fontsize=10)
    fig.tight_layout()
    return fig


def forest_plot(meta: pd.DataFrame) -> plt.Figure:
    """Forest plot of :func:`neurodec.evaluation.stats.meta_analysis` output:
    standardised mean difference per dataset (marker size ~ subjects) and the
    combined effect (diamond), with p-values."""
    rows = meta.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(6.5, 1.0 + 0.45 * len(rows)))
    y = np.arange(len(rows))[::-1]
    for yi, (_, r) in zip(y, rows.iterrows()):
        smd = r["smd"] if np.isfinite(r["smd"]) else np.nan
        extra = _panel_title(r.get("evaluation"), r.get("run"))
        label = f"{r['dataset']}" + (f" ({extra})" if extra else "")
        if r["dataset"] == "meta":
            ax.scatter([smd], [yi], marker="D", s=80, color="k")
        else:
            ax.scatter([smd], [yi], s=20 + 4 * float(r["n_subjects"]), color="tab:blue")
        ax.text(
            1.02,
            yi,
            f"p={r['p']:.3g}" if pd.notna(r["p"]) else "p=n/a",
            transform=ax.get_yaxis_transform(),
            va="center",
            fontsize=8,
        )
        rows.loc[_, "label"] = label
    ax.axvline(0, color="k", lw=1, ls="--")
    ax.set_yticks(y, rows["label"])
    p1, p2 = rows["pipe1"].iloc[0], rows["pipe2"].iloc[0]
    ax.set_xlabel(f"standardised mean difference ({p1} - {p2})")
    ax.set_title(f"{p1} vs {p2}", fontsize=10)
    fig.tight_layout()
    return fig


def write_plots(results: pd.DataFrame, folder: str | Path) -> list[Path]:
    """Write ``scores.png``, ``paired_<A>_vs_<B>.png`` and ``forest_<A>_vs_<B>.png``
    (every pipeline pair scored on common subjects, A before B alphabetically)
    into ``folder``. ``results``: per-session or per-fold scores, with a ``run``
    column to keep runs apart (:func:`neurodec.evaluation.summary.label_runs`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []

    def save(fig, name):
        path = folder / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    if results.empty:
        return written
    save(score_plot(results), "scores.png")
    comps = paired_comparisons(results)
    for a, b in itertools.combinations(sorted(results["pipeline"].unique()), 2):
        if _paired_table(results, a, b).empty:
            log.info("no subject has scores of both %s and %s in one run: no paired plot", a, b)
            continue
        safe = f"{_safe(a)}_vs_{_safe(b)}"
        save(paired_plot(results, a, b), f"paired_{safe}.png")
        if not comps.empty and ((comps["pipe1"] == a) & (comps["pipe2"] == b)).any():
            save(forest_plot(meta_analysis(comps, a, b)), f"forest_{safe}.png")
    return written


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in name)
