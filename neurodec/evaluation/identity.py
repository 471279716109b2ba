"""Stable identities: content hashes of estimators and of evaluation settings.

A pipeline's key is its name plus a hash of its full definition (classes and
parameters, recursively, and its parameter grid), so editing a pipeline gives a
new key and old results are never silently reused or overwritten.

A run's context (:func:`run_context`) is a hash of the other settings that
decide a fold's train/test content or its score; together with the pipeline
key, the subject, session, fold and the subject's data version it identifies a
stored fold (see :mod:`neurodec.evaluation.store`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import types
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["describe", "content_hash", "pipeline_key", "run_context"]


def describe(obj: Any) -> Any:
    """A JSON-able description of ``obj`` that changes whenever its behaviour may.

    Estimators become ``{"class": "module.Name", "params": {...}}`` (shallow
    ``get_params``, recursed), arrays a hash of their bytes, classes and
    functions their import path; other objects their ``repr``.
    """
    if isinstance(obj, BaseEstimator):
        params = obj.get_params(deep=False)
        return {
            "class": f"{type(obj).__module__}.{type(obj).__qualname__}",
            "params": {k: describe(v) for k, v in sorted(params.items())},
        }
    if isinstance(obj, dict):
        return {str(k): describe(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [describe(v) for v in obj]
    if isinstance(obj, (set, frozenset)):  # in a stable order (skorch keeps a set of its kwargs)
        return sorted((describe(v) for v in obj), key=lambda d: json.dumps(d, sort_keys=True, default=str))
    if isinstance(obj, np.ndarray):
        return {
            "ndarray": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest()[:16],
            "shape": list(obj.shape),
            "dtype": str(obj.dtype),
        }
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, functools.partial):
        return {
            "partial": describe(obj.func),
            "args": describe(list(obj.args)),
            "keywords": describe(dict(obj.keywords)),
        }
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}"
    if isinstance(obj, types.FunctionType):
        return _describe_function(obj)
    if callable(obj):
        return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
    return repr(obj)


_IN_PROGRESS: set[int] = set()


def _describe_function(func: types.FunctionType) -> Any:
    """Import path of a plain function; for closures and lambdas also what they capture.

    Two closures made by the same factory share a qualified name but may compute
    different things, so their bytecode, constants, defaults and captured values
    are part of the description.
    """
    path = f"{func.__module__}.{func.__qualname__}"
    if (
        func.__closure__ is None
        and func.__defaults__ is None
        and func.__kwdefaults__ is None
        and "<" not in func.__qualname__
    ):
        return path  # a named module-level function: its import path identifies it
    if id(func) in _IN_PROGRESS:  # a closure that captures itself (recursion)
        return {"function": path, "recursive": True}
    code = func.__code__
    body = hashlib.sha256(code.co_code + repr(code.co_consts).encode()).hexdigest()[:16]
    cells = []
    _IN_PROGRESS.add(id(func))
    try:
        for cell in func.__closure__ or ():
            try:
                cells.append(describe(cell.cell_contents))
            except ValueError:  # an empty cell
                cells.append(None)
    finally:
        _IN_PROGRESS.discard(id(func))
    return {
        "function": path,
        "code": body,
        "closure": cells,
        "defaults": describe(list(func.__defaults__ or ())),
        "kwdefaults": describe(dict(func.__kwdefaults__ or {})),
    }


def content_hash(obj: Any, length: int = 12) -> str:
    """Hex digest of :func:`describe` (or of plain JSON data)."""
    text = json.dumps(describe(obj), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def pipeline_key(name: str, estimator: Any, param_grid: Mapping | None = None) -> str:
    """``"<name>@<hash>"``: the results-store identity of a named pipeline (and of
    its ``param_grid``, which changes what is fitted)."""
    if param_grid:
        both = {"estimator": describe(estimator), "param_grid": describe(param_grid)}
        return f"{name}@{content_hash(both)}"
    return f"{name}@{content_hash(estimator)}"


def run_context(
    *,
    evaluation: str,
    splitter: Any,
    paradigm: str,
    seed: int | None,
    metric: str,
    cohort: Mapping[int, str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> tuple[str, dict]:
    """The context hash of a protocol run, and its description.

    What a stored fold's train/test content and score depend on, besides the
    pipeline (its key) and the fold's own subject, session, number and data
    version (row columns):

    - ``evaluation`` and ``protocol``: the splitter's class and options (e.g.
      ``n_folds``; its ``random_state`` is the seed);
    - ``paradigm``: the paradigm's class and parameters (the epochs);
    - ``seed``: fold shuffles, calibration draws and the inner grid-search folds;
    - ``metric``;
    - ``subjects`` and ``cohort_data``, only for protocols whose folds train on
      other subjects (``cohort``: {subject: data version} of every subject of the
      run). Leave-one-subject-out and group k-fold both train on the whole
      subject list minus the test subjects, and group k-fold's assignment of
      subjects to folds depends on the list too, so a fold is the same fold only
      for the same subjects and the same data. Within- and cross-session folds
      use one subject's data only: the subject list is not part of their context,
      and re-running with fewer or more subjects reuses every stored fold;
    - ``options``: other settings of the protocol that change its scores (the
      pseudo-online decision step and chunk size), only when given, so the
      contexts of the other protocols are unchanged.

    Parameters
    ----------
    evaluation : str
    splitter : splitter
    paradigm : str
        :func:`neurodec.evaluation.data.paradigm_description` of the paradigm.
    seed : int | None
    metric : str
    cohort : dict of int -> str | None
    options : dict | None

    Returns
    -------
    context : str
    description : dict
        JSON-able; reports show its differing fields to tell runs apart.
    """
    protocol = {"class": type(splitter).__name__}
    for k, v in sorted(vars(splitter).items()):
        if not (k == "random_state" and v == seed):  # the seed is its own field
            protocol[k] = describe(v)
    description: dict[str, Any] = {
        "evaluation": evaluation,
        "protocol": protocol,
        "paradigm": paradigm,
        "seed": seed,
        "metric": metric,
    }
    if cohort is not None:
        description["subjects"] = sorted(int(s) for s in cohort)
        description["cohort_data"] = {str(s): str(v) for s, v in sorted(cohort.items())}
    if options:
        description["options"] = describe(dict(options))
    return content_hash(description), description
