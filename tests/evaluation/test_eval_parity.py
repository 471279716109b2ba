"""Scores equal MOABB's evaluations for the same dataset, paradigm, pipelines and seed."""

from __future__ import annotations

import numpy as np
import pytest

from neurodec.evaluation import CrossSessionEvaluation, CrossSubjectEvaluation, WithinSessionEvaluation
from neurodec.evaluation.data import clear_memory_cache


def _moabb(cls_name, paradigm, dataset, pipelines, tmp_path):
    import moabb.evaluations as me

    cls = getattr(me, cls_name)
    res = cls(
        paradigm=paradigm,
        datasets=[dataset],
        random_state=42,
        overwrite=True,
        hdf5_path=str(tmp_path / "moabb"),
    ).process(pipelines)
    res = res.assign(session=res.session.astype(str), subject=res.subject.astype(int))
    return res.set_index(["pipeline", "subject", "session"]).sort_index()


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (WithinSessionEvaluation, "WithinSessionEvaluation"),
        (CrossSessionEvaluation, "CrossSessionEvaluation"),
        (CrossSubjectEvaluation, "CrossSubjectEvaluation"),
    ],
)
def test_scores_equal_moabb_on_fake_dataset(ours, theirs, fake_dataset, paradigm, pipelines, tmp_path):
    clear_memory_cache()
    m = _moabb(theirs, paradigm, fake_dataset, pipelines, tmp_path)
    n = ours(paradigm, [fake_dataset], random_state=42, progress=False).process(pipelines)
    n = n.set_index(["pipeline", "subject", "session"]).sort_index()
    assert list(m.index) == list(n.index)
    # MOABB keeps its scores as float32 in HDF5
    np.testing.assert_allclose(n.score.to_numpy(), m.score.to_numpy(), rtol=0, atol=1e-6)
    assert (n.n_samples.to_numpy() == m.samples.to_numpy()).all()
    assert (n.metric == "roc_auc").all()


MOTOR = [
    "FC3",
    "FC1",
    "FCz",
    "FC2",
    "FC4",
    "C5",
    "C3",
    "C1",
    "Cz",
    "C2",
    "C4",
    "C6",
    "CP3",
    "CP1",
    "CPz",
    "CP2",
    "CP4",
]


@pytest.mark.data
@pytest.mark.slow
def test_scores_equal_moabb_on_physionet(data_root, tmp_path, cache_dir):
    """Whole stack: neurodec dataset + neurodec paradigm + neurodec engine vs the same
    dataset + MOABB's paradigm + MOABB's evaluations (17 motor channels, 3 subjects)."""
    from moabb.paradigms import LeftRightImagery as MoabbLR
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC
    from threadpoolctl import threadpool_limits

    from neurodec.datasets import get_dataset
    from neurodec.paradigms import LeftRightImagery

    ds = get_dataset("PhysionetMI", data_root=data_root)
    ds.subject_list = [1, 2, 3]
    pipes = {
        "TS+SVM": make_pipeline(Covariances("oas"), TangentSpace(), SVC(kernel="linear")),
        "MDM": make_pipeline(Covariances("oas"), MDM()),
    }
    for ours, theirs in [
        (WithinSessionEvaluation, "WithinSessionEvaluation"),
        (CrossSubjectEvaluation, "CrossSubjectEvaluation"),
    ]:
        with threadpool_limits(1):
            m = _moabb(theirs, MoabbLR(channels=MOTOR), ds, pipes, tmp_path)
        n = ours(LeftRightImagery(channels=MOTOR), [ds], random_state=42, progress=False).process(pipes)
        n = n.set_index(["pipeline", "subject", "session"]).sort_index()
        assert list(m.index) == list(n.index)
        np.testing.assert_allclose(n.score.to_numpy(), m.score.to_numpy(), rtol=0, atol=1e-6)
