"""Pipelines from YAML files in MOABB's format.

A file holds one pipeline::

    name: TS+SVM
    paradigms: [LeftRightImagery, MotorImagery]
    citations: [...]            # optional
    pipeline:
      - name: Covariances       # class name
        from: pyriemann.estimation
        parameters: {estimator: oas}
      - name: TangentSpace
        from: pyriemann.tangentspace
      - name: SVC
        from: sklearn.svm
        parameters: {kernel: linear}
    param_grid:                 # optional, keys as make_pipeline names them
      svc__C: [0.5, 1, 2]

Files are read with ``yaml.safe_load`` and validated; errors name the file and
key. The steps are built with ``make_pipeline`` (step names are the lower-cased
class names, as MOABB), from deep copies of the parameters, so the parsed
content is never mutated. A spec's identity is a hash of its content.
MOABB's own pipeline files load unchanged (including ``optimizer`` and
``callbacks`` parameters given as nested ``{name, from, parameters}`` entries).

Torch models plug in the same way: any scikit-learn compatible estimator, e.g.
``braindecode.EEGClassifier`` with ``module: EEGNetv4`` and training options as
parameters, is one pipeline step.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sklearn.pipeline import Pipeline, make_pipeline

from neurodec.errors import ConfigError, DataNotFoundError
from neurodec.extras import missing_extra_error

__all__ = ["PipelineSpec", "read_pipeline_spec", "read_pipeline_specs", "load_pipelines", "build_pipeline"]

_ALLOWED_KEYS = {"name", "paradigms", "citations", "pipeline", "param_grid"}
_STEP_KEYS = {"name", "from", "parameters"}


@dataclass(frozen=True)
class PipelineSpec:
    """A validated pipeline file.

    Attributes
    ----------
    name : str
    paradigms : tuple of str
    citations : tuple of str
    steps : tuple of dict
        ``{"name", "from", "parameters"}`` per step (as in the file).
    param_grid : dict | None
    path : Path | None
    content_hash : str
        SHA-256 (12 hex) of the canonical JSON of the file's content.
    """

    name: str
    paradigms: tuple
    citations: tuple
    steps: tuple
    param_grid: dict | None
    path: Path | None = None
    content_hash: str = ""
    extra: dict = field(default_factory=dict)

    def build(self) -> Pipeline:
        """A fresh (unfitted) scikit-learn pipeline."""
        return build_pipeline(self.steps, where=str(self.path or self.name))


def _import(module: str, name: str, where: str, key: str) -> Any:
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        missing = missing_extra_error(exc, f"{where}: {key}")
        if missing is not None:
            raise missing from exc
        raise ConfigError(
            f"{where}: {key}: cannot import module {module!r} ({exc}); install it or fix 'from'"
        ) from exc
    try:
        return getattr(mod, name)
    except AttributeError:
        raise ConfigError(f"{where}: {key}: module {module!r} has no {name!r}; fix 'name'") from None


def _resolve_params(params: dict, where: str, key: str) -> dict:
    """Copy of ``params`` with nested step-like entries (MOABB's ``optimizer``,
    ``callbacks``) turned into objects."""
    out = {}
    for k, v in params.items():
        if k in ("optimizer", "callbacks") and isinstance(v, list):
            objs = []
            for i, entry in enumerate(v):
                if isinstance(entry, dict) and {"name", "from"} <= set(entry):
                    cls = _import(entry["from"], entry["name"], where, f"{key}.{k}[{i}]")
                    if entry["from"].startswith("torch.optim"):
                        objs.append(cls)  # skorch/braindecode take the optimizer class
                        continue
                    try:
                        objs.append(cls(**copy.deepcopy(entry.get("parameters") or {})))
                    except TypeError as exc:
                        raise ConfigError(
                            f"{where}: {key}.{k}[{i}] ({entry['name']}): bad parameters: {exc}"
                        ) from exc
                else:
                    objs.append(copy.deepcopy(entry))
            out[k] = objs[0] if k == "optimizer" and len(objs) == 1 else objs
        else:
            out[k] = copy.deepcopy(v)
    return out


def build_pipeline(steps: Any, where: str = "<pipeline>") -> Pipeline:
    """Instantiate MOABB-format steps into a ``make_pipeline`` pipeline."""
    objs = []
    for i, step in enumerate(steps):
        key = f"pipeline[{i}]"
        cls = _import(step["from"], step["name"], where, key)
        params = _resolve_params(step.get("parameters") or {}, where, key)
        try:
            objs.append(cls(**params))
        except TypeError as exc:
            raise ConfigError(f"{where}: {key} ({step['name']}): bad parameters: {exc}") from exc
    try:
        return make_pipeline(*objs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: the steps do not form a pipeline: {exc}") from exc


def _validate(content: Any, where: str) -> None:
    if not isinstance(content, dict):
        raise ConfigError(
            f"{where}: expected a mapping with keys name, paradigms, pipeline; got {type(content).__name__}"
        )
    for key in ("name", "paradigms", "pipeline"):
        if key not in content:
            raise ConfigError(f"{where}: missing key '{key}'")
    unknown = set(content) - _ALLOWED_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_ALLOWED_KEYS)}")
    if not isinstance(content["name"], str) or not content["name"].strip():
        raise ConfigError(f"{where}: 'name' must be a non-empty string")
    par = content["paradigms"]
    if not isinstance(par, list) or not par or not all(isinstance(p, str) for p in par):
        raise ConfigError(f"{where}: 'paradigms' must be a non-empty list of paradigm names")
    cit = content.get("citations")
    if cit is not None and not isinstance(cit, (list, str)):
        raise ConfigError(f"{where}: 'citations' must be a list of strings")
    steps = content["pipeline"]
    if not isinstance(steps, list) or not steps:
        raise ConfigError(f"{where}: 'pipeline' must be a non-empty list of steps")
    for i, step in enumerate(steps):
        key = f"pipeline[{i}]"
        if not isinstance(step, dict):
            raise ConfigError(f"{where}: {key} must be a mapping with keys name, from, parameters")
        for k in ("name", "from"):
            if not isinstance(step.get(k), str) or not step[k]:
                raise ConfigError(f"{where}: {key}: missing or empty '{k}'")
        bad = set(step) - _STEP_KEYS
        if bad:
            raise ConfigError(f"{where}: {key}: unknown key(s) {sorted(bad)}; allowed: {sorted(_STEP_KEYS)}")
        if step.get("parameters") is not None and not isinstance(step["parameters"], dict):
            raise ConfigError(f"{where}: {key}: 'parameters' must be a mapping")
    grid = content.get("param_grid")
    if grid is not None:
        if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
            raise ConfigError(f"{where}: 'param_grid' must map parameter names to non-empty lists")
        step_names = {s["name"].lower() for s in steps}
        for k in grid:
            if "__" not in str(k) or str(k).split("__")[0] not in step_names:
                raise ConfigError(
                    f"{where}: param_grid key {k!r} must be '<step>__<param>' with <step> one of "
                    f"{sorted(step_names)}"
                )


def read_pipeline_spec(path: str | os.PathLike) -> PipelineSpec:
    """Read and validate one pipeline YAML file (nothing is imported yet)."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataNotFoundError(f"pipeline file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read ({exc})") from exc
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from exc
    _validate(content, where)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:12]
    cit = content.get("citations") or []
    return PipelineSpec(
        name=content["name"].strip(),
        paradigms=tuple(content["paradigms"]),
        citations=tuple([cit] if isinstance(cit, str) else cit),
        steps=tuple(copy.deepcopy(content["pipeline"])),
        param_grid=copy.deepcopy(content.get("param_grid")),
        path=path,
        content_hash=digest,
    )


