"""Optional dependencies: the one place that checks they are installed.

neurodec's core (loaders, sensors, datasets, Riemannian decoders, evaluation) needs no
deep-learning framework. Parts that do (``neurodec.models``) call :func:`require` before
importing it, so a missing package gives one line saying which extra to install.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from neurodec.errors import MissingDependencyError

__all__ = ["require", "EXTRAS"]

#: Importable module -> the neurodec extra that installs it.
EXTRAS = {"torch": "deep"}


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise a one-line :class:`~neurodec.errors.MissingDependencyError`.

    Parameters
    ----------
    module : str
        The module to import (a key of :data:`EXTRAS`).
    feature : str
        What needs it, for the message (e.g. ``"neurodec.models"``).

    Returns
    -------
    module : ModuleType
    """
    extra = EXTRAS.get(module, module)
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a None entry in sys.modules, a broken install
        found = False
    if not found:
        raise MissingDependencyError(
            f"{feature} needs {module}, which is not installed: pip install neurodec[{extra}]"
        )
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{feature} needs {module}, which failed to import ({exc}): pip install neurodec[{extra}]"
        ) from exc
