"""Python pipeline files (MOABB's ``*.py`` pipelines): code, executed only on request.

MOABB runs every ``.py`` file of a pipeline folder that defines ``PIPELINE``::

    PIPELINE = {"name": "FBCSP + optSVM", "paradigms": ["FilterBankMotorImagery"],
                "pipeline": make_pipeline(FilterBank(...), SelectKBest(...), clf)}

(optionally with ``param_grid`` and ``citations``). Such a file is code: importing it
can do anything the user can. neurodec therefore:

* **lists** Python files without running them: ``name``, ``paradigms``, ``citations``
  and ``param_grid`` are read from the source with :mod:`ast` (literal values only), and
  every ``import`` is checked against the allow-list of
  :mod:`neurodec.evaluation.trust` (:data:`ALLOWED_MODULES`, plus :data:`PYTHON_IMPORTS`,
  plus ``--trust-module`` names); ``__import__``, ``exec``, ``eval``, ``compile`` and
  ``open`` are refused by name. This is a guard against accidents, not a sandbox;
* **executes** a file only when the user says so: ``allow_python=True`` in Python,
  ``--allow-python`` on the command line. Without it, a ``.py`` given directly is a
  :class:`~neurodec.errors.ConfigError`, and ``.py`` files in a folder are listed but
  left out of runs with a warning that names them. The CLI prints which files it
  executed, with their content hash;
* checks what the file produced: ``PIPELINE`` must be a mapping with MOABB's keys, its
  ``pipeline`` a scikit-learn estimator, and every estimator inside it (steps, nested
  estimators) a class from an allowed or trusted module or defined in the file itself.

A spec's identity (``content_hash``) is the SHA-256 of the file's bytes.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import logging
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.base import BaseEstimator, clone

from neurodec.errors import ConfigError, DataNotFoundError
from neurodec.evaluation.param_checks import check_grid
from neurodec.evaluation.pipelines import PipelineSpec
from neurodec.evaluation.trust import ALLOWED_MODULES, check_trust_names

__all__ = [
    "PYTHON_IMPORTS",
    "PythonPipelineSpec",
    "read_python_spec",
    "execute_python_spec",
    "runnable_specs",
]

log = logging.getLogger(__name__)

#: Modules a Python pipeline file may import besides :data:`ALLOWED_MODULES` (array
#: helpers MOABB's own files use) without ``--trust-module``.
PYTHON_IMPORTS: tuple[str, ...] = ("numpy", "__future__")

#: Builtins refused by name in a Python pipeline file.
_REFUSED_NAMES = ("__import__", "exec", "eval", "compile", "open")
_KEYS = {"name", "paradigms", "citations", "pipeline", "param_grid"}
_LITERAL_KEYS = ("name", "paradigms", "citations", "param_grid")


@dataclass(frozen=True)
class PythonPipelineSpec(PipelineSpec):
    """A ``.py`` pipeline file: what its source says, and (once executed) its estimator.

    Attributes (besides :class:`~neurodec.evaluation.pipelines.PipelineSpec`'s)
    ----------
    imports : tuple of str
        Top-level modules the file imports.
    executed : bool
        Whether the file was run (``allow_python=True``); only then is ``estimator`` set
        and the spec buildable.
    estimator : estimator | None
        ``PIPELINE["pipeline"]`` as the file built it (never fitted; :meth:`build`
        returns a clone).
    """

    imports: tuple = ()
    executed: bool = False
    estimator: Any = field(default=None, compare=False, repr=False)

    def build(self) -> Any:
        """A clone of the file's estimator, its ``param_grid`` checked against it."""
        if not self.executed:
            raise ConfigError(
                f"{self.path}: a Python pipeline file is code and was not executed; pass "
                "--allow-python (Python: allow_python=True) if you trust it"
            )
        pipe = clone(self.estimator)
        check_grid(pipe, self.param_grid, self.where)
        return pipe


# --------------------------------------------------------------------------- static reading
def _module_names(tree: ast.AST, where: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise ConfigError(
                    f"{where}: line {node.lineno}: relative imports are not allowed in pipeline files"
                )
            found.append(node.module or "")
        elif isinstance(node, ast.Name) and node.id in _REFUSED_NAMES:
            raise ConfigError(
                f"{where}: line {node.lineno}: {node.id!r} is not allowed in pipeline files "
                "(they define estimators; they do not run or load other code)"
            )
    return found


def _within(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _check_imports(modules: list[str], trusted: tuple[str, ...], where: str) -> None:
    allowed = (*ALLOWED_MODULES, *PYTHON_IMPORTS, *trusted)
    for module in modules:
        if not _within(module, allowed):
            top = module.split(".")[0]
            raise ConfigError(
                f"{where}: imports {module!r}, which is not allowed in pipeline files (allowed: "
                f"{', '.join((*ALLOWED_MODULES, *PYTHON_IMPORTS))}); if you trust it, pass "
                f"--trust-module {top} (Python: trust_modules=[{top!r}])"
            )


def _pipeline_dict(tree: ast.Module, where: str) -> ast.expr:
    value = None
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "PIPELINE" for t in targets):
                value = node.value
    if value is None:
        raise ConfigError(
            f"{where}: defines no PIPELINE; a Python pipeline file assigns "
            "PIPELINE = {'name': ..., 'paradigms': [...], 'pipeline': <estimator>} at top level"
        )
    return value


def _literals(value: ast.expr, where: str) -> dict[str, Any]:
    """The literal entries of ``PIPELINE = {...}`` (``name``, ``paradigms`` ...)."""
    if not isinstance(value, ast.Dict):
        return {}
    out: dict[str, Any] = {}
    for key, val in zip(value.keys, value.values):
        if isinstance(key, ast.Constant) and key.value in _LITERAL_KEYS:
            try:
                out[key.value] = ast.literal_eval(val)
            except ValueError:
                continue  # computed at run time; known once executed
        elif isinstance(key, ast.Constant) and key.value not in _KEYS:
            raise ConfigError(f"{where}: PIPELINE has unknown key {key.value!r}; allowed: {sorted(_KEYS)}")
    return out


def _check_meta(meta: dict[str, Any], where: str, executed: bool) -> None:
    name = meta.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ConfigError(f"{where}: PIPELINE['name'] must be a non-empty string")
    par = meta.get("paradigms")
    if par is not None and (
        not isinstance(par, (list, tuple)) or not par or not all(isinstance(p, str) for p in par)
    ):
        raise ConfigError(f"{where}: PIPELINE['paradigms'] must be a non-empty list of paradigm names")
    if executed:
        for key in ("name", "paradigms"):
            if meta.get(key) is None:
                raise ConfigError(f"{where}: PIPELINE has no {key!r}")
    grid = meta.get("param_grid")
    if grid is not None and (
        not isinstance(grid, dict) or not all(isinstance(v, list) for v in grid.values())
    ):
        raise ConfigError(f"{where}: PIPELINE['param_grid'] must map parameter names to lists")
    cit = meta.get("citations")
    if cit is not None and not isinstance(cit, (list, tuple, str)):
        raise ConfigError(f"{where}: PIPELINE['citations'] must be a list of strings")


def read_python_spec(path: str | Path, trust_modules: Iterable[str] | None = None) -> PythonPipelineSpec:
    """What a ``.py`` pipeline file declares, read from its source; nothing is executed.

    Parameters
    ----------
    path : path-like
    trust_modules : list of str | None
        Modules outside the allow-list the file may import.

    Returns
    -------
    PythonPipelineSpec
        ``executed=False``; ``name`` is the literal ``PIPELINE['name']`` or, when the file
        computes it, ``"<file stem> (name set by code)"``.

    Raises
    ------
    ConfigError
        Not valid Python, no top-level ``PIPELINE``, an import outside the allow-list, a
        refused builtin, or a literal entry of the wrong type.
    """
    trusted = check_trust_names(trust_modules)
    path = Path(path)
    where = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataNotFoundError(f"pipeline file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read ({exc})") from exc
    try:
        tree = ast.parse(raw, filename=where)
    except (SyntaxError, ValueError) as exc:
        raise ConfigError(f"{where}: not valid Python ({' '.join(str(exc).split())})") from exc
    modules = _module_names(tree, where)
    _check_imports(modules, trusted, where)
    meta = _literals(_pipeline_dict(tree, where), where)
    _check_meta(meta, where, executed=False)
    name = meta.get("name")
    cit = meta.get("citations") or []
    return PythonPipelineSpec(
        name=name.strip() if isinstance(name, str) else f"{path.stem} (name set by code)",
        paradigms=tuple(meta.get("paradigms") or ()),
        citations=tuple([cit] if isinstance(cit, str) else cit),
        steps=(),
        param_grid=meta.get("param_grid"),
        path=path,
        content_hash=hashlib.sha256(raw).hexdigest()[:12],
        trust_modules=trusted,
        imports=tuple(sorted({m.split(".")[0] for m in modules if m})),
    )


# --------------------------------------------------------------------------- execution
def _estimators(obj: Any, key: str) -> Iterator[tuple[str, Any]]:
    """``(key, estimator)`` for ``obj`` and every estimator nested in its parameters."""
    if isinstance(obj, BaseEstimator):
        yield key, obj
        for name, value in obj.get_params(deep=False).items():
            yield from _estimators(value, f"{key}.{name}")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from _estimators(value, f"{key}[{i}]")
    elif isinstance(obj, dict):
        for name, value in obj.items():
            yield from _estimators(value, f"{key}[{name!r}]")


def _check_classes(estimator: Any, module_name: str, trusted: tuple[str, ...], where: str) -> None:
    allowed = (*ALLOWED_MODULES, *trusted, module_name)
    for key, est in _estimators(estimator, "pipeline"):
        home = type(est).__module__ or ""
        if not _within(home, allowed):
            top = home.split(".")[0]
            raise ConfigError(
                f"{where}: {key} is a {type(est).__name__} from module {home!r}, which is not "
                f"allowed; if you trust it, pass --trust-module {top}"
            )


def _describe_steps(estimator: Any) -> tuple[dict, ...]:
    steps = getattr(estimator, "steps", None)
    objs = [s for _, s in steps] if isinstance(steps, list) else [estimator]
    return tuple({"name": type(s).__name__, "from": type(s).__module__} for s in objs)


def execute_python_spec(spec: PythonPipelineSpec) -> PythonPipelineSpec:
    """Run the file of ``spec`` and return the spec with its estimator.

    The file runs as a fresh module (not left in ``sys.modules``, so workers receive
    its objects by value). Call this only for files the user allowed.

    Raises
    ------
    ConfigError
        The file raised, defines no usable ``PIPELINE``, or its estimators come from
        modules outside the allow-list.
    """
    if spec.executed:
        return spec
    where = str(spec.path)
    module_name = f"neurodec_pipeline_{spec.content_hash}"
    loader_spec = importlib.util.spec_from_file_location(module_name, spec.path)
    if loader_spec is None or loader_spec.loader is None:  # pragma: no cover - a .py always has one
        raise ConfigError(f"{where}: cannot be loaded as Python")
    module = importlib.util.module_from_spec(loader_spec)
    log.info("executing Python pipeline file %s (sha256 %s)", where, spec.content_hash)
    sys.modules[module_name] = module  # dataclasses and pickling by reference look it up while it runs
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the file's own error, reported with its name
        raise ConfigError(f"{where}: raised {type(exc).__name__} when executed: {exc}") from exc
    finally:
        sys.modules.pop(module_name, None)
    content = getattr(module, "PIPELINE", None)
    if not isinstance(content, dict):
        raise ConfigError(
            f"{where}: PIPELINE must be a dict with keys name, paradigms, pipeline; got "
            f"{type(content).__name__}"
        )
    unknown = set(content) - _KEYS
    if unknown:
        raise ConfigError(f"{where}: PIPELINE has unknown key(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}")
    _check_meta(content, where, executed=True)
    estimator = content.get("pipeline")
    if not isinstance(estimator, BaseEstimator):
        raise ConfigError(
            f"{where}: PIPELINE['pipeline'] must be a scikit-learn estimator, got {type(estimator).__name__}"
        )
    _check_classes(estimator, module_name, spec.trust_modules, where)
    cit = content.get("citations") or []
    name = content["name"].strip()
    return PythonPipelineSpec(
        name=name,
        paradigms=tuple(content["paradigms"]),
        citations=tuple([cit] if isinstance(cit, str) else cit),
        steps=_describe_steps(estimator),
        param_grid=content.get("param_grid"),
        path=spec.path,
        content_hash=spec.content_hash,
        trust_modules=spec.trust_modules,
        imports=spec.imports,
        executed=True,
        estimator=estimator,
    )


def runnable_specs(specs: Iterable[PipelineSpec]) -> list[PipelineSpec]:
    """``specs`` without the Python files that were not executed (a warning names them)."""
    specs = list(specs)
    skipped = [s for s in specs if isinstance(s, PythonPipelineSpec) and not s.executed]
    if skipped:
        log.warning(
            "left out %d Python pipeline file(s), not executed: %s; pass --allow-python "
            "(allow_python=True) to run them",
            len(skipped),
            ", ".join(str(s.path.name) for s in skipped),
        )
    return [s for s in specs if not (isinstance(s, PythonPipelineSpec) and not s.executed)]
