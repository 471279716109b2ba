"""Stable identities: content hashes of estimators and of evaluation settings.

A pipeline's key is its name plus a hash of its full definition (classes and
parameters, recursively), so editing a pipeline gives a new key and old results
are never silently reused or overwritten.
"""

from __future__ import annotations

import hashlib
import json
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
        return {"ndarray": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest()[:16],
                "shape": list(obj.shape), "dtype": str(obj.dtype)}
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, type) or callable(obj):
        return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
    return repr(obj)


def content_hash(obj: Any, length: int = 12) -> str:
    """Hex digest of :func:`describe` (or of plain JSON data)."""
    text = json.dumps(describe(obj), sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def pipeline_key(name: str, estimator: Any) -> str:
    """``"<name>@<hash>"``: the results-store identity of a named pipeline."""
    return f"{name}@{content_hash(estimator)}"
