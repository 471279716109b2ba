"""Paired statistics between pipelines, per dataset and across datasets.

As in MOABB's analysis: scores are averaged over sessions per subject; for
each dataset and ordered pair of pipelines (A, B) a one-sided paired test of
"A scores higher than B" — a sign-flip permutation test of the summed
differences when there are fewer than ``perm_cutoff`` subjects (exact up to
14 subjects), the Wilcoxon signed-rank test otherwise — and the standardised
mean difference (mean / std of the paired differences) as effect size. Across
datasets, p-values are combined with Stouffer's method and effects averaged,
both weighted by the square root of the number of subjects.

Scores of different runs (a ``run`` or ``context`` column, see
:func:`neurodec.evaluation.summary.label_runs`) are never averaged or paired
together: each run is its own group.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy import stats as sps

from neurodec.errors import InvalidInputError

__all__ = [
    "subject_scores",
    "permutation_pvalue",
    "standardized_mean_difference",
    "paired_comparisons",
    "meta_analysis",
]

_EXACT_MAX = 14


def _group_keys(results: pd.DataFrame) -> list[str]:
    """dataset, and evaluation / run / context where present: what must not be mixed."""
    return ["dataset"] + [c for c in ("evaluation", "run", "context") if c in results]


def subject_scores(results: pd.DataFrame) -> pd.DataFrame:
    """Mean score per (dataset, evaluation, run, pipeline, subject), over sessions and folds."""
    need = {"dataset", "pipeline", "subject", "score"}
    missing = need - set(results.columns)
    if missing:
        raise InvalidInputError(f"results lack column(s) {sorted(missing)}")
    keys = _group_keys(results) + ["pipeline", "subject"]
    return results.groupby(keys, sort=True, dropna=False)["score"].mean().reset_index()


def permutation_pvalue(diffs: np.ndarray, n_perms: int = 10000, seed: int = 0) -> float:
    """One-sided p-value of ``sum(diffs) > 0`` under random sign flips.

    Exact (all ``2**n`` sign vectors) for ``n <= 14``, else ``n_perms`` random
    flips (the observed one counted). Never returns 1 exactly, so the values can
    be combined with Stouffer's method.
    """
    d = np.asarray(diffs, dtype=float)
    n = len(d)
    if n == 0:
        return float("nan")
    observed = d.sum()
    if n <= _EXACT_MAX:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        count, total = int(np.sum(signs @ d >= observed - 1e-12)), len(signs)
    else:
        rng = np.random.RandomState(seed)
        signs = rng.choice((1.0, -1.0), size=(n_perms, n))
        count, total = int(np.sum(signs @ d >= observed - 1e-12)) + 1, n_perms + 1
    return min(count / total, (total - 1) / total)


def standardized_mean_difference(diffs: np.ndarray) -> float:
    """Mean of the paired differences over their standard deviation (ddof=1);
    0 for identical scores, signed infinity for a constant non-zero offset."""
    d = np.asarray(diffs, dtype=float)
    if len(d) == 0:
        return float("nan")
    if np.allclose(d, d[0], rtol=0, atol=1e-15):
        return 0.0 if d[0] == 0 else float(np.copysign(np.inf, d[0]))
    return float(d.mean() / d.std(ddof=1))


def paired_comparisons(results: pd.DataFrame, perm_cutoff: int = 20, seed: int = 0) -> pd.DataFrame:
    """Every ordered pipeline pair, per dataset (and evaluation, run).

    Returns
    -------
    DataFrame
        ``dataset, [evaluation, run, context,] pipe1, pipe2, n_subjects, mean_diff,
        smd, p, test`` where ``p`` tests "pipe1 > pipe2" on subjects scored by both.
    """
    subj = subject_scores(results)
    group_keys = _group_keys(subj)
    rows = []
    for key, df in subj.groupby(group_keys, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        table = df.pivot(index="subject", columns="pipeline", values="score")
        for a, b in itertools.permutations(table.columns, 2):
            pair = table[[a, b]].dropna()
            d = (pair[a] - pair[b]).to_numpy()
            n = len(d)
            if n < 2:
                p, test = float("nan"), "none"
            elif n < perm_cutoff:
                p, test = permutation_pvalue(d, seed=seed), "permutation"
            elif np.allclose(d, 0):
                p, test = 1.0, "wilcoxon"
            else:
                p, test = (
                    float(sps.wilcoxon(d, alternative="greater", zero_method="zsplit").pvalue),
                    "wilcoxon",
                )
            rows.append(
                dict(zip(group_keys, key))
                | {
                    "pipe1": a,
                    "pipe2": b,
                    "n_subjects": n,
                    "mean_diff": float(d.mean()) if n else np.nan,
                    "smd": standardized_mean_difference(d),
                    "p": p,
                    "test": test,
                }
            )
    return pd.DataFrame(rows)


def meta_analysis(comparisons: pd.DataFrame, pipe1: str, pipe2: str) -> pd.DataFrame:
    """Combine one pair's per-dataset results (Stouffer, sqrt(n) weights).

    Returns
    -------
    DataFrame
        The per-dataset rows for ``pipe1 > pipe2`` plus a final ``dataset="meta"``
        row with the combined ``smd`` and ``p``.
    """
    rows = comparisons[(comparisons["pipe1"] == pipe1) & (comparisons["pipe2"] == pipe2)].copy()
    if rows.empty:
        raise InvalidInputError(f"no comparison of {pipe1!r} with {pipe2!r} in these results")
    ok = rows["p"].notna() & np.isfinite(rows["smd"])
    w = np.sqrt(rows.loc[ok, "n_subjects"].to_numpy(float))
    if len(w) == 0:
        smd, p = np.nan, np.nan
    elif len(w) == 1:
        smd, p = float(rows.loc[ok, "smd"].iloc[0]), float(rows.loc[ok, "p"].iloc[0])
    else:
        smd = float(np.sum(w / w.sum() * rows.loc[ok, "smd"].to_numpy()))
        pv = np.clip(rows.loc[ok, "p"].to_numpy(float), 1e-300, 1 - 1e-12)
        p = float(sps.combine_pvalues(pv, method="stouffer", weights=w).pvalue)
    meta = {c: np.nan for c in rows.columns} | {
        "dataset": "meta",
        "pipe1": pipe1,
        "pipe2": pipe2,
        "n_subjects": int(rows["n_subjects"].sum()),
        "smd": smd,
        "p": p,
        "test": "stouffer",
    }
    return pd.concat([rows, pd.DataFrame([meta])], ignore_index=True)
