"""MOABB's SSVEP classifiers (``SSVEP_CCA``, ``SSVEP_TRCA``, ``SSVEP_MsetCCA``...: they take
``mne.Epochs``) through neurodec's engine, against MOABB's own benchmark of the same files.

``moabb.benchmark`` runs these pipelines with ``return_epochs=True, mne_labels=True``: the
classifier gets the paradigm's epochs (volts) and the string labels ("13", "17"...), from
which MOABB 1.7's classifiers take the stimulation frequencies. The pipeline files are
MOABB's upstream ones for its 1.7 classifiers, written here (never copied into the repo).

MOABB runs here with one BLAS thread, as neurodec's engine runs each fold: TRCA solves a
non-symmetric generalized eigenproblem whose rounding follows the BLAS thread count, and on
the simulator that moves one trial of 25 (MOABB: 0.96 with the default threads, 1.0 with one
thread = neurodec).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from neurodec import paradigms as nd
from neurodec.cli import main
from neurodec.errors import ConfigError, InvalidInputError
from neurodec.evaluation import WithinSessionEvaluation
from neurodec.evaluation.benchmark import run_benchmark
from neurodec.evaluation.data import clear_memory_cache, load_epochs

FREQS = ("9", "11", "13", "15", "17")  # MOABB's TRCA file asks for 5 filter-bank bands: 5 frequencies

#: MOABB's upstream pipeline files of its 1.7 SSVEP classifiers, as text
UPSTREAM = {
    "CCA-SSVEP.yml": """\
name: SSVEP CCA

paradigms:
  - SSVEP

pipeline:
  - name: SSVEP_CCA
    from: moabb.pipelines.classification
    parameters:
      n_harmonics: 3
""",
    "TRCA-SSVEP.yml": """\
name: TRCA-SSVEP
paradigms:
  - SSVEP

pipeline:
  - name: SSVEP_TRCA
    from: moabb.pipelines
    parameters:
      n_fbands: 5
""",
    "MsetCCA-SSVEP.yml": """\
name: MsetCCA-SSVEP

paradigms:
  - SSVEP

citations:
  - https://doi.org/10.1142/S0129065714500130

pipeline:
  - name: SSVEP_MsetCCA
    from: moabb.pipelines.classification
    parameters:
      n_filters: 1
      n_jobs: 1
""",
}

#: the same three files as MOABB <= 1.4 wrote them (``interval``, ``freqs``)
LEGACY_CCA = UPSTREAM["CCA-SSVEP.yml"] + '      interval: [2, 4]\n      freqs: {"13": 2, "17": 3, "21": 4}\n'

MDM = """\
name: SSVEP MDM
paradigms:
  - SSVEP
pipeline:
  - name: Covariances
    from: pyriemann.estimation
    parameters:
      estimator: oas
  - name: MDM
    from: pyriemann.classification
