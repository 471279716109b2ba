"""Pipelines from MOABB-format YAML: loading, validation errors, identity, no mutation."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from neurodec.errors import ConfigError, DataNotFoundError
from neurodec.evaluation.identity import pipeline_key
from neurodec.evaluation.pipelines import load_pipelines, read_pipeline_spec, read_pipeline_specs

MOABB_DIR = Path(__file__).parent / "pipelines_moabb"


def test_moabb_files_load_like_moabb(moabb_parse):
    ours = load_pipelines(MOABB_DIR)
    theirs = {c["name"]: c for c in moabb_parse(MOABB_DIR)}
    assert set(ours) == set(theirs) == {"CSP + SVM", "TS + LR"}
    for name, pipe in ours.items():
        assert pipeline_key(name, pipe) == pipeline_key(name, theirs[name]["pipeline"])
        assert [n for n, _ in pipe.steps] == [n for n, _ in theirs[name]["pipeline"].steps]
    spec = read_pipeline_spec(MOABB_DIR / "CSP_SVM.yml")
    assert spec.param_grid == theirs["CSP + SVM"]["param_grid"]
    assert spec.citations[0].startswith("https://doi.org")
    assert [s.name for s in read_pipeline_specs(MOABB_DIR, paradigm="MotorImagery")] == ["TS + LR"]


def test_spec_is_not_mutated_and_hash_is_content(tmp_path):
    spec = read_pipeline_spec(MOABB_DIR / "CSP_SVM.yml")
    before = copy.deepcopy(spec.steps)
    p1, p2 = spec.build(), spec.build()
    p1.set_params(svc__C=9.0)
    assert spec.steps == before and p2.get_params()["svc__C"] == 1.0
    same = tmp_path / "copy.yml"
    same.write_text((MOABB_DIR / "CSP_SVM.yml").read_text() + "\n# a comment\n")
    assert read_pipeline_spec(same).content_hash == spec.content_hash
    content = yaml.safe_load((MOABB_DIR / "CSP_SVM.yml").read_text())
    content["pipeline"][2]["parameters"]["kernel"] = "rbf"
    changed = tmp_path / "changed.yml"
    changed.write_text(yaml.safe_dump(content))
    assert read_pipeline_spec(changed).content_hash != spec.content_hash


def _write(tmp_path, text, name="p.yml"):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = """
name: X
paradigms: [LeftRightImagery]
pipeline:
  - name: LogisticRegression
    from: sklearn.linear_model
