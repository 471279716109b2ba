"""Torch models plug in as scikit-learn estimators (braindecode's EEGClassifier)."""

from __future__ import annotations

import numpy as np
import pytest


def _float32(X):
    return np.asarray(X, dtype=np.float32)


@pytest.mark.slow
def test_tiny_eegnet_runs_through_the_engine(paradigm, tmp_path):
    torch = pytest.importorskip("torch")
    braindecode = pytest.importorskip("braindecode")
    from moabb.datasets.fake import FakeDataset
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from neurodec.evaluation import CrossSubjectEvaluation

    torch.manual_seed(0)
    ds = FakeDataset(
        ["left_hand", "right_hand"], n_subjects=3, n_sessions=1, n_runs=1, duration=30, n_events=30, seed=3
    )
    clf = braindecode.EEGClassifier(
        "EEGNet", max_epochs=1, batch_size=16, train_split=None, verbose=0, optimizer=torch.optim.Adam
    )
    pipe = make_pipeline(FunctionTransformer(_float32), clf)
    res = CrossSubjectEvaluation(paradigm, [ds], random_state=0, results=tmp_path, progress=False).process(
        {"EEGNet": pipe}
    )
    assert len(res) == 3 and res.score.between(0, 1).all()
    assert res.pipeline_key.str.startswith("EEGNet@").all()