"""


def _folder(path, files):
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_text(text)
    return path


@pytest.fixture(scope="module")
def fake5():
    from moabb.datasets.fake import FakeDataset

    return FakeDataset(
        list(FREQS),
        paradigm="ssvep",
        n_subjects=2,
        n_sessions=1,
        n_runs=1,
        duration=50,
        n_events=25,
        seed=3,
        channels=("O1", "Oz", "O2", "POz"),
        sfreq=128,
    )


@pytest.fixture(scope="module")
def sim5():
    from neurodec.datasets import get_dataset

    return get_dataset(
        "SimulatedSSVEP",
        n_subjects=1,
        n_sessions=1,
        n_runs=1,
        n_trials=5,
        frequencies=tuple(float(f) for f in FREQS),
        n_eeg_channels=32,
        n_background_sources=32,
    )


def _moabb_benchmark(folder, dataset, tmp_path):
    """``moabb.benchmark`` itself (its epochs/labels routing by pipeline name)."""
    from moabb import benchmark

    with threadpool_limits(limits=1):
        res = benchmark(
            pipelines=str(folder),
            evaluations=["WithinSession"],
            include_datasets=[dataset],
            results=str(tmp_path / "moabb_results"),
            output=str(tmp_path / "moabb_out"),
            n_jobs=1,
            overwrite=True,
        )
    res = res.assign(subject=res["subject"].astype(int))
    return res.set_index(["pipeline", "subject"])["score"].sort_index()


def _same_scores_as_moabb_benchmark(files, dataset, tmp_path):
    folder = _folder(tmp_path / "pipes", {f: UPSTREAM[f] for f in files})
    clear_memory_cache()
    ours = run_benchmark(folder, [dataset], progress=False).scores
    ours = ours.set_index(["pipeline", "subject"])["score"].sort_index()
    theirs = _moabb_benchmark(folder, dataset, tmp_path)
    assert list(ours.index) == list(theirs.index) and len(ours) == len(files) * len(dataset.subject_list)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=0, atol=4e-8)


def test_upstream_ssvep_files_score_as_moabb_benchmark(fake5, tmp_path):
    _same_scores_as_moabb_benchmark(["CCA-SSVEP.yml", "MsetCCA-SSVEP.yml"], fake5, tmp_path)


@pytest.mark.slow
def test_upstream_trca_file_scores_as_moabb_benchmark(fake5, tmp_path):
    _same_scores_as_moabb_benchmark(["TRCA-SSVEP.yml"], fake5, tmp_path)


def test_epochs_are_read_once_and_equal_the_arrays(fake5, tmp_path, monkeypatch):
    """One read gives the epochs (volts) and the arrays (their data x unit_factor, bit for bit
    the arrays get_data returns), shared by an epochs pipeline and an array pipeline."""
    par = nd.SSVEP(cache=False)
    X, y, meta = par.get_data(fake5, [1, 2])
    clear_memory_cache()
    data = load_epochs(par, fake5, [1, 2], epochs=True)
    assert np.array_equal(data.X, X) and np.array_equal(data.y, y)
    assert data.epochs.get_data().shape == X.shape and data.epochs.event_id == {
        f: i + 1 for i, f in enumerate(FREQS)
    }
    sub = data.subset([2])
    assert np.array_equal(sub.epochs.get_data() * fake5.unit_factor, X[meta["subject"].to_numpy() == 2])

    calls = []
    real = nd.SSVEP.get_data

    def counted(self, *args, **kwargs):
        calls.append(kwargs.get("return_epochs", False))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(nd.SSVEP, "get_data", counted)
    clear_memory_cache()
    folder = _folder(tmp_path / "pipes", {"cca.yml": UPSTREAM["CCA-SSVEP.yml"], "mdm.yml": MDM})
    res = run_benchmark(folder, [fake5], ["within-session"], progress=False)
    assert calls == [True] and set(res.scores["pipeline"]) == {"SSVEP CCA", "SSVEP MDM"}
    mdm_alone = run_benchmark(_folder(tmp_path / "mdm", {"mdm.yml": MDM}), [fake5], progress=False).scores
    mdm = res.scores[res.scores["pipeline"] == "SSVEP MDM"]["score"].to_numpy()
    np.testing.assert_array_equal(mdm, mdm_alone["score"].to_numpy())


def test_upstream_ssvep_files_run_on_the_simulator_through_the_cli(sim5, tmp_path, monkeypatch, capsys):
    import neurodec.evaluation.benchmark as bench

    files = ("CCA-SSVEP.yml", "MsetCCA-SSVEP.yml")  # TRCA on the simulator: the slow test below
    folder = _folder(tmp_path / "pipes", {f: UPSTREAM[f] for f in files})
    monkeypatch.setattr(bench, "load_datasets", lambda *args, **kwargs: [sim5])
    clear_memory_cache()
    args = ["benchmark", "--pipelines", str(folder), "--datasets", "SimulatedSSVEP"]
    assert main([*args, "--results", str(tmp_path / "r"), "--no-plots"]) == 0
    assert "MsetCCA-SSVEP" in capsys.readouterr().out
    scores = pd.read_csv(tmp_path / "r" / "results.csv").groupby("pipeline")["score"].mean()
    assert set(scores.index) == {"SSVEP CCA", "MsetCCA-SSVEP"}
    assert scores["SSVEP CCA"] > 0.8  # 5 classes: chance 0.2


@pytest.mark.slow
def test_simulator_scores_equal_moabb(sim5, tmp_path):
    """MOABB's evaluation as ``moabb.benchmark`` builds it for these files (its benchmark
    takes only its own datasets and FakeDataset objects). MsetCCA is left to the FakeDataset
    test: on this small simulator (4 training trials per class, 32 channels) it is at chance
    and its near-ties follow the rounding of its eigensolvers (MOABB itself gives 0.20 or 0.24
    for the same subject with one or several BLAS threads)."""
    import tempfile

    from moabb import paradigms as mp
    from moabb.evaluations import WithinSessionEvaluation as MoabbWithin

    from neurodec.evaluation.pipelines import load_pipelines

    folder = _folder(tmp_path / "pipes", {f: UPSTREAM[f] for f in ("CCA-SSVEP.yml", "TRCA-SSVEP.yml")})
    clear_memory_cache()
    ours = run_benchmark(folder, [sim5], progress=False).scores.set_index(["pipeline", "subject"])["score"]
    with threadpool_limits(limits=1):
        theirs = MoabbWithin(
            paradigm=mp.SSVEP(),
            datasets=[sim5],
            random_state=42,
            hdf5_path=tempfile.mkdtemp(dir=tmp_path),
            return_epochs=True,
            mne_labels=True,
            n_jobs=1,
        ).process(load_pipelines(folder))
    theirs = theirs.assign(subject=theirs["subject"].astype(int)).set_index(["pipeline", "subject"])["score"]
    np.testing.assert_allclose(ours.sort_index(), theirs.sort_index(), rtol=0, atol=4e-8)


def test_grid_and_legacy_arguments_are_refused_in_one_line(fake5, tmp_path):
    from moabb.pipelines.classification import SSVEP_CCA
    from sklearn.pipeline import make_pipeline

    ev = WithinSessionEvaluation(nd.SSVEP(cache=False), [fake5], random_state=42, progress=False)
    with pytest.raises(InvalidInputError, match="takes mne.Epochs, which a grid search cannot split"):
        ev.process(
            {"CCA": make_pipeline(SSVEP_CCA())}, param_grid={"CCA": {"ssvep_cca__n_harmonics": [2, 3]}}
        )
    # MOABB <= 1.4's files give arguments MOABB 1.7's classes dropped: refused when built, as MOABB's
    # own parser fails on them (TypeError)
    folder = _folder(tmp_path / "legacy", {"CCA-SSVEP.yml": LEGACY_CCA})
    with pytest.raises(ConfigError, match="interval"):
        run_benchmark(folder, [fake5], progress=False)


#: the 5-frequency simulator from the command line, tiny (as ``sim5``)
SIM5_OPTIONS = (
    "n_subjects=1",
    "n_sessions=1",
    "n_runs=1",
    "n_trials=5",
    f"frequencies=[{', '.join(FREQS)}]",
    "n_eeg_channels=32",
    "n_background_sources=32",
)


@pytest.mark.slow
def test_upstream_trca_file_runs_on_the_5_frequency_simulator_from_the_cli(tmp_path, capsys):
    """MOABB's TRCA file asks for 5 filter-bank bands: the default simulator (3 frequencies)
    cannot take it, ``--dataset-option frequencies=[...]`` makes one that can."""
    folder = _folder(tmp_path / "pipes", {"TRCA-SSVEP.yml": UPSTREAM["TRCA-SSVEP.yml"]})
    clear_memory_cache()
    args = ["benchmark", "--pipelines", str(folder), "--datasets", "SimulatedSSVEP", "--no-plots"]
    for option in SIM5_OPTIONS:
        args += ["--dataset-option", option]
    with threadpool_limits(limits=1):
        assert main([*args, "--results", str(tmp_path / "r")]) == 0
    assert "TRCA-SSVEP" in capsys.readouterr().out
    res = pd.read_csv(tmp_path / "r" / "results.csv")
    assert set(res["pipeline"]) == {"TRCA-SSVEP"} and list(res["subject"].unique()) == [1]
    assert res["score"].mean() > 0.8  # 5 classes: chance 0.2


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("nfreq=3", "SimulatedSSVEP: unknown option(s) ['nfreq']; this dataset accepts"),
        ("frequencies=[9, 11", "dataset option frequencies: '[9, 11' is not a YAML value"),
        ("n_harmonics=0", "SimulatedSSVEP: n_harmonics must be an integer from 1 to 10, got 0"),
        ("frequencies", "cannot read dataset option 'frequencies': write NAME=VALUE"),
    ],
)
def test_bad_dataset_options_are_one_line_and_exit_2(option, message, tmp_path, capsys):
    folder = _folder(tmp_path / "pipes", {"CCA-SSVEP.yml": UPSTREAM["CCA-SSVEP.yml"]})
    args = ["benchmark", "--pipelines", str(folder), "--datasets", "SimulatedSSVEP"]
    assert main([*args, "--dataset-option", option, "--results", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "r" / "results.sqlite").exists()
