"""What a pipeline file may import: estimator classes from allowed or trusted modules.

Pipeline folders are shared between labs, and a YAML step is ``{name, from, parameters}``:
without a check, ``{name: system, from: os, parameters: {command: ...}}`` would run a
command while the pipeline is built. So:

* a module (``from``) must lie in :data:`ALLOWED_MODULES` or in a module the user trusts
  explicitly (``--trust-module NAME`` on the command line, ``trust_modules=[NAME]`` in
  Python); this is checked on the *name*, before anything is imported;
* the object (``name``) must be a public class defined in such a module, and a
  scikit-learn estimator (``fit`` and ``get_params``); functions, builtins and other
  classes are refused;
* the classes given to MOABB's ``optimizer`` and ``callbacks`` parameters (braindecode /
  skorch training options) may also come from :data:`ROLE_MODULES` and must derive from
  torch's ``Optimizer`` or skorch's ``Callback``.

Every refusal is a one-line :class:`~neurodec.errors.ConfigError` naming the file, the
pipeline, the step and what to do.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Iterable

from neurodec.errors import ConfigError, InvalidInputError, MissingExtraError
from neurodec.extras import missing_extra_error

__all__ = ["ALLOWED_MODULES", "ROLE_MODULES", "check_trust_names", "check_entry", "import_class"]

#: Top-level packages whose estimator classes pipeline files may name without trusting them.
ALLOWED_MODULES: tuple[str, ...] = (
    "sklearn",
    "pyriemann",
    "neurodec",
    "mne",
    "braindecode",
    "moabb",
    "scipy",
)

#: Extra modules for the classes of MOABB's ``optimizer``/``callbacks`` parameters, and
#: the (module, class) they must derive from.
ROLE_MODULES: dict[str, tuple[tuple[str, ...], tuple[str, str]]] = {
    "optimizer": (("torch.optim",), ("torch.optim", "Optimizer")),
    "callbacks": (("skorch.callbacks",), ("skorch.callbacks", "Callback")),
}

_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_PUBLIC = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def check_trust_names(names: Iterable[str] | None) -> tuple[str, ...]:
    """The module names a user trusts, checked to be dotted Python names."""
    if names is None:
        return ()
    if isinstance(names, str):
        names = [names]
    out = []
    for n in names:
        if not isinstance(n, str) or not _MODULE.match(n):
            raise InvalidInputError(
                f"trusted module {n!r} is not a module name; pass e.g. --trust-module mylab_models"
            )
        out.append(n)
    return tuple(out)


def _within(module: str, prefixes: Iterable[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _prefixes(trusted: Iterable[str], role: str) -> tuple[str, ...]:
    extra = ROLE_MODULES[role][0] if role in ROLE_MODULES else ()
    return (*ALLOWED_MODULES, *extra, *trusted)


def check_entry(module: str, name: str, trusted: Iterable[str], where: str, role: str = "estimator") -> None:
    """Refuse ``module`` unless it is allowed or trusted, and ``name`` unless it is a public
    name (on the names only: nothing is imported).

    Parameters
    ----------
    module, name : str
        The entry's ``from`` and ``name``.
    trusted : iterable of str
        Modules the user trusts (their submodules too).
    where : str
        ``"<file>: pipeline '<name>': pipeline[<i>]..."``, the start of the message.
    role : {"estimator", "optimizer", "callbacks"}
        What the class is for (see :data:`ROLE_MODULES`).
    """
    if not isinstance(module, str) or not _MODULE.match(module):
        raise ConfigError(f"{where}: {module!r} is not a module name; fix 'from'")
    if not _within(module, _prefixes(trusted, role)):
        top = module.split(".")[0]
        extra = f"; for {role}: {', '.join(ROLE_MODULES[role][0])}" if role in ROLE_MODULES else ""
        raise ConfigError(
            f"{where}: module {module!r} is not allowed in pipeline files (allowed: "
            f"{', '.join(ALLOWED_MODULES)}{extra}); if you trust it, pass --trust-module {top} "
            f"(Python: trust_modules=[{top!r}])"
        )
    if not isinstance(name, str) or not _PUBLIC.match(name):
        raise ConfigError(f"{where}: {name!r} is not a public class name; fix 'name'")


def _kind(obj: object) -> str:
    if inspect.isroutine(obj):
        return "function"
    if inspect.ismodule(obj):
        return "module"
    return f"{type(obj).__name__} value"


def _check_class(obj: object, module: str, name: str, trusted: Iterable[str], where: str, role: str) -> type:
    if not isinstance(obj, type):
        raise ConfigError(
            f"{where}: {name!r} is a {_kind(obj)}, not a class; pipeline files name scikit-learn "
            "estimator classes only"
        )
    home = getattr(obj, "__module__", "") or ""
    if not _within(home, _prefixes(trusted, role)):
        top = home.split(".")[0]
        raise ConfigError(
            f"{where}: {module}.{name} is defined in module {home!r}, which is not allowed; if you "
            f"trust it, pass --trust-module {top}"
        )
    if role in ROLE_MODULES:
        base_module, base_name = ROLE_MODULES[role][1]
        base = getattr(sys.modules.get(base_module), base_name, None)  # loaded iff obj can derive from it
        if base is None or not issubclass(obj, base):
            raise ConfigError(f"{where}: {module}.{name} is not a {base_module}.{base_name} class")
        return obj
    if not (callable(getattr(obj, "fit", None)) and callable(getattr(obj, "get_params", None))):
        raise ConfigError(
            f"{where}: {module}.{name} is not a scikit-learn estimator (a class with fit and get_params)"
        )
    return obj


def import_class(module: str, name: str, trusted: Iterable[str], where: str, role: str = "estimator") -> type:
    """The class ``module.name``, after :func:`check_entry`, checked to be an estimator
    class (or, for ``role`` ``"optimizer"``/``"callbacks"``, a torch optimizer / skorch
    callback class).

    Raises
    ------
    ConfigError
        The module is not allowed or trusted, cannot be imported, lacks ``name``, or
        ``name`` is not a class of the expected kind.
    MissingExtraError
        The module needs one of neurodec's optional packages (its message names the extra).
    """
    trusted = tuple(trusted)
    check_entry(module, name, trusted, where, role)
    try:
        mod = importlib.import_module(module)
    except MissingExtraError as exc:  # a neurodec layer that needs an extra (neurodec.deep)
        raise MissingExtraError(f"{where}: {exc}") from exc
    except ImportError as exc:
        missing = missing_extra_error(exc, where)
        if missing is not None:  # an optional package (torch for braindecode): name its extra
            raise missing from exc
        raise ConfigError(
            f"{where}: cannot import module {module!r} ({exc}); install it or fix 'from'"
        ) from exc
    try:
        obj = getattr(mod, name)
    except AttributeError:
        raise ConfigError(f"{where}: module {module!r} has no {name!r}; fix 'name'") from None
    return _check_class(obj, module, name, trusted, where, role)
