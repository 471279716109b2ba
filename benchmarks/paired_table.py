"""Markdown lines comparing pipelines with reference pipelines, subject by subject.

Shared by the Riemannian benchmarks. The p-values are those of
:func:`neurodec.evaluation.stats.paired_comparisons` (MOABB's analysis: one-sided
"pipeline > reference", Wilcoxon signed-rank from 20 subjects, sign-flip
permutation below, exact up to 14).
"""

from __future__ import annotations

import pandas as pd

#: The baselines the ACM pipelines are judged against (issue 3: "at least as well as TS+SVM").
TS_SVM_REFERENCES: tuple[str, ...] = ("TS+SVM", "TS+SVM-tuned")


def paired_lines(
    df: pd.DataFrame,
    dataset: str,
    references: tuple[str, ...] = TS_SVM_REFERENCES,
    variants: tuple[str, ...] = (),
) -> list[str]:
    """Wins / losses / ties, mean difference and p of each pipeline against each reference.

    ``df`` has columns ``pipeline, subject, score`` and optionally ``evaluation``; one
    score per (evaluation, pipeline, subject). Scores are compared rounded to 3 decimals
    for the win/loss/tie counts, unrounded for the mean difference and the test. A
    pipeline named with one of ``variants`` as suffix (e.g. ``"+Recentering"``) is
    compared with the references carrying the same suffix.
    """
    from neurodec.evaluation.stats import paired_comparisons

    by_eval = "evaluation" in df
    keys = ["evaluation", "pipe1", "pipe2"] if by_eval else ["pipe1", "pipe2"]
    cols = ["dataset"] + (["evaluation"] if by_eval else []) + ["pipeline", "subject", "score"]
    comp = paired_comparisons(df.assign(dataset=dataset)[cols]).set_index(keys)
    header = "| evaluation " if by_eval else ""
    lines = [
        "",
        "Paired against the references, per subject (wins / losses / ties on scores rounded to 3 "
        "decimals; p: one-sided 'pipeline > reference' as in `neurodec.evaluation.stats.paired_comparisons` "
        "and MOABB's analysis: Wilcoxon signed-rank from 20 subjects, sign-flip permutation below, exact up to 14):",
        "",
        header + "| pipeline | reference | subjects | wins / losses / ties | mean difference | p |",
        ("| --- " if by_eval else "") + "| --- | --- | ---: | --- | ---: | ---: |",
    ]
    groups = df.groupby("evaluation", sort=False) if by_eval else [(None, df)]
    for evaluation, part in groups:
        table = part.pivot_table(index="subject", columns="pipeline", values="score")
        for name in part.pipeline.unique():
            suffix = next((v for v in variants if name.endswith(v)), "")
            for ref in [r + suffix for r in references if r + suffix in table.columns]:
                key = (evaluation, name, ref) if by_eval else (name, ref)
                if name == ref or key not in comp.index:
                    continue
                pair = table[[name, ref]].dropna().round(3)
                d = pair[name] - pair[ref]
                c = comp.loc[key]
                lead = f"| {evaluation} " if by_eval else ""
                lines.append(
                    f"{lead}| {name} | {ref} | {int(c['n_subjects'])} | {(d > 0).sum()} / {(d < 0).sum()} / "
                    f"{(d == 0).sum()} | {c['mean_diff']:+.3f} | {c['p']:.3f} |"
                )
    return lines
