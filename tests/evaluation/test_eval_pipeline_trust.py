"""Pipeline files name only estimator classes from allowed (or explicitly trusted) modules.

A shared pipeline folder must not be able to run code: ``{name: system, from: os}`` with
``parameters: {command: ...}`` would otherwise be called while the pipeline is built.
"""

from __future__ import annotations

import sys

import pytest

from neurodec.errors import ConfigError, InvalidInputError
from neurodec.evaluation.pipelines import load_pipelines, read_pipeline_specs


def _pipeline(tmp_path, steps: str, name: str = "p.yml"):
    path = tmp_path / name
    path.write_text(f"name: Evil\nparadigms: [LeftRightImagery]\npipeline:\n{steps}")
    return path


def _attack(tmp_path, marker):
    return _pipeline(
        tmp_path,
        f"  - name: system\n    from: os\n    parameters:\n      command: touch {marker}\n"
        "  - name: LogisticRegression\n    from: sklearn.linear_model\n",
    )


def test_os_system_step_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = _attack(tmp_path, marker)
    with pytest.raises(ConfigError, match=r"module 'os' is not allowed.*--trust-module os") as info:
        load_pipelines(path)
    assert not marker.exists()
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    # the static check already refuses when only reading the specs (neurodec pipelines)
    with pytest.raises(ConfigError, match="module 'os' is not allowed"):
        read_pipeline_specs(path)


def test_run_benchmark_refuses_the_attack(tmp_path, fake_dataset):
    from neurodec.evaluation.benchmark import run_benchmark

    marker = tmp_path / "pwned"
    with pytest.raises(ConfigError, match="module 'os' is not allowed"):
        run_benchmark(_attack(tmp_path, marker), [fake_dataset], results=tmp_path / "r", progress=False)
    assert not marker.exists()


@pytest.mark.parametrize(
    "module, name, trust, match",
    [
        ("os", "system", [], "module 'os' is not allowed"),
        ("subprocess", "run", [], "module 'subprocess' is not allowed"),
        ("builtins", "eval", [], "module 'builtins' is not allowed"),
        ("numpy", "save", [], "module 'numpy' is not allowed"),
        # trusted, but still not estimator classes
        ("os", "system", ["os"], "'system' is a function, not a class"),
        ("subprocess", "run", ["subprocess"], "'run' is a function, not a class"),
        ("builtins", "eval", ["builtins"], "'eval' is a function, not a class"),
        ("subprocess", "Popen", ["subprocess"], "not a scikit-learn estimator"),
        # an allowed module, but not an estimator
        ("sklearn.utils", "Bunch", [], "not a scikit-learn estimator"),
        ("sklearn.utils", "check_array", [], "'check_array' is a function, not a class"),
        ("sklearn.base", "BaseEstimator", [], "not a scikit-learn estimator"),
        ("sklearn", "__builtins__", [], "public class name"),
        ("sklearn..svm", "SVC", [], "not a module name"),
        ("sklearn", "svm", [], "'svm' is a module, not a class"),
    ],
)
def test_non_estimators_are_refused(tmp_path, module, name, trust, match):
    path = _pipeline(
        tmp_path, f"  - name: '{name}'\n    from: '{module}'\n    parameters: {{args: [true]}}\n"
    )
    with pytest.raises(ConfigError, match=match) as info:
        load_pipelines(path, trust_modules=trust)
    assert "\n" not in str(info.value)


