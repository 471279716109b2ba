"""neurodec: decode brain signals (EEG, MEG, iEEG).

Layers (each imports only from those above it)::

    errors -> io -> sensors -> datasets -> paradigms -> riemann / corpus -> models (torch)
           -> evaluation / online -> cli

See ``docs/architecture.md`` for the contracts between them.
"""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logger = logging.getLogger("neurodec")
logger.addHandler(logging.NullHandler())

__all__ = ["__version__", "set_log_level"]


def set_log_level(verbose: bool | str | int | None = None) -> None:
    """Set the level of neurodec's logger (and MNE's), as ``mne.set_log_level`` does.

    Parameters
    ----------
    verbose : bool | str | int | None
        ``True`` means ``"INFO"``, ``False`` means ``"WARNING"``; a string or int is
        passed to :mod:`logging`. ``None`` leaves the level unchanged.
    """
    if verbose is None:
        return
    if isinstance(verbose, bool):
        level: int | str = "INFO" if verbose else "WARNING"
    else:
        level = verbose.upper() if isinstance(verbose, str) else verbose
    logger.setLevel(level)
