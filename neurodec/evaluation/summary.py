"""Tables derived from the per-fold results rows (pure pandas, no I/O).

Rows of one store can come from runs that must not be averaged together: other
seeds, paradigm parameters, protocol options or metric (another ``context``),
another definition of a pipeline under the same name (another
``pipeline_key``), or data files changed since (an older ``data_version``).
:func:`label_runs` gives every row a ``run`` label that tells them apart, and
the tables below keep different runs (and contexts) in different rows unless
the rows were pooled (``label_runs(..., pool=True)``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import pandas as pd

from neurodec.evaluation.identity import content_hash

__all__ = ["per_session_scores", "summary_table", "label_runs", "run_notes"]

_KEYS = ["dataset", "evaluation", "pipeline", "pipeline_key", "metric", "subject", "session"]
#: columns that separate runs, when present
_RUN_COLUMNS = ["run", "context", "data_version"]
#: fields of a context description, in the order labels show them
_FIELD_ORDER = ["seed", "metric", "paradigm", "protocol", "subjects", "cohort_data"]


def _present(frame: pd.DataFrame, columns: list[str]) -> list[str]:
    return [c for c in columns if c in frame.columns]


def per_session_scores(folds: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, evaluation, pipeline, subject, session) of a run: the
    mean score and fit time over its folds (MOABB's within-session report; for
    the other protocols each session already has one fold).

    Columns: the keys (with ``run``, ``context``, ``data_version`` when the folds
    have them), ``score``, ``time``, ``n_samples`` (training trials of a fold;
    within-session: all trials of the session, as MOABB), ``n_samples_test``,
    ``n_channels``, ``n_folds``.
    """
    keys = _present(folds, _KEYS + _RUN_COLUMNS)
    if folds.empty:
        return pd.DataFrame(
            columns=keys + ["score", "time", "n_samples", "n_samples_test", "n_channels", "n_folds"]
        )
    g = folds.groupby(keys, sort=True, dropna=False)
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
    """Mean, std and count of per-session scores by dataset, evaluation, pipeline
    (and run, context, pipeline key when the scores have them: runs are never
    averaged together here; pool them first with ``label_runs(..., pool=True)``)."""
    keys = ["dataset", "evaluation", "metric", "pipeline"]
    keys += _present(scores, ["run", "context", "pipeline_key"])
    if scores.empty:
        return pd.DataFrame(columns=keys + ["mean", "std", "n"])
    return (
        scores.groupby(keys, sort=True, dropna=False)["score"]
        .agg(mean="mean", std="std", n="count")
        .reset_index()
    )


def label_runs(
    folds: pd.DataFrame,
    contexts: Mapping[str, Mapping] | None = None,
    current_versions: Mapping[tuple[str, int], str] | None = None,
    *,
    pool: bool = False,
) -> pd.DataFrame:
    """Label each row with the run it belongs to, for reports.

    Parameters
    ----------
    folds : DataFrame
        Store rows (:meth:`ResultsStore.to_frame`).
    contexts : dict
        Context hash -> description (:meth:`ResultsStore.contexts`).
    current_versions : dict
        ``(dataset, subject)`` -> the data version used last
        (:meth:`ResultsStore.current_data_versions`); rows computed on another
        version of a subject's data (or, cross-subject, of a training subject's)
        are ``data=older``; rows of stores older than the version columns
        ``data=legacy``.
    pool : bool
        Average across runs: every row gets ``run=""`` and the ``context``,
        ``pipeline_key`` and ``data_version`` columns are dropped.

    Returns
    -------
    DataFrame
        A copy with a ``run`` column: ``""`` where a (dataset, evaluation) has a
        single run, else the fields that differ between its runs (``seed=42``,
        ``data=older``, ...). A pipeline name with several definitions is shown
        as its ``pipeline_key`` (``name@hash``).
    """
    out = folds.copy()
    if pool:
        out["run"] = ""
        return out.drop(columns=_present(out, ["context", "pipeline_key", "data_version"]))
    out["run"] = ""
    if out.empty or "context" not in out:
        return out
    contexts = dict(contexts or {})
    state = _data_state(out, contexts, dict(current_versions or {}))
    run_id = out["context"].astype(str) + "|" + state
    for _, idx in out.groupby(["dataset", "evaluation"], sort=False).groups.items():
        ids = run_id.loc[idx]
        unique = list(dict.fromkeys(ids))
        if len(unique) > 1:
            labels = _labels([tuple(u.rsplit("|", 1)) for u in unique], contexts)
            out.loc[idx, "run"] = ids.map(dict(zip(unique, labels)))
    if "pipeline_key" in out:
        n_keys = out.groupby("pipeline")["pipeline_key"].transform("nunique")
        out.loc[n_keys > 1, "pipeline"] = out.loc[n_keys > 1, "pipeline_key"]
    return out