def test_nested_objects_go_through_the_same_check(tmp_path):
    marker = tmp_path / "pwned"
    evil = f"{{name: system, from: os, parameters: {{command: touch {marker}}}}}"
    path = _pipeline(
        tmp_path,
        "  - name: BaggingClassifier\n    from: sklearn.ensemble\n    parameters:\n"
        f"      estimator: {evil}\n",
    )
    with pytest.raises(ConfigError, match=r"pipeline\[0\]\.estimator: module 'os' is not allowed"):
        load_pipelines(path)
    assert not marker.exists()
    optimizer = f"[{evil}]"
    path = _pipeline(
        tmp_path,
        f"  - name: EEGClassifier\n    from: braindecode\n    parameters:\n      optimizer: {optimizer}\n",
    )
    with pytest.raises(ConfigError, match=r"optimizer\[0\]: module 'os' is not allowed"):
        load_pipelines(path)
    assert not marker.exists()
    # an allowed module, but not an estimator class given as a parameter
    path = _pipeline(
        tmp_path,
        "  - name: BaggingClassifier\n    from: sklearn.ensemble\n    parameters:\n"
        "      estimator: {name: Bunch, from: sklearn.utils}\n",
    )
    with pytest.raises(ConfigError, match="not a scikit-learn estimator"):
        load_pipelines(path)
    # a misspelt key in a nested entry is not passed on as plain data
    path = _pipeline(
        tmp_path,
        "  - name: BaggingClassifier\n    from: sklearn.ensemble\n    parameters:\n"
        "      estimator: {name: SVC, from: sklearn.svm, parametres: {C: 2.0}}\n",
    )
    with pytest.raises(ConfigError, match=r"pipeline\[0\]\.estimator: unknown key\(s\) \['parametres'\]"):
        load_pipelines(path)
    # a real estimator as a parameter is built
    path = _pipeline(
        tmp_path,
        "  - name: BaggingClassifier\n    from: sklearn.ensemble\n    parameters:\n"
        "      estimator: {name: LogisticRegression, from: sklearn.linear_model, parameters: {C: 2.0}}\n",
    )
    pipe = load_pipelines(path)["Evil"]
    assert pipe.get_params()["baggingclassifier__estimator__C"] == 2.0


def test_optimizer_must_be_a_torch_optimizer(tmp_path):
    pytest.importorskip("braindecode")
    path = _pipeline(
        tmp_path,
        "  - name: EEGClassifier\n    from: braindecode\n    parameters:\n"
        "      module: EEGNet\n      optimizer: [{name: Tensor, from: torch}]\n",
    )
    with pytest.raises(ConfigError, match="module 'torch' is not allowed"):
        load_pipelines(path)
    path.write_text(
        path.read_text().replace("{name: Tensor, from: torch}", "{name: Tensor, from: torch.optim}")
    )
    with pytest.raises(ConfigError, match="has no 'Tensor'|not a torch optimizer"):
        load_pipelines(path)
    path.write_text(path.read_text().replace("name: Tensor", "name: AdamW"))
    import torch

    pipe = load_pipelines(path)["Evil"]
    assert pipe.get_params()["eegclassifier__optimizer"] is torch.optim.AdamW
    # skorch's own argument check runs when the file is loaded, not at the first fit
    path.write_text(path.read_text() + "      optimizr__lr: 0.01\n")
    with pytest.raises(ConfigError, match=r"pipeline\[0\] \(EEGClassifier\): .*optimizr__lr"):
        load_pipelines(path)


_THIRD_PARTY = """
from pathlib import Path
from sklearn.base import BaseEstimator, ClassifierMixin

Path(__file__).with_name("imported.flag").write_text("side effect")


class Majority(ClassifierMixin, BaseEstimator):
    def __init__(self, label=None):
        self.label = label

    def fit(self, X, y):
        return self
"""


def test_third_party_module_needs_trust(tmp_path, monkeypatch):
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "mylab_models.py").write_text(_THIRD_PARTY)
    monkeypatch.syspath_prepend(str(lab))
    monkeypatch.delitem(sys.modules, "mylab_models", raising=False)
    path = _pipeline(tmp_path, "  - name: Majority\n    from: mylab_models\n    parameters: {label: a}\n")
    with pytest.raises(ConfigError, match="--trust-module mylab_models"):
        load_pipelines(path)
    assert not (lab / "imported.flag").exists()  # refused before the import
    pipe = load_pipelines(path, trust_modules=["mylab_models"])["Evil"]
    assert pipe.get_params()["majority__label"] == "a"
    assert (lab / "imported.flag").exists()


def test_trust_names_are_checked(tmp_path):
    path = _pipeline(tmp_path, "  - name: LogisticRegression\n    from: sklearn.linear_model\n")
    with pytest.raises(InvalidInputError, match="not a module name"):
        load_pipelines(path, trust_modules=["os; rm"])
