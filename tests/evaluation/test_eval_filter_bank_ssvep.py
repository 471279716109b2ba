"""Filter-bank and SSVEP pipelines through the engine, against MOABB's evaluations.

Single-band paradigms (``SSVEP``) give MOABB's scores. For filter banks, MOABB 1.7.2's
evaluations load data with ``paradigm.make_process_pipelines(dataset)[0]``, i.e. the
first band of the bank only (``X[..., :1]``); neurodec evaluates the whole bank, which is
what ``paradigm.get_data`` returns. The tests pin both facts: MOABB's score is neurodec's
on the first band, and the whole bank scores differently.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from neurodec import paradigms as nd
from neurodec.evaluation import WithinSessionEvaluation
from neurodec.evaluation.benchmark import run_benchmark
from neurodec.evaluation.pipelines import load_pipelines

PIPES = Path(__file__).resolve().parent / "pipelines_ssvep"


class FirstBand:
    """A paradigm that keeps the first band of another's filter bank (MOABB's evaluations)."""

    def __init__(self, paradigm):
        self.paradigm = paradigm
        self.scoring = paradigm.scoring

    def get_data(self, dataset, subjects):
        X, y, meta = self.paradigm.get_data(dataset, subjects)
        return X[..., :1], y, meta


@pytest.fixture(scope="module")
def ssvep():
    from moabb.datasets.fake import FakeDataset

    return FakeDataset(
        ["13", "17", "21"],
        paradigm="ssvep",
        n_subjects=2,
        n_sessions=1,
        n_runs=1,
        duration=60,
        n_events=30,
        seed=3,
        channels=("O1", "Oz", "O2", "POz"),
    )


def _moabb_scores(paradigm, dataset, pipelines):
    from moabb.evaluations import WithinSessionEvaluation as MoabbWithin

    table = MoabbWithin(
        paradigm=paradigm, datasets=[dataset], random_state=42, hdf5_path=tempfile.mkdtemp()
    ).process(pipelines)
    return table.assign(subject=table["subject"].astype(int)).set_index(["pipeline", "subject"])["score"]


def _ours(paradigm, dataset, pipelines):
    table = WithinSessionEvaluation(paradigm, [dataset], random_state=42, progress=False).process(pipelines)
    return table.set_index(["pipeline", "subject"])["score"]


def test_ssvep_pipelines_score_as_moabb(ssvep):
    from moabb import paradigms as mp

    pipes = load_pipelines(PIPES / "SSVEP_MDM.yml")
    theirs = _moabb_scores(mp.SSVEP(), ssvep, pipes)
    ours = _ours(nd.SSVEP(cache=False), ssvep, pipes)
    np.testing.assert_allclose(ours.sort_index(), theirs.sort_index(), rtol=1e-6)
    # the same through run_benchmark, which picks SSVEP for an ssvep dataset
    res = run_benchmark(PIPES / "SSVEP_MDM.yml", [ssvep], progress=False)
    np.testing.assert_allclose(res.scores["score"], ours.sort_index(), rtol=0)


def test_filter_bank_ssvep_moabb_scores_its_first_band_only(ssvep):
    from moabb import paradigms as mp

    pipes = load_pipelines(PIPES / "SSVEP_TS_LR.yml")
    theirs = _moabb_scores(mp.FilterBankSSVEP(), ssvep, pipes).sort_index()
    first = _ours(FirstBand(nd.FilterBankSSVEP(cache=False)), ssvep, pipes).sort_index()
    np.testing.assert_allclose(first, theirs, rtol=1e-6)
    whole = run_benchmark(PIPES / "SSVEP_TS_LR.yml", [ssvep], progress=False).scores
    assert whole["score"].to_numpy() != pytest.approx(first.to_numpy())


def test_fbcsp_moabb_scores_its_first_band_only():
    from moabb import paradigms as mp
    from moabb.datasets.fake import FakeDataset
    from moabb.pipelines.utils import FilterBank
    from pyriemann.estimation import Covariances
    from pyriemann.spatialfilters import CSP
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.pipeline import make_pipeline

    ds = FakeDataset(
        ["left_hand", "right_hand"],
        n_subjects=2,
        n_sessions=1,
        n_runs=1,
        duration=60,
        n_events=40,
        seed=5,
        channels=("C3", "Cz", "C4", "FC3", "FC4", "CP3"),
    )
    fb = make_pipeline(Covariances("oas"), CSP(nfilter=2))
    pipes = {"FBCSP": make_pipeline(FilterBank(fb), LinearDiscriminantAnalysis())}
    theirs = _moabb_scores(mp.FilterBankMotorImagery(), ds, pipes).sort_index()
    first = _ours(FirstBand(nd.FilterBankMotorImagery(cache=False)), ds, pipes).sort_index()
    np.testing.assert_allclose(first, theirs, rtol=1e-6)
    whole = _ours(nd.FilterBankMotorImagery(cache=False), ds, pipes).sort_index()
    assert whole.to_numpy() != pytest.approx(first.to_numpy())


def test_pipelines_needing_epochs_run_beside_array_pipelines(ssvep, tmp_path):
    """MOABB 1.7's SSVEP classifiers take mne.Epochs: they run in the same benchmark as
    the array pipelines (they used to be left out with a warning)."""
    import shutil

    for name in ("SSVEP_CCA.yml", "SSVEP_MDM.yml"):
        shutil.copy(PIPES / name, tmp_path / name)
    res = run_benchmark(tmp_path, [ssvep], progress=False)
    assert set(res.scores["pipeline"]) == {"SSVEP MDM", "SSVEP CCA (epochs)"}
    alone = run_benchmark(PIPES / "SSVEP_CCA.yml", [ssvep], progress=False).scores
    both = res.scores[res.scores["pipeline"] == "SSVEP CCA (epochs)"]
    np.testing.assert_array_equal(alone["score"].to_numpy(), both["score"].to_numpy())
