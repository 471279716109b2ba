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
    "MissingExtraError",
    "InconsistentVersionWarning",
    "Terminated",
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


class MissingExtraError(NeurodecError, ImportError):
    """An optional dependency is not installed; the message names the extra
    (``pip install 'neurodec[deep]'``) that brings it."""


class InconsistentVersionWarning(UserWarning):
    """A neurodec estimator is unpickled under another neurodec version than the one that
    pickled it (scikit-learn's ``InconsistentVersionWarning`` for neurodec's own version).

    Parameters
    ----------
    estimator_name : str
    current_version : str
        The neurodec version loading the estimator.
    original_version : str
        The version that pickled it (``"unknown"`` for pickles that did not record it).
    """

    def __init__(self, *, estimator_name: str, current_version: str, original_version: str) -> None:
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version
        super().__init__(str(self))

    def __str__(self) -> str:
        return (
            f"unpickling {self.estimator_name} pickled by neurodec {self.original_version} with "
            f"neurodec {self.current_version}: it may fail or give different results; refit it "
            f"with this version (or load it with neurodec {self.original_version})"
        )


class Terminated(SystemExit):
    """The process was asked to stop (SIGTERM, SIGHUP) while neurodec was running.

    Raised in the main thread by :func:`neurodec.evaluation.procs.terminate_gracefully`,
    so cleanup runs as for Ctrl-C (workers stopped, temporary files removed, stored
    results kept). Uncaught, it ends the process with status ``128 + signum`` (143
    for SIGTERM) and no traceback, as the signal itself would have.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(128 + int(signum))
        self.signum = int(signum)

    def __str__(self) -> str:
        import signal

        try:
            name = signal.Signals(self.signum).name
        except ValueError:
            name = f"signal {self.signum}"
        return f"terminated by {name}"
