"""Pipelines from YAML files in MOABB's format (and MOABB's Python pipeline files, run
only on request: :mod:`neurodec.evaluation.python_pipelines`).

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
key. A step (and an object given as a parameter, ``{name, from, parameters}``) must be
a scikit-learn estimator class from an allowed module (sklearn, pyriemann, neurodec, mne,
braindecode, moabb, scipy) or one the user trusts (``trust_modules``, ``--trust-module``);
anything else is refused before it is imported (:mod:`neurodec.evaluation.trust`).
Parameter names and values are checked when a pipeline is built
(:mod:`neurodec.evaluation.param_checks`). The steps are built with ``make_pipeline``
(step names are the lower-cased class names, as MOABB), from deep copies of the
parameters, so the parsed content is never mutated. A spec's identity is a hash of its content.
MOABB's own pipeline files load unchanged (including ``optimizer`` and
``callbacks`` parameters given as nested ``{name, from, parameters}`` entries).

Torch models plug in the same way: any scikit-learn compatible estimator, e.g.
``braindecode.EEGClassifier`` with ``module: EEGNetv4`` and training options as
parameters, is one pipeline step.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sklearn.pipeline import Pipeline, make_pipeline

from neurodec.errors import ConfigError, DataNotFoundError
from neurodec.evaluation.param_checks import (
    check_grid,
    check_param_names,
    check_param_values,
    check_params_kept,
)
from neurodec.evaluation.trust import check_entry, check_trust_names, import_class

__all__ = [
    "PipelineSpec",
    "read_pipeline_spec",
    "read_pipeline_specs",
    "load_pipelines",
    "build_pipeline",
    "build_pipelines",
]

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
    trust_modules : tuple of str
        Modules outside the allow-list the user trusts for this spec (not part of its
        identity).
    """

    name: str
    paradigms: tuple
    citations: tuple
    steps: tuple
    param_grid: dict | None
    path: Path | None = None
    content_hash: str = ""
    extra: dict = field(default_factory=dict)
    trust_modules: tuple = field(default=(), compare=False)

    @property
    def where(self) -> str:
        """``"<file>: pipeline '<name>'"``, the start of this spec's error messages."""
        return f"{self.path}: pipeline {self.name!r}" if self.path else f"pipeline {self.name!r}"

    def build(self) -> Pipeline:
        """A fresh (unfitted) scikit-learn pipeline, its ``param_grid`` checked against it."""
        pipe = build_pipeline(self.steps, where=self.where, trust_modules=self.trust_modules)
        check_grid(pipe, self.param_grid, self.where)
        return pipe


#: parameters whose list entries MOABB turns into objects, and what those objects are
_ROLE_KEYS = {"optimizer": "optimizer", "callbacks": "callbacks"}


def _is_entry(value: Any) -> bool:
    """A nested ``{name, from[, parameters]}`` mapping (an object given as a parameter)."""
    return (
        isinstance(value, dict) and isinstance(value.get("name"), str) and isinstance(value.get("from"), str)
    )


def _nested_entries(params: dict, key: str) -> Iterator[tuple[str, str, dict]]:
    """``(key, role, entry)`` for every object entry directly inside ``params``."""
    for k, v in params.items():
        if k in _ROLE_KEYS and isinstance(v, list):
            for i, entry in enumerate(v):
                if _is_entry(entry):
                    yield f"{key}.{k}[{i}]", _ROLE_KEYS[k], entry
        elif _is_entry(v):
            yield f"{key}.{k}", _ROLE_KEYS.get(k, "estimator"), v


def _check_entries(steps: Any, where: str, trusted: tuple[str, ...]) -> None:
    """The allow-list check of every step and nested entry, on names only (no import)."""

    def visit(entry: dict, key: str, role: str) -> None:
        bad = set(entry) - _STEP_KEYS
        if bad:
            raise ConfigError(f"{where}: {key}: unknown key(s) {sorted(bad)}; allowed: {sorted(_STEP_KEYS)}")
        if entry.get("parameters") is not None and not isinstance(entry["parameters"], dict):
            raise ConfigError(f"{where}: {key}: 'parameters' must be a mapping")
        check_entry(entry["from"], entry["name"], trusted, f"{where}: {key}", role)
        for sub_key, sub_role, sub in _nested_entries(entry.get("parameters") or {}, key):
            visit(sub, sub_key, sub_role)

    for i, step in enumerate(steps):
        visit(step, f"pipeline[{i}]", "estimator")


