"""Parameters of pipeline steps, checked when a pipeline file is built (before any fit).

* **Names**: every key of a step's ``parameters`` must be a parameter the estimator
  keeps (``get_params``). A key it only swallows through ``**kwargs`` (pyRiemann's
  ``Covariances(estimatorr="oas")``) is dropped by ``sklearn.base.clone``, so the run
  would silently use the default; such typos are refused with the close valid names
  (:mod:`difflib`).
* **Values**: scikit-learn declares each estimator's valid values in
  ``_parameter_constraints`` and checks them at the start of ``fit`` with
  ``BaseEstimator._validate_params()``; skorch (braindecode's ``EEGClassifier``) checks its
  ``module__``/``optimizer__`` arguments with a method of the same name. That method is the
  only way to run the same check before fitting; it is private, so it is called only where
  it exists (scikit-learn >= 1.2; estimators that declare no constraints are skipped), and a
  library without it falls back to the error of ``fit``. Estimators that validate only in
  ``fit`` (pyRiemann's) still fail there.
* **Grids**: ``param_grid`` keys must be parameters of the pipeline and each value must
  pass the same value check.

Every error is one line: file, pipeline, step, the bad key or scikit-learn's message.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from sklearn.base import clone

from neurodec.errors import ConfigError

__all__ = ["check_param_names", "check_params_kept", "check_param_values", "check_grid"]


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _unknown(where: str, what: str, bad: str, valid: Iterable[str]) -> ConfigError:
    valid = sorted(valid)
    close = difflib.get_close_matches(bad, valid, n=3)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    shown = ", ".join(valid) if len(valid) <= 40 else ", ".join(valid[:40]) + ", ..."
    return ConfigError(f"{where}: unknown {what} {bad!r}{hint}; valid: {shown or 'none'}")


def check_param_names(cls: type, params: Mapping[str, Any], where: str) -> None:
    """Refuse keys that ``cls``'s constructor does not name (classes taking ``**kwargs``
    are checked after construction, by :func:`check_params_kept`)."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):  # no introspectable signature: checked after construction
        return
    kinds = {p.kind for p in sig.parameters.values()}
    if inspect.Parameter.VAR_KEYWORD in kinds:
        return
    names = [
        p.name
        for p in sig.parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    for key in params:
        if key not in names:
            raise _unknown(where, "parameter", str(key), names)


def check_params_kept(obj: Any, params: Mapping[str, Any], where: str) -> None:
    """Refuse keys ``obj.get_params()`` does not return: ``clone`` would drop them."""
    kept = obj.get_params(deep=False)
    for key in params:
        if key not in kept:
            raise _unknown(where, "parameter", str(key), kept)


def check_param_values(obj: Any, where: str) -> None:
    """The estimator's own check of its constructor values (see the module docstring)."""
    validate = getattr(obj, "_validate_params", None)
    if not callable(validate):
        return
    try:
        validate()
    except AttributeError:  # sklearn's, on an estimator declaring no _parameter_constraints
        return
    except (TypeError, ValueError) as exc:  # sklearn's InvalidParameterError is both
        raise ConfigError(f"{where}: {_one_line(exc)}") from exc


def check_grid(pipeline: Any, grid: Mapping[str, list] | None, where: str) -> None:
    """Refuse ``param_grid`` keys the pipeline does not have and values that fail
    :func:`check_param_values` on the step they set."""
    if not grid:
        return
    params = pipeline.get_params(deep=True)
    for key, values in grid.items():
        if key not in params:
            raise _unknown(where, "param_grid key", str(key), [k for k in params if "__" in k])
        owner_key, name = str(key).rsplit("__", 1)
        owner = params[owner_key]
        for value in values:
            trial = clone(owner, safe=False)
            try:
                trial.set_params(**{name: value})
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{where}: param_grid {key}={value!r}: {_one_line(exc)}") from exc
            check_param_values(trial, f"{where}: param_grid {key}={value!r}")
