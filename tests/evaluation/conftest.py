"""Small fixtures for the evaluation tests: a fake left/right imagery dataset."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pandas as pd
import pytest

warnings.filterwarnings("ignore")
logging.getLogger("moabb").setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def fake_dataset():
    from moabb.datasets.fake import FakeDataset

    return FakeDataset(
        ["left_hand", "right_hand"], n_subjects=3, n_sessions=2, n_runs=1, duration=30, n_events=30, seed=3
    )


@pytest.fixture(scope="session")
def paradigm():
    from moabb.paradigms import LeftRightImagery

    return LeftRightImagery()


@pytest.fixture()
def pipelines():
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return {
        "TS+LR": make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression()),
        "MDM": make_pipeline(Covariances("oas"), MDM()),
    }


@pytest.fixture()
def metadata():
    """3 subjects x 2 sessions x 20 trials, alternating labels."""
    rows = [(s, f"{k}", "0") for s in (1, 2, 3) for k in (0, 1) for _ in range(20)]
    meta = pd.DataFrame(rows, columns=["subject", "session", "run"])
    y = np.array(["left_hand", "right_hand"] * (len(meta) // 2))
    return meta, y
