"""Engine behaviour: shared pipeline heads, domain-aware steps, metrics, backends, bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from neurodec.errors import InvalidInputError
from neurodec.evaluation import CrossSessionEvaluation, CrossSubjectEvaluation, WithinSessionEvaluation
from neurodec.evaluation.data import EpochData, clear_memory_cache
from neurodec.evaluation.features import apply_head, split_stateless_head

sys.path.insert(0, str(Path(__file__).parent))
from _slow_steps import RecordingRecenter  # noqa: E402


def test_stateless_head_is_shared_and_exact(fake_dataset, paradigm, pipelines):
    X, y, meta = paradigm.get_data(fake_dataset, subjects=[1])
    head, rest, key = split_stateless_head(pipelines["TS+LR"])
    assert [n for n, _ in head] == ["covariances"] and [n for n, _ in rest.steps] == [
        "tangentspace",
        "logisticregression",
    ]
    _, _, key_mdm = split_stateless_head(pipelines["MDM"])
    assert key == key_mdm  # same head -> computed once for both pipelines
    full = apply_head(head, X, chunk=7)
    np.testing.assert_array_equal(full[:10], head[0][1].transform(X[:10]))
    data = EpochData(X, y, meta)
    assert data.features(head, key) is data.features(head, key)
    # a step tuned by a grid is not shared
    h2, _, _ = split_stateless_head(pipelines["TS+LR"], tuned={"covariances"})
    assert h2 == []


def test_domain_steps_get_domains_at_fit_and_predict_per_domain(fake_dataset, paradigm):
    from sklearn.linear_model import LogisticRegression

    clear_memory_cache()
    RecordingRecenter.log.clear()
    pipe = {"rc": make_pipeline(RecordingRecenter(), LogisticRegression())}
    res = CrossSubjectEvaluation(paradigm, [fake_dataset], random_state=0, progress=False).process(pipe)
    assert len(res) == 3 * 2
    fits = [entry for entry in RecordingRecenter.log if entry[0] == "fit"]
    assert len(fits) == 3
    for _, doms in fits:  # 2 training subjects x 2 sessions each
        assert len(doms) == 4 and all("/" in d for d in doms)
    preds = [e for e in RecordingRecenter.log if e[0] == "transform" and e[2] is None]
    n_trials_session = res.n_samples_test.iloc[0]
    assert preds and all(n == n_trials_session for _, n, _ in preds)  # one test domain per call


def test_metrics_selectable(fake_dataset, paradigm, pipelines):
    one = {"MDM": pipelines["MDM"]}
    acc = CrossSessionEvaluation(paradigm, [fake_dataset], metric="accuracy", progress=False).process(one)
    assert (acc.metric == "accuracy").all()
    assert set(np.round(acc.score * acc.n_samples_test).astype(int) / acc.n_samples_test) == set(acc.score)


@pytest.mark.slow
def test_loky_parallel_equals_sequential(fake_dataset, paradigm, pipelines):
    clear_memory_cache()
    a = WithinSessionEvaluation(paradigm, [fake_dataset], random_state=3, progress=False).process(pipelines)
    b = WithinSessionEvaluation(paradigm, [fake_dataset], random_state=3, n_jobs=2, progress=False).process(
        pipelines
    )
    np.testing.assert_array_equal(a.score.to_numpy(), b.score.to_numpy())


@pytest.mark.slow
def test_dask_local_cluster_two_workers(fake_dataset, paradigm, pipelines):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        client.wait_for_workers(2, timeout=60)
        with distributed.get_task_stream(client) as tasks:
            b = CrossSubjectEvaluation(
                paradigm, [fake_dataset], backend="dask", scheduler=client, progress=False
            ).process(pipelines)
        # the folds ran as tasks on this cluster's worker processes (not in the test process)
        assert len(client.nthreads()) == 2
        used = {task["worker"] for task in tasks.data}
        assert used and used <= set(client.nthreads())
    a = CrossSubjectEvaluation(paradigm, [fake_dataset], progress=False).process(pipelines)
    np.testing.assert_array_equal(a.score.to_numpy(), b.score.to_numpy())


def test_bad_input_is_reported(fake_dataset, paradigm, pipelines):
    with pytest.raises(InvalidInputError, match="get_data"):
        WithinSessionEvaluation(object(), [fake_dataset])
    with pytest.raises(InvalidInputError, match="not a dataset"):
        WithinSessionEvaluation(paradigm, ["PhysionetMI"])
    with pytest.raises(InvalidInputError, match="unknown metric"):
        WithinSessionEvaluation(paradigm, [fake_dataset], metric="f1")
    with pytest.raises(InvalidInputError, match="unknown backend"):
        WithinSessionEvaluation(paradigm, [fake_dataset], backend="ray")
    with pytest.raises(InvalidInputError, match="n_jobs"):
        WithinSessionEvaluation(paradigm, [fake_dataset], n_jobs=0)
    with pytest.raises(InvalidInputError, match="n_folds"):
        WithinSessionEvaluation(paradigm, [fake_dataset], n_folds=1)
    ev = WithinSessionEvaluation(paradigm, [fake_dataset], progress=False)
    with pytest.raises(InvalidInputError, match="non-empty dict"):
        ev.process({})
    with pytest.raises(InvalidInputError, match="not a scikit-learn estimator"):
        ev.process({"x": "svm"})
    with pytest.raises(InvalidInputError, match="unknown pipeline"):
        ev.process(pipelines, param_grid={"nope": {}})
    from moabb.datasets.fake import FakeDataset

    one_session = FakeDataset(["left_hand", "right_hand"], n_subjects=2, n_sessions=1, n_runs=1)
    with pytest.raises(InvalidInputError, match="cross-session needs at least 2"):
        CrossSessionEvaluation(paradigm, [one_session])


def test_fitted_prefix_shared_between_pipelines_gives_same_scores(fake_dataset, paradigm, monkeypatch):
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    import neurodec.evaluation.engine as engine
    from neurodec.evaluation.engine import plan_shared_prefixes

    pipes = {
        "TS+LR": make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression()),
        "TS+SVM": make_pipeline(Covariances("oas"), TangentSpace(), SVC(kernel="linear")),
    }
    rests = {n: (split_stateless_head(p)[2], split_stateless_head(p)[1]) for n, p in pipes.items()}
    plans = plan_shared_prefixes(rests)
    assert len(plans) == 1
    prefix, tails = plans[0]
    assert [n for n, _ in prefix] == ["tangentspace"] and set(tails) == set(pipes)

    clear_memory_cache()
    calls = []
    real = engine._fit_and_score_shared
    monkeypatch.setattr(engine, "_fit_and_score_shared", lambda *a: calls.append(len(a[4])) or real(*a))
    shared = CrossSessionEvaluation(paradigm, [fake_dataset], progress=False).process(pipes)
    assert calls and all(c == 2 for c in calls)  # both pipelines in one task per fold
    alone = [
        CrossSessionEvaluation(paradigm, [fake_dataset], progress=False).process({n: p})
        for n, p in pipes.items()
    ]
    for df in alone:
        name = df.pipeline.iloc[0]
        np.testing.assert_array_equal(shared[shared.pipeline == name].score.to_numpy(), df.score.to_numpy())


def test_cross_subject_with_target_calibration(fake_dataset, paradigm, pipelines):
    one = {"MDM": pipelines["MDM"]}
    plain = CrossSubjectEvaluation(paradigm, [fake_dataset], progress=False).process(one)
    cal = CrossSubjectEvaluation(
        paradigm, [fake_dataset], n_calibration=4, random_state=0, progress=False
    ).process(one)
    assert (cal.evaluation == "CrossSubjectCalibrated").all()
    assert (cal.n_samples.to_numpy() == plain.n_samples.to_numpy() + 8).all()
    assert (cal.n_samples_test.to_numpy() == plain.n_samples_test.to_numpy() - 4).all()


def _scaled_by(factor):
    return lambda X: X[..., : int(X.shape[-1] * factor)]  # a closure: same qualname for every factor


def test_closures_of_one_factory_are_not_confused(fake_dataset, paradigm):
    """Two FunctionTransformer heads built by the same factory must get their own features."""
    from functools import partial

    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances
    from sklearn.preprocessing import FunctionTransformer

    from neurodec.evaluation.identity import content_hash

    short, full = _scaled_by(0.25), _scaled_by(1.0)
    assert content_hash(FunctionTransformer(short)) != content_hash(FunctionTransformer(full))
    assert content_hash(FunctionTransformer(_scaled_by(0.25))) == content_hash(FunctionTransformer(short))
    assert content_hash(partial(np.take, axis=0)) != content_hash(partial(np.take, axis=1))

    clear_memory_cache()
    pipes = {
        name: make_pipeline(FunctionTransformer(f), Covariances("oas"), MDM())
        for name, f in (("short", short), ("full", full))
    }
    res = CrossSessionEvaluation(paradigm, [fake_dataset], random_state=0, progress=False).process(pipes)
    X, y, meta = paradigm.get_data(fake_dataset, subjects=[1])
    train, test = (meta.session == "0").values, (meta.session == "1").values
    for name, pipe in pipes.items():  # each row is its own pipeline's score (ROC-AUC)
        model = pipe.fit(X[train], y[train])
        from sklearn.metrics import roc_auc_score

        expected = roc_auc_score(y[test] == model.classes_[1], model.predict_proba(X[test])[:, 1])
        got = res[(res.pipeline == name) & (res.subject == 1) & (res.session == "1")].score.item()
        assert got == pytest.approx(expected)
    a = res[res.pipeline == "short"].score.to_numpy()
    b = res[res.pipeline == "full"].score.to_numpy()
    assert not np.allclose(a, b)