"""


@pytest.mark.parametrize(
    "text, match",
    [
        ("name: [unclosed", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        (GOOD.replace("name: X\n", ""), "missing key 'name'"),
        (GOOD.replace("paradigms: [LeftRightImagery]", "paradigms: LeftRightImagery"), "'paradigms'"),
        (GOOD + "colour: blue\n", "unknown key"),
        (
            GOOD.replace("    from: sklearn.linear_model", "    from: sklearn.no_such_module"),
            "cannot import module",
        ),
        (GOOD.replace("name: LogisticRegression", "name: NoSuchClass"), "has no 'NoSuchClass'"),
        (GOOD + "    parameters: {no_such_param: 1}\n", r"pipeline\[0\].*unknown parameter 'no_such_param'"),
        (GOOD + "    parameters: [1, 2]\n", "'parameters' must be a mapping"),
        (GOOD + "param_grid: {C: [1, 2]}\n", "param_grid key 'C'"),
        (GOOD + "param_grid: {logisticregression__C: 3}\n", "non-empty lists"),
        (GOOD.replace("    from: sklearn.linear_model", ""), "missing or empty 'from'"),
        ("name: X\nparadigms: [A]\npipeline: []\n", "non-empty list of steps"),
    ],
)
def test_bad_files_raise_config_error_naming_file_and_key(tmp_path, text, match):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=match) as info:
        load_pipelines(path)
    assert str(path) in str(info.value)


def test_folder_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist"):
        load_pipelines(tmp_path / "nope")
    with pytest.raises(ConfigError, match="no pipeline files"):
        load_pipelines(tmp_path)
    _write(tmp_path, GOOD, "a.yml")
    _write(tmp_path, GOOD, "b.yaml")
    with pytest.raises(ConfigError, match="names must be unique"):
        load_pipelines(tmp_path)


def test_optimizer_and_callbacks_entries_are_built(tmp_path):
    text = GOOD.replace(
        "    from: sklearn.linear_model",
        "    from: sklearn.linear_model\n    parameters:\n      C: 2.0",
    )
    pipe = load_pipelines(_write(tmp_path, text))["X"]
    assert pipe.get_params()["logisticregression__C"] == 2.0
    from neurodec.evaluation.pipelines import _resolve_params

    params = {
        "optimizer": [{"name": "Adam", "from": "torch.optim", "parameters": {}}],
        "callbacks": [{"name": "EarlyStopping", "from": "skorch.callbacks", "parameters": {"patience": 2}}],
    }
    frozen = copy.deepcopy(params)
    pytest.importorskip("skorch")
    out = _resolve_params(params, "w", "k")
    assert params == frozen
    assert out["callbacks"][0].patience == 2
    import torch

    assert out["optimizer"] is torch.optim.Adam


def test_bundled_pipelines_load_and_share_their_heads():
    from neurodec.config import pipelines_dir
    from neurodec.evaluation.features import split_stateless_head

    specs = read_pipeline_specs(pipelines_dir())
    pipes = {s.name: s.build() for s in specs}
    assert len(pipes) == len(specs) >= 1
    for name, pipe in pipes.items():
        head, rest, key = split_stateless_head(pipe)
        steps = dict(pipe.steps)
        acm = steps.get("augmentedcovariances")
        if acm is not None:  # fixed embedding: shared; "auto": chosen per training fold
            assert (key is not None) == (acm.order != "auto" and acm.lag != "auto"), name


COV_TS_SVC = """
name: {name}
paradigms: [LeftRightImagery]
pipeline:
  - name: Covariances
    from: pyriemann.estimation
    parameters: {{{cov}}}
  - name: TangentSpace
    from: pyriemann.tangentspace
  - name: SVC
    from: sklearn.svm
    parameters: {{{svc}}}
{grid}"""


def _cov_ts_svc(tmp_path, name="P", cov="estimator: oas", svc="C: 1.0", grid=""):
    return _write(tmp_path, COV_TS_SVC.format(name=name, cov=cov, svc=svc, grid=grid), f"{name}.yml")


def test_parameter_typo_is_refused_with_close_names(tmp_path):
    # pyriemann's Covariances takes **kwds: the typo was accepted, dropped by clone, and
    # the run silently used the default estimator ("scm")
    path = _cov_ts_svc(tmp_path, cov="estimatorr: oas")
    with pytest.raises(ConfigError) as info:
        load_pipelines(path)
    msg = str(info.value)
    assert "\n" not in msg
    for part in (str(path), "pipeline 'P'", r"pipeline[0] (Covariances)", "'estimatorr'", "'estimator'"):
        assert part in msg, (part, msg)
    path = _cov_ts_svc(tmp_path, svc="kernal: linear")
    with pytest.raises(ConfigError, match=r"pipeline\[2\] \(SVC\): unknown parameter 'kernal'.*'kernel'"):
        load_pipelines(path)


def test_invalid_value_is_refused_with_sklearns_message(tmp_path):
    path = _cov_ts_svc(tmp_path, svc="C: -1")
    with pytest.raises(ConfigError) as info:
        load_pipelines(path)
    msg = str(info.value)
    assert "\n" not in msg and "pipeline 'P'" in msg and "pipeline[2] (SVC)" in msg
    assert "The 'C' parameter of SVC must be a float in the range (0.0, inf]. Got -1 instead." in msg


@pytest.mark.parametrize(
    "grid, match",
    [
        ("param_grid: {svc__CC: [1, 2]}", r"param_grid key 'svc__CC'.*'svc__C'"),
        ("param_grid: {svc__C: [1, -2]}", r"param_grid svc__C=-2: .*The 'C' parameter of SVC"),
    ],
)
def test_param_grid_names_and_values_are_checked(tmp_path, grid, match):
    with pytest.raises(ConfigError, match=match):
        load_pipelines(_cov_ts_svc(tmp_path, grid=grid))


def test_benchmark_refuses_up_front_naming_every_bad_pipeline(tmp_path, fake_dataset):
    from neurodec.evaluation.benchmark import run_benchmark

    _cov_ts_svc(tmp_path, name="Good")
    _cov_ts_svc(tmp_path, name="BadValue", svc="C: -1")
    _cov_ts_svc(tmp_path, name="Typo", cov="estimatorr: oas")
    with pytest.raises(ConfigError) as info:
        run_benchmark(tmp_path, [fake_dataset], results=tmp_path / "r", progress=False)
    lines = str(info.value).splitlines()
    assert "2 of 3 pipelines are invalid" in lines[0]
    assert len(lines) == 3
    assert "pipeline 'BadValue'" in lines[1] and "The 'C' parameter of SVC" in lines[1]
    assert "pipeline 'Typo'" in lines[2] and "'estimatorr'" in lines[2]
    assert not (tmp_path / "r").exists()  # nothing was run