def _yaml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())
    raise DataNotFoundError(f"pipeline path {path} does not exist; give a .yml file or a folder of them")


def read_pipeline_specs(path: str | os.PathLike, paradigm: str | None = None) -> list[PipelineSpec]:
    """All specs in a file or folder (``*.yml``, ``*.yaml``), sorted by file name.

    Parameters
    ----------
    paradigm : str | None
        Keep only pipelines listing this paradigm class name.

    Raises
    ------
    ConfigError
        A file is invalid, or two files use the same pipeline name.
    """
    files = _yaml_files(Path(path))
    if not files:
        raise ConfigError(f"no pipeline files (*.yml) in {path}")
    specs = [read_pipeline_spec(f) for f in files]
    seen: dict[str, Path | None] = {}
    for s in specs:
        if s.name in seen:
            raise ConfigError(
                f"pipeline name {s.name!r} is used by both {seen[s.name]} and {s.path}; names must be unique"
            )
        seen[s.name] = s.path
    if paradigm is not None:
        specs = [s for s in specs if paradigm in s.paradigms]
    return specs


def load_pipelines(path_or_dir: str | os.PathLike, paradigm: str | None = None) -> dict[str, Pipeline]:
    """``{name: Pipeline}`` for the YAML files at ``path_or_dir``.

    The grids are on :func:`read_pipeline_specs`'s specs (``spec.param_grid``).
    """
    return {s.name: s.build() for s in read_pipeline_specs(path_or_dir, paradigm)}
