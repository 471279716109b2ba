"""Optional dependencies: which ``pip install neurodec[EXTRA]`` brings which package.

The core install (``pip install neurodec``) decodes with the Riemannian and
scikit-learn pipelines. Deep-learning pipelines, the Dask backend, online decoding
and BrainFlow boards need an extra; asking for one of them without it gives a
one-line :class:`~neurodec.errors.MissingExtraError` naming the extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from neurodec.errors import MissingExtraError

__all__ = ["EXTRA_OF_MODULE", "extra_for", "missing_extra_error", "require"]

#: top-level module name -> the neurodec extra that installs it
EXTRA_OF_MODULE: dict[str, str] = {
    "torch": "deep",
    "torchaudio": "deep",
    "braindecode": "deep",
    "skorch": "deep",
    "dask": "dask",
    "distributed": "dask",
    "mne_lsl": "online",
    "skops": "online",
    "brainflow": "brainflow",
}


def extra_for(module: str | None) -> str | None:
    """The extra that provides ``module`` (a dotted name is read by its top level)."""
    if not module:
        return None
    return EXTRA_OF_MODULE.get(module.split(".")[0])


def missing_extra_error(exc: ImportError, what: str) -> MissingExtraError | None:
    """A :class:`MissingExtraError` for ``exc`` when the missing module belongs to an extra.

    Parameters
    ----------
    exc : ImportError
        The error raised by the failed import.
    what : str
        What needed the module, for the message (``"the pipeline EEGNet"``).

    Returns
    -------
    MissingExtraError | None
        ``None`` when the missing module is not one of neurodec's optional packages.
    """
    name = exc.name or ""
    extra = extra_for(name)
    if extra is None:
        return None
    return MissingExtraError(
        f"{what} needs the optional package {name.split('.')[0]!r}: pip install 'neurodec[{extra}]'"
    )


def require(module: str, what: str) -> ModuleType:
    """Import ``module`` or raise a one-line :class:`MissingExtraError` naming its extra.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"torch"`` or ``"distributed"``.
    what : str
        What needs it, for the message.

    Returns
    -------
    module : ModuleType
        The imported module.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        err = missing_extra_error(exc, what)
        if err is None:
            raise
        raise err from exc
