"""The exceptions neurodec raises at the boundary where user input is checked.

Every error says what was wrong and what to do about it. Each class also derives
from the closest built-in exception, so ``except FileNotFoundError`` or
``except ValueError`` in user code keeps working.
"""

from __future__ import annotations

__all__ = [
    "NeurodecError",
    "DataNotFoundError",
    "InvalidDataError",
    "InvalidInputError",
    "UnknownNameError",
    "MissingPositionsError",
    "ConfigError",
    "MissingDependencyError",
]


class NeurodecError(Exception):
    """Base class of every error neurodec raises on purpose."""


class DataNotFoundError(NeurodecError, FileNotFoundError):
    """A file or dataset folder that was asked for is not on disk.

    The message names the expected path(s) and how to provide them (the data
    root: ``data_root=`` argument or the ``NEURODEC_DATA`` environment variable).
    """


class InvalidDataError(NeurodecError, ValueError):
    """A file exists but its content cannot be used: truncated, corrupt, wrong
    format, NaN or flat channels, timestamps going backwards, missing columns."""


class InvalidInputError(NeurodecError, ValueError):
    """An argument has the wrong shape, type or value (arrays, subjects, options)."""


class UnknownNameError(NeurodecError, KeyError):
    """A name (dataset, paradigm, pipeline, estimator, evaluation) is not known.

    The message lists the names that are available.
    """

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class MissingPositionsError(NeurodecError, ValueError):
    """Channels have no sensor positions and none can be inferred from their names."""


class ConfigError(NeurodecError, ValueError):
    """A configuration file (pipeline YAML, dataset descriptor) is invalid."""


class MissingDependencyError(NeurodecError, ImportError):
    """An optional dependency is not installed; the message names the extra to install
    (e.g. ``pip install neurodec[deep]`` for torch)."""
