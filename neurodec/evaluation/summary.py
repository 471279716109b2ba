"""Tables derived from the per-fold results rows (pure pandas, no I/O)."""

from __future__ import annotations

import pandas as pd

__all__ = ["per_session_scores", "summary_table"]

_KEYS = ["dataset", "evaluation", "pipeline", "pipeline_key", "metric", "subject", "session"]


def per_session_scores(folds: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, evaluation, pipeline, subject, session): the mean
    score and fit time over its folds (MOABB's within-session report; for the
    other protocols each session already has one fold).

    Columns: the keys, ``score``, ``time``, ``n_samples`` (training trials of a
    fold; within-session: all trials of the session, as MOABB),
    ``n_samples_test``, ``n_channels``, ``n_folds``.
    """
    if folds.empty:
        return pd.DataFrame(
            columns=_KEYS + ["score", "time", "n_samples", "n_samples_test", "n_channels", "n_folds"]
        )
    g = folds.groupby(_KEYS, sort=True, dropna=False)
    out = g.agg(
        score=("score", "mean"),
        time=("time", "mean"),
        n_train=("n_train", "mean"),
        n_samples_test=("n_test", "mean"),
        n_channels=("n_channels", "first"),
        n_folds=("fold", "count"),
    ).reset_index()
    within = out["evaluation"] == "WithinSession"
    total = g.apply(lambda d: int(d["n_train"].iloc[0] + d["n_test"].iloc[0]), include_groups=False)
    out["n_samples"] = out["n_train"].round().astype(int)
    out.loc[within, "n_samples"] = total.to_numpy()[within.to_numpy()]
    out["n_samples_test"] = out["n_samples_test"].round().astype(int)
    return out.drop(columns="n_train")


def summary_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and count of per-session scores by dataset, evaluation, pipeline."""
    if scores.empty:
        return pd.DataFrame(columns=["dataset", "evaluation", "pipeline", "metric", "mean", "std", "n"])
    return (
        scores.groupby(["dataset", "evaluation", "metric", "pipeline"], sort=True)["score"]
        .agg(mean="mean", std="std", n="count")
        .reset_index()
    )
