"""The P300 pipeline files: load, build, and decode a synthetic P300."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from neurodec.config import pipelines_dir
from neurodec.evaluation.engine import DomainwisePredictor, domain_steps
from neurodec.evaluation.pipelines import load_pipelines, read_pipeline_specs

EXPECTED = {
    "XdawnCov+MDM",
    "XdawnCov+TS+LR",
    "ERPCov+MDM",
    "Decimated+sLDA",
    "XdawnCov+Recenter+TS+LR",
    "XdawnCov+Recenter+MDM",
    "LatAlign+XdawnCov+TS+LR",
    "LatAlign+XdawnCov+MDM",
}
RECENTERED = {"XdawnCov+Recenter+TS+LR", "XdawnCov+Recenter+MDM"}
#: pipelines that start with LatencyAlignment: they need epochs with a 26-sample margin
LATENCY = {"LatAlign+XdawnCov+TS+LR", "LatAlign+XdawnCov+MDM"}


def _p300_files():
    return sorted(pipelines_dir().glob("p300_*.yml"))


def _synthetic(n=240, seed=0, gain=1.0, shift=0.0, tmin=0.0):
    """4-channel epochs (tmin to 0.8 s at 256 Hz); targets carry a bump at 350 ms."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(tmin * 256)), 206) / 256
    y = np.where(rng.random(n) < 0.25, "Target", "NonTarget")
    X = rng.normal(0, 5, size=(n, 4, len(t)))
    bump = 4 * np.exp(-0.5 * ((t - 0.35) / 0.05) ** 2)
    X[y == "Target"] += np.array([-1, 0.3, 0.3, -1])[:, None] * bump
    X = X * np.array([gain, 1, 1, gain])[:, None] + shift
    return X, y


def test_files_are_moabb_format_and_all_load():
    files = _p300_files()
    assert len(files) == len(EXPECTED)
    for f in files:
        content = yaml.safe_load(f.read_text())
        assert set(content) <= {"name", "paradigms", "citations", "pipeline", "param_grid"}
        assert content["paradigms"] == ["P300"]
        assert all({"name", "from"} <= set(step) for step in content["pipeline"])
    specs = read_pipeline_specs(pipelines_dir(), paradigm="P300")
    assert {s.name for s in specs} == EXPECTED
    before = copy.deepcopy([s.steps for s in specs])
    pipes = load_pipelines(pipelines_dir(), paradigm="P300")
    assert set(pipes) == EXPECTED
    assert [s.steps for s in specs] == before  # building never mutates the specs


def test_recentering_pipelines_declare_domains():
    pipes = load_pipelines(pipelines_dir(), paradigm="P300")
    for name, pipe in pipes.items():
        assert (domain_steps(pipe) == ["recentering"]) == (name in RECENTERED), name
        assert (domain_steps(pipe) == ["latencyalignment"]) == (name in LATENCY), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_pipeline_decodes_a_synthetic_p300(name):
    pipe = load_pipelines(pipelines_dir(), paradigm="P300")[name]
    tmin = -0.1 if name in LATENCY else 0.0
    X, y = _synthetic(seed=1, tmin=tmin)
    Xt, yt = _synthetic(seed=2, tmin=tmin)
    labels = (y == "Target").astype(int)
    if name in RECENTERED:
        pipe.fit(X, labels, recentering__domains=np.zeros(len(X), int))
    elif name in LATENCY:
        pipe.fit(X, labels, latencyalignment__domains=np.zeros(len(X), int))
    else:
        pipe.fit(X, labels)
    auc = roc_auc_score(yt == "Target", pipe.predict_proba(Xt)[:, 1])
    assert auc > 0.85, f"{name}: AUC {auc:.3f}"
    if name in LATENCY:  # lags searched over the margin: +/-26 samples of -0.1-0.8 s epochs
        assert pipe[0].max_shift_ == 26


def test_latency_pipelines_also_run_on_the_default_epochs():
    """On 0-0.8 s epochs (no margin before 0) the lag is searched over +/-13 samples."""
    X, y = _synthetic(seed=6)
    for name in sorted(LATENCY):
        pipe = load_pipelines(pipelines_dir(), paradigm="P300")[name]
        pipe.fit(X, (y == "Target").astype(int), latencyalignment__domains=np.zeros(len(X), int))
        assert (pipe[0].start_, pipe[0].max_shift_) == (13, 13)
        assert pipe.predict(X).shape == (len(X),)


def test_recentering_whitens_each_session_and_predicts_per_domain():
    """As the engine calls it: domains at fit (each training session's covariances
    re-centred to the identity by its own mean), then each test session predicted
    alone, re-centred by its own unlabelled trials."""
    from pyriemann.geometry.mean import mean_riemann

    pipe = load_pipelines(pipelines_dir(), paradigm="P300")["XdawnCov+Recenter+MDM"]
    Xa, ya = _synthetic(seed=3)
    Xb, yb = _synthetic(seed=4, gain=0.5)
    Xt, yt = _synthetic(seed=5, gain=3.0)
    X, y = np.concatenate([Xa, Xb]), (np.concatenate([ya, yb]) == "Target").astype(int)
    domains = np.repeat(["1/0", "1/1"], len(Xa))
    pipe.fit(X, y, recentering__domains=domains)
    covs = pipe[:-1].transform(Xb)  # one batch = one domain
    np.testing.assert_allclose(mean_riemann(covs), np.eye(covs.shape[1]), atol=1e-6)
    scored = DomainwisePredictor(pipe, np.full(len(Xt), "1/2"))
    auc = roc_auc_score(yt == "Target", scored.predict_proba(Xt)[:, 1])
    assert auc > 0.85