def _data_state(out: pd.DataFrame, contexts: dict, current: dict) -> pd.Series:
    """``current``, ``older`` or ``legacy`` per row."""
    state = pd.Series("current", index=out.index)
    if "data_version" not in out:
        return state
    version = out["data_version"].astype(str)
    now = [current.get((d, int(s))) for d, s in zip(out["dataset"], out["subject"])]
    now = pd.Series(now, index=out.index, dtype=object)
    older = now.notna() & (now != version)
    stale_contexts = set()
    for (dataset, ctx), _ in out.groupby(["dataset", "context"], sort=False):
        cohort = (contexts.get(ctx) or {}).get("cohort_data") or {}
        if any(current.get((dataset, int(s)), v) != v for s, v in cohort.items()):
            stale_contexts.add((dataset, ctx))
    if stale_contexts:
        older |= pd.Series(list(zip(out["dataset"], out["context"])), index=out.index).isin(stale_contexts)
    state[older] = "older"
    state[version == "legacy"] = "legacy"
    return state


def _labels(runs: list[tuple[str, str]], contexts: dict) -> list[str]:
    """Short distinct labels of several (context, data state) runs: the fields of
    their context descriptions that differ, and the data state if it does."""
    fields = [
        {k: v for k, v in contexts[ctx].items() if k != "evaluation"} if ctx in contexts else None
        for ctx, _ in runs
    ]
    keys = {k for f in fields if f for k in f}
    differing = [
        k
        for k in _FIELD_ORDER + sorted(keys - set(_FIELD_ORDER))
        if k in keys and len({json.dumps(f.get(k), sort_keys=True, default=str) for f in fields if f}) > 1
    ]
    data_differs = len({state for _, state in runs}) > 1
    labels = []
    for (ctx, state), f in zip(runs, fields):
        parts = [_show(k, f.get(k)) for k in differing] if f is not None else [f"context {ctx[:8]}"]
        labels.append("; ".join(parts + ([f"data={state}"] if data_differs else [])))
    if len(set(labels)) < len(labels) or not all(labels):
        labels = ["; ".join(filter(None, [lab, f"context {ctx[:8]}"])) for lab, (ctx, _) in zip(labels, runs)]
    return labels


def _show(key: str, value: object) -> str:
    if key in ("seed", "metric"):
        return f"{key}={value}"
    if key == "subjects" and isinstance(value, list) and len(value) <= 6:
        return f"subjects={','.join(map(str, value))}"
    if key == "paradigm" and isinstance(value, str):
        try:
            name = json.loads(value)["class"].rsplit(".", 1)[-1]
        except (ValueError, KeyError, TypeError):
            name = "paradigm"
        return f"{name}#{_short(value)}"
    return f"{key}#{_short(value)}"


def _short(value: object) -> str:
    return content_hash(json.dumps(value, sort_keys=True, default=str), 6)


def run_notes(view: pd.DataFrame) -> list[str]:
    """One line per (dataset, evaluation) holding several runs, and per pipeline
    name with several definitions: what a report keeps apart and why."""
    notes = []
    if "run" in view and not view.empty:
        for (ds, ev), df in view.groupby(["dataset", "evaluation"], sort=True):
            runs = sorted(r for r in df["run"].unique() if r)
            if len(runs) > 1:
                notes.append(
                    f"{ds} {ev}: {len(runs)} runs that differ ({' | '.join(runs)}); reported apart, "
                    "pool them with --pool"
                )
    if "pipeline_key" in view and not view.empty:
        shown = view.drop_duplicates("pipeline_key")
        named = shown["pipeline_key"].str.rsplit("@", n=1).str[0]
        for name, n in named[shown["pipeline"] != named].value_counts().sort_index().items():
            notes.append(f"pipeline {name!r} has {n} definitions; each is shown as name@hash")
    return notes
