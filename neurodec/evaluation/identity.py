"""Stable identities: content hashes of estimators and of evaluation settings.

A pipeline's key is its name plus a hash of its full definition (classes and
parameters, recursively), so editing a pipeline gives a new key and old results
are never silently reused or overwritten.
"""

from __future__ import annotations

import functools
import hashlib
import json
import types
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

__all__ = ["describe", "content_hash", "pipeline_key"]


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


def pipeline_key(name: str, estimator: Any) -> str:
    """``"<name>@<hash>"``: the results-store identity of a named pipeline."""
    return f"{name}@{content_hash(estimator)}"
