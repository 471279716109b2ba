"""MOABB's own P300 paradigm and CrossSessionEvaluation accept the dataset, and
neurodec's engine gives the same cross-session scores (one subject, one real run
per session copied into a tmp data root to stay fast)."""

from __future__ import annotations

import numpy as np
import pytest

from neurodec.config import pipelines_dir
from neurodec.datasets import get_dataset
from neurodec.evaluation import CrossSessionEvaluation
from neurodec.evaluation.pipelines import load_pipelines

from .conftest import NAME, copy_run

pytestmark = pytest.mark.data
#: subject 2: session 1 (2017) and session 2 (2018, another site), one run each
RUNS = (
    "subject2/session1/data_2017-02-09-18.17.25.csv.gz",
    "subject2/session2/data_2018-05-04-01.50.45.csv.gz",
)


@pytest.fixture()
def two_sessions(data_root, tmp_root):
    for session, rel in enumerate(RUNS, start=1):
        copy_run(data_root, rel, tmp_root, subject=2, session=session)
    # one run of each session (of 5 and 3): read what is there
    return get_dataset(
        NAME, data_root=tmp_root, subjects=[2], annotate_clipping=True, allow_missing_runs=True
    )


def test_moabb_paradigm_and_cross_session_evaluation(two_sessions, tmp_path):
    from moabb.evaluations import CrossSessionEvaluation as MoabbCrossSession
    from moabb.paradigms import P300 as MoabbP300

    paradigm = MoabbP300()
    assert paradigm.is_valid(two_sessions)
    X, y, meta = paradigm.get_data(two_sessions, subjects=[2])
    assert X.shape[1:] == (4, 206)  # 4 EEG channels (AUX is misc), 0-0.8 s at 256 Hz
    assert sorted(meta["session"].unique()) == ["0", "1"]
    assert set(y) == {"Target", "NonTarget"}
    # MANIFEST: 159+35 and 161+32 markers; no epoch lost (the run ends >0.8 s after the last)
    assert meta.groupby("session").size().tolist() == [194, 193]

    pipes = {"XdawnCov+MDM": load_pipelines(pipelines_dir(), paradigm="P300")["XdawnCov+MDM"]}
    moabb = MoabbCrossSession(
        paradigm=paradigm,
        datasets=[two_sessions],
        random_state=42,
        overwrite=True,
        hdf5_path=str(tmp_path / "moabb"),
    ).process(pipes)
    ours = CrossSessionEvaluation(paradigm, [two_sessions], random_state=42, progress=False).process(pipes)
    assert len(moabb) == len(ours) == 2
    m = moabb.sort_values("session")["score"].to_numpy()
    o = ours.sort_values("session")["score"].to_numpy()
    np.testing.assert_allclose(o, m, atol=1e-9)
