"""The motor-imagery pipeline YAMLs build (MOABB's own parser) and run on small data."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from neurodec.config import pipelines_dir

MI_FILES = [
    "acm_ts_svm.yml",
    "acm_mdm.yml",
    "acm_fast_ts_svm.yml",
    "acm_fast_ts_svm_tuned.yml",
    "acm_ami_fnn_ts_svm.yml",
    "acm_grid_ts_svm.yml",
    "ts_svm.yml",
    "ts_svm_tuned.yml",
    "ts_lr.yml",
    "mdm.yml",
    "fgmdm.yml",
    "csp_lda.yml",
]
REQUIRED = {
    "ACM+TS+SVM",
    "ACM+MDM",
    "TS+SVM",
    "TS+SVM-tuned",
    "TS+LR",
    "MDM",
    "FgMDM",
    "CSP+LDA",
    "ACM-fast+TS+SVM",
    "ACM-fast+TS+SVM-tuned",
    "ACM-AMI-FNN+TS+SVM",
    "ACM-grid+TS+SVM",
}


def _configs():
    return {f: yaml.safe_load((pipelines_dir() / f).read_text()) for f in MI_FILES}


def test_yaml_keys_and_names():
    configs = _configs()
    assert {c["name"] for c in configs.values()} == REQUIRED
    for name, cfg in configs.items():
        assert set(cfg) <= {"name", "paradigms", "citations", "pipeline", "param_grid"}, name
        assert "LeftRightImagery" in cfg["paradigms"] and cfg["citations"], name
        for step in cfg["pipeline"]:
            assert set(step) <= {"name", "from", "parameters"}, name


@pytest.mark.parametrize("fname", MI_FILES)
def test_moabb_parser_builds_and_pipeline_runs(fname, lagged, moabb_parse):
    parsed = moabb_parse(pipelines_dir() / fname)
    assert len(parsed) == 1
    pipe = parsed[0]["pipeline"]
    if "param_grid" in parsed[0]:
        # grid keys address real steps/parameters of the pipeline
        assert set(parsed[0]["param_grid"]) <= set(pipe.get_params())
        return
    X, y = lagged
    if fname.startswith("acm_") and pipe.steps[0][1].order != "auto":
        pipe.set_params(augmentedcovariances__lag=2)  # 4 x 5 fits, but keep the toy small
    if "auto" in str(pipe.steps[0][1].get_params()):
        pipe.set_params(augmentedcovariances__orders=[1, 2], augmentedcovariances__lags=[1, 3])
    train = np.arange(len(X)) % 3 != 0
    pipe.fit(X[train], y[train])
    pred = pipe.predict(X[~train])
    assert pred.shape == ((~train).sum(),) and set(pred) <= {"a", "b"}


def test_neurodec_loader_reads_them_unchanged():
    loader = pytest.importorskip("neurodec.evaluation.pipelines")
    before = _configs()
    snapshot = copy.deepcopy(before)
    for fname in MI_FILES:
        spec = loader.read_pipeline_spec(pipelines_dir() / fname)
        assert spec.name == before[fname]["name"]
    assert before == snapshot