def _build_object(entry: dict, where: str, key: str, role: str, trusted: tuple[str, ...]) -> Any:
    """The object an entry describes: an estimator built from its parameters, or (for
    ``optimizer``) the torch optimizer class itself, as skorch/braindecode take it."""
    cls = import_class(entry["from"], entry["name"], trusted, f"{where}: {key}", role)
    raw = entry.get("parameters") or {}
    at = f"{where}: {key} ({entry['name']})"
    if role == "optimizer":
        if raw:
            raise ConfigError(
                f"{at}: an optimizer is passed as a class; give its options as parameters of the "
                f"step (e.g. optimizer__lr: 0.001), not under the optimizer entry"
            )
        return cls
    params = _resolve_params(raw, where, key, trusted)
    check_param_names(cls, params, at)
    try:
        obj = cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{at}: bad parameters: {' '.join(str(exc).split())}") from exc
    if callable(getattr(obj, "get_params", None)):
        check_params_kept(obj, params, at)
        check_param_values(obj, at)
    return obj


def _resolve_params(params: dict, where: str, key: str, trusted: tuple[str, ...] = ()) -> dict:
    """Copy of ``params`` with nested ``{name, from, parameters}`` entries (an estimator
    given as a parameter; MOABB's ``optimizer`` and ``callbacks`` lists) turned into
    objects, each through the same checks as a step."""
    out = {}
    for k, v in params.items():
        if k in _ROLE_KEYS and isinstance(v, list):
            objs = [
                _build_object(e, where, f"{key}.{k}[{i}]", _ROLE_KEYS[k], trusted)
                if _is_entry(e)
                else copy.deepcopy(e)
                for i, e in enumerate(v)
            ]
            out[k] = objs[0] if k == "optimizer" and len(objs) == 1 else objs
        elif _is_entry(v):
            out[k] = _build_object(v, where, f"{key}.{k}", _ROLE_KEYS.get(k, "estimator"), trusted)
        else:
            out[k] = copy.deepcopy(v)
    return out


def build_pipeline(
    steps: Any, where: str = "<pipeline>", trust_modules: Iterable[str] | None = None
) -> Pipeline:
    """Instantiate MOABB-format steps into a ``make_pipeline`` pipeline.

    Each step (and each object given as a parameter) must be a scikit-learn estimator
    class from an allowed module or one in ``trust_modules`` (see
    :mod:`neurodec.evaluation.trust`); parameter names and values are checked (see
    :mod:`neurodec.evaluation.param_checks`). Errors are one-line :class:`ConfigError`.
    """
    trusted = check_trust_names(trust_modules)
    _check_entries(steps, where, trusted)  # every name before the first import
    objs = [
        _build_object(step, where, f"pipeline[{i}]", "estimator", trusted) for i, step in enumerate(steps)
    ]
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


def read_pipeline_spec(
    path: str | os.PathLike, trust_modules: Iterable[str] | None = None, allow_python: bool = False
) -> PipelineSpec:
    """Read and validate one pipeline file (nothing is imported yet).

    Parameters
    ----------
    path : path-like
        A YAML file, or a MOABB Python pipeline file (``.py``, see
        :mod:`neurodec.evaluation.python_pipelines`).
    trust_modules : list of str | None
        Modules outside :data:`~neurodec.evaluation.trust.ALLOWED_MODULES` whose
        estimators the file may use (``--trust-module``). Every ``from`` is checked
        against them here, on its name.
    allow_python : bool
        Execute a ``.py`` file (it is code). Without it a ``.py`` file is refused.
    """
    trusted = check_trust_names(trust_modules)
    path = Path(path)
    if path.suffix == ".py":
        from neurodec.evaluation.python_pipelines import execute_python_spec, read_python_spec

        spec = read_python_spec(path, trusted)
        if not allow_python:
            raise ConfigError(
                f"{path}: a Python pipeline file is code; it runs only with --allow-python "
                "(Python: allow_python=True), which executes it with your permissions"
            )
        return execute_python_spec(spec)
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
    _check_entries(content["pipeline"], f"{where}: pipeline {content['name'].strip()!r}", trusted)
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
        trust_modules=trusted,
    )


