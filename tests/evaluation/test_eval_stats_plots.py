"""Metrics, paired statistics, meta-analysis and plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from neurodec.errors import InvalidInputError, UnknownNameError
from neurodec.evaluation.metrics import METRICS, expected_calibration_error, get_metric
from neurodec.evaluation.plots import write_plots
from neurodec.evaluation.stats import (
    meta_analysis,
    paired_comparisons,
    permutation_pvalue,
    standardized_mean_difference,
)


def test_expected_calibration_error_known_values():
    y = np.array([0, 1, 1, 0])
    perfect = np.eye(2)[y]
    assert expected_calibration_error(y, perfect) == 0.0
    # always 0.8 confident, right half the time -> |0.5 - 0.8| = 0.3
    proba = np.array([[0.8, 0.2], [0.8, 0.2], [0.2, 0.8], [0.2, 0.8]])
    assert expected_calibration_error(np.array([0, 1, 1, 0]), proba) == pytest.approx(0.3)


def test_every_metric_scores_a_fitted_classifier():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    y = (X[:, 0] > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    for name in METRICS:
        v = get_metric(name)(clf, X, y)
        assert np.isfinite(v)
    assert get_metric("accuracy")(clf, X, y) > 0.9
    with pytest.raises(UnknownNameError, match="unknown metric 'f2'"):
        get_metric("f2")


def test_permutation_pvalue_exact_and_smd():
    assert permutation_pvalue(np.ones(5)) == pytest.approx(1 / 32)  # only the observed signs
    assert permutation_pvalue(-np.ones(5)) == pytest.approx(31 / 32)  # capped below 1
    big = np.r_[np.ones(16), -0.1 * np.ones(4)]
    assert permutation_pvalue(big, n_perms=2000) < 0.01
    d = np.array([0.1, 0.2, 0.3])
    assert standardized_mean_difference(d) == pytest.approx(0.2 / 0.1)
    assert standardized_mean_difference(np.zeros(4)) == 0.0
    assert standardized_mean_difference(np.full(3, 0.1)) == np.inf


def _scores(n_subjects, datasets=("A", "B"), shift=0.05, seed=0):
    rng = np.random.RandomState(seed)
    rows = []
    for ds in datasets:
        for s in range(1, n_subjects + 1):
            base = rng.uniform(0.6, 0.8)
            for pipe, off in (("good", shift), ("bad", 0.0)):
                rows.append(
                    dict(
                        dataset=ds,
                        evaluation="WithinSession",
                        subject=s,
                        session="0",
                        pipeline=pipe,
                        score=base + off + rng.normal(0, 0.01),
                        metric="roc_auc",
                    )
                )
    return pd.DataFrame(rows)


def test_paired_comparisons_pick_the_test_and_detect_a_difference():
    few = paired_comparisons(_scores(8))
    row = few[(few.pipe1 == "good") & (few.pipe2 == "bad")].iloc[0]
    assert row.test == "permutation" and row.p < 0.01 and row.smd > 1
    rev = few[(few.pipe1 == "bad") & (few.pipe2 == "good")].iloc[0]
    assert rev.p > 0.9 and rev.smd < 0
    many = paired_comparisons(_scores(25))
    row = many[(many.pipe1 == "good") & (many.pipe2 == "bad") & (many.dataset == "A")].iloc[0]
    assert row.test == "wilcoxon"
    d = _scores(25).query("dataset == 'A'").pivot(index="subject", columns="pipeline", values="score")
    assert row.p == pytest.approx(sps.wilcoxon(d.good - d.bad, alternative="greater").pvalue)


def test_meta_analysis_combines_datasets():
    comps = paired_comparisons(_scores(8))
    meta = meta_analysis(comps, "good", "bad")
    assert list(meta.dataset) == ["A", "B", "meta"]
    per = meta.iloc[:2]
    expected = sps.combine_pvalues(per.p, method="stouffer", weights=np.sqrt(per.n_subjects)).pvalue
    assert meta.iloc[-1].p == pytest.approx(expected)
    assert meta.iloc[-1].smd == pytest.approx(per.smd.mean())  # equal weights here
    with pytest.raises(InvalidInputError, match="no comparison"):
        meta_analysis(comps, "good", "nope")
    with pytest.raises(InvalidInputError, match="lack column"):
        paired_comparisons(pd.DataFrame({"score": [1.0]}))


def test_write_plots_makes_pngs(tmp_path):
    files = write_plots(_scores(6), tmp_path)
    names = sorted(f.name for f in files)
    assert names == ["forest_bad_vs_good.png", "paired_bad_vs_good.png", "scores.png"]
    for f in files:
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f.stat().st_size > 5000


def test_paired_plot_has_one_panel_per_evaluation_with_one_dot_per_subject():
    import matplotlib.pyplot as plt

    from neurodec.evaluation.plots import paired_plot

    within = _scores(5, datasets=("A",))
    cross = within.assign(evaluation="CrossSubject", score=within.score - 0.1)
    fig = paired_plot(pd.concat([within, cross]), "bad", "good")
    try:
        titles = [ax.get_title() for ax in fig.axes]
        assert titles == ["CrossSubject (5 subjects)", "WithinSession (5 subjects)"]
        for ax in fig.axes:
            assert sum(len(c.get_offsets()) for c in ax.collections) == 5
        assert "one dot per subject" in fig._suptitle.get_text()
    finally:
        plt.close(fig)
    with pytest.raises(InvalidInputError, match="no subject has scores of both"):
        paired_plot(within, "bad", "nope")
