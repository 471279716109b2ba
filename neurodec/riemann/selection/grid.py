"""The paper's nested grid search: ``GridSearchCV`` over order x lag x SVM ``C`` and kernel
of (ACM, tangent space, SVC), inner stratified k-fold. The reference the other selectors
are measured against.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import StratifiedKFold

from neurodec.riemann.selection.checks import (
    DEFAULT_LAGS,
    DEFAULT_ORDERS,
    check_grid,
    check_labels,
    check_signals,
    n_inner_splits,
)
from neurodec.riemann.selection.result import EmbeddingChoice

__all__ = ["select_grid"]


def select_grid(
    X: np.ndarray,
    y,
    orders: Sequence[int] = DEFAULT_ORDERS,
    lags: Sequence[int] = DEFAULT_LAGS,
    Cs: Sequence[float] = (0.5, 1.0, 1.5),
    kernels: Sequence[str] = ("rbf", "linear"),
    cv: int = 3,
    estimator: str = "cov",
    n_jobs: int | None = None,
    random_state: int | None = 0,
) -> EmbeddingChoice:
    """The paper's nested grid search over (ACM order, lag, SVM C, kernel) of ACM+TS+SVC.

    Slow by design (every candidate refits embedding, covariances and tangent space on
    every inner fold); use it as the reference the fast selector is measured against.
    """
    from pyriemann.tangentspace import TangentSpace
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.svm import SVC

    from neurodec.riemann.estimators import AugmentedCovariances

    X = check_signals(X)
    y = check_labels(y, len(X))
    orders, lags = check_grid(orders, "orders"), check_grid(lags, "lags")
    pipe = Pipeline(
        [
            ("acm", AugmentedCovariances(order=1, lag=1, estimator=estimator)),
            ("ts", TangentSpace(metric="riemann")),
            ("svc", SVC()),
        ]
    )
    grid = {
        "acm__order": list(orders),
        "acm__lag": list(lags),
        "svc__C": list(Cs),
        "svc__kernel": list(kernels),
    }
    scoring = "roc_auc" if np.unique(y).size == 2 else "accuracy"
    splitter = StratifiedKFold(n_inner_splits(y, cv), shuffle=True, random_state=random_state)
    search = GridSearchCV(pipe, grid, cv=splitter, scoring=scoring, n_jobs=n_jobs, error_score=np.nan)
    search.fit(X, y)
    res = search.cv_results_
    scores: dict[tuple[int, int], float] = {}
    for params, score in zip(res["params"], res["mean_test_score"]):
        key = (params["acm__order"], params["acm__lag"])
        if np.isfinite(score):
            scores[key] = max(scores.get(key, -np.inf), float(score))
    best = search.best_params_
    return EmbeddingChoice(
        order=int(best["acm__order"]),
        lag=int(best["acm__lag"]),
        scores=scores,
        details={"svc__C": best["svc__C"], "svc__kernel": best["svc__kernel"]},
    )