#: suffixes of pipeline files in a folder (``.py``: MOABB's Python pipelines, run only on request)
PIPELINE_SUFFIXES = (".yml", ".yaml", ".py")


def _pipeline_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in PIPELINE_SUFFIXES and p.is_file())
    raise DataNotFoundError(f"pipeline path {path} does not exist; give a .yml/.py file or a folder of them")


def read_pipeline_specs(
    path: str | os.PathLike,
    paradigm: str | None = None,
    trust_modules: Iterable[str] | None = None,
    allow_python: bool = False,
) -> list[PipelineSpec]:
    """All specs in a file or folder (``*.yml``, ``*.yaml``, ``*.py``), sorted by file name.

    Parameters
    ----------
    paradigm : str | None
        Keep only pipelines listing this paradigm class name.
    trust_modules : list of str | None
        See :func:`read_pipeline_spec`.
    allow_python : bool
        Execute the Python pipeline files. Without it, a folder's ``.py`` files are
        read from their source only (a
        :class:`~neurodec.evaluation.python_pipelines.PythonPipelineSpec` with
        ``executed=False``: listed, never run), and a ``.py`` given directly is refused.

    Raises
    ------
    ConfigError
        A file is invalid, or two files use the same pipeline name.
    """
    path = Path(path)
    files = _pipeline_files(path)
    if not files:
        raise ConfigError(f"no pipeline files (*.yml, *.py) in {path}")
    trusted = check_trust_names(trust_modules)
    if path.is_dir() and not allow_python:
        from neurodec.evaluation.python_pipelines import read_python_spec

        specs = [
            read_python_spec(f, trusted) if f.suffix == ".py" else read_pipeline_spec(f, trusted)
            for f in files
        ]
    else:
        specs = [read_pipeline_spec(f, trusted, allow_python) for f in files]
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


def build_pipelines(specs: Iterable[PipelineSpec]) -> dict[str, Pipeline]:
    """``{name: Pipeline}`` for ``specs``, every one checked before any is returned.

    Raises
    ------
    ConfigError
        One spec: its own one-line error. Several: a first line ``"k of n pipelines are
        invalid"`` then one line per invalid pipeline (file, pipeline, step, reason).
    """
    specs = list(specs)
    built: dict[str, Pipeline] = {}
    errors: list[ConfigError] = []
    for spec in specs:
        try:
            built[spec.name] = spec.build()
        except ConfigError as exc:
            errors.append(exc)
    if len(specs) == 1 and errors:
        raise errors[0]
    if errors:
        lines = "\n".join(" ".join(str(e).split()) for e in errors)
        raise ConfigError(
            f"{len(errors)} of {len(specs)} pipelines are invalid; fix or remove them:\n{lines}"
        )
    return built


def load_pipelines(
    path_or_dir: str | os.PathLike,
    paradigm: str | None = None,
    trust_modules: Iterable[str] | None = None,
    allow_python: bool = False,
) -> dict[str, Pipeline]:
    """``{name: Pipeline}`` for the pipeline files at ``path_or_dir``.

    The grids are on :func:`read_pipeline_specs`'s specs (``spec.param_grid``).

    Parameters
    ----------
    path_or_dir : path-like
        A ``.yml`` (or ``.py``) file or a folder of them.
    paradigm : str | None
        Keep only pipelines listing this paradigm class name.
    trust_modules : list of str | None
        Modules outside the allow-list (sklearn, pyriemann, neurodec, mne, braindecode,
        moabb, scipy) whose estimator classes the files may use. Only estimator classes
        are ever built; anything else is refused before it is imported (see
        :mod:`neurodec.evaluation.trust`).
    allow_python : bool
        Execute Python pipeline files (see :mod:`neurodec.evaluation.python_pipelines`);
        without it a folder's ``.py`` files are left out with a warning.
    """
    from neurodec.evaluation.python_pipelines import runnable_specs

    specs = read_pipeline_specs(path_or_dir, paradigm, trust_modules, allow_python)
    return build_pipelines(runnable_specs(specs))
