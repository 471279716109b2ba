"""The dataset registry: names -> dataset objects, built from the descriptors in ``datasets/``.

Every name the registry knows comes from a descriptor file; the descriptor's
``class`` (``"module:Class"``) is imported only when the dataset is asked for, so
listing datasets stays cheap and a dataset whose module is missing does not break
the others.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd

from neurodec.config import data_root as _resolve_data_root
from neurodec.config import descriptors_dir
from neurodec.datasets.base import NeurodecDataset
from neurodec.datasets.descriptors import DatasetDescriptor, load_descriptors
from neurodec.errors import (
    ConfigError,
    DataNotFoundError,
    InvalidInputError,
    NeurodecError,
    UnknownNameError,
)

__all__ = ["list_datasets", "get_dataset", "get_descriptor", "dataset_class", "dataset_table"]

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def _descriptors(folder: str) -> dict[str, DatasetDescriptor]:
    return load_descriptors(folder)


def _all() -> dict[str, DatasetDescriptor]:
    return _descriptors(str(descriptors_dir()))


def list_datasets() -> list[str]:
    """Names of every registered dataset, sorted.

    Returns
    -------
    list of str
        Names accepted by :func:`get_dataset` (one per ``datasets/<name>.yml``).
    """
    return list(_all())


def get_descriptor(name: str) -> DatasetDescriptor:
    """The descriptor of dataset ``name`` (registry name or MOABB code).

    Raises
    ------
    UnknownNameError
        ``name`` is not registered; the message lists the known names.
    """
    found = _all()
    if name in found:
        return found[name]
    for desc in found.values():
        if name == desc.code:
            return desc
    lowered = {n.lower(): n for n in found}
    if isinstance(name, str) and name.lower() in lowered:
        return found[lowered[name.lower()]]
    close = difflib.get_close_matches(str(name), list(found), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownNameError(
        f"unknown dataset {name!r}.{hint} Known datasets: {', '.join(found)}. "
        f"Descriptors are read from {descriptors_dir()}."
    )


def dataset_class(name: str) -> type:
    """Import and return the class that reads dataset ``name``."""
    desc = get_descriptor(name)
    module_name, _, attr = desc.cls.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"dataset {desc.name}: its class module {module_name!r} (descriptor {desc.path}) "
            f"cannot be imported: {exc}"
        ) from exc
    try:
        return getattr(module, attr)
    except AttributeError as exc:
        raise ConfigError(
            f"dataset {desc.name}: {module_name} has no class {attr!r} (descriptor {desc.path})"
        ) from exc


def get_dataset(name: str, data_root: str | os.PathLike | None = None, **options: Any) -> NeurodecDataset:
    """Create dataset ``name``, reading from ``<data_root>/<name>``.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets` (MOABB's code is accepted too).
    data_root : path-like, optional
        Folder holding one subfolder per dataset; default
        :func:`neurodec.config.data_root` (``$NEURODEC_DATA`` or ``../shared/data``).
        Ignored by generated datasets whose class takes no ``data_root``.
    **options
        Passed to the dataset class (e.g. ``subjects=[1, 2]``, or the simulator's
        options for ``SimulatedMI``).

    Returns
    -------
    NeurodecDataset
        A MOABB ``BaseDataset`` subclass; nothing is read until ``get_data``.

    Raises
    ------
    UnknownNameError
        Unknown name (the message lists the known ones).
    InvalidInputError
        An option the dataset class does not accept.
    """
    desc = get_descriptor(name)
    cls = dataset_class(desc.name)
    params = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = dict(options)
    if "data_root" in params:
        kwargs["data_root"] = _resolve_data_root(data_root)
    elif data_root is not None:
        logger.info("%s is generated; data_root=%s is not used", desc.name, data_root)
    if not takes_any:
        accepted = [p for p in params if p not in ("self", "data_root")]
        bad = sorted(set(options) - set(accepted))
        if bad:
            raise InvalidInputError(f"{desc.name}: unknown option(s) {bad}; this dataset accepts {accepted}")
    try:
        return cls(**kwargs)
    except NeurodecError:
        raise
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{desc.name}: invalid option(s) {options}: {exc}") from exc


def _local_status(desc: DatasetDescriptor, root: Path, root_ok: bool) -> str:
    try:
        dataset = get_dataset(desc.name, data_root=root)
    except NeurodecError as exc:
        logger.debug("cannot create %s: %s", desc.name, exc)
        return "unavailable"
    if getattr(dataset, "data_root", None) is None:
        return "generated"
    if not root_ok or not Path(dataset.data_root).is_dir():
        return f"0/{len(dataset.subject_list)} subjects"
    local = getattr(dataset, "local_subjects", None)
    if local is None:
        n = sum(all(Path(p).is_file() for p in dataset.expected_files(s)) for s in dataset.subject_list)
    else:
        n = len(local())
    return f"{n}/{len(dataset.subject_list)} subjects"


def dataset_table(data_root: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per registered dataset, with what is on disk under the data root.

    Parameters
    ----------
    data_root : path-like, optional
        Default :func:`neurodec.config.data_root`. An explicit folder that does not
        exist raises :class:`DataNotFoundError`; a missing default root shows every
        dataset as absent.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, code, paradigm, subjects, sessions, sfreq, channels, events,
        local`` (``local`` reads e.g. ``"20/109 subjects"`` or ``"generated"``).
    """
    root = _resolve_data_root(data_root)
    root_ok = root.is_dir()
    if data_root is not None and not root_ok:
        raise DataNotFoundError(
            f"data root {root} does not exist or is not a folder. Pass the folder that holds "
            "one subfolder per dataset (e.g. ../shared/data), or set NEURODEC_DATA."
        )
    rows = []
    for desc in _all().values():
        rows.append(
            {
                "name": desc.name,
                "code": desc.code,
                "paradigm": desc.paradigm,
                "subjects": len(desc.subjects),
                "sessions": desc.sessions_summary,
                "sfreq": desc.sampling_rate,
                "channels": desc.n_channels if desc.n_channels is not None else "varies",
                "events": ", ".join(desc.events),
                "local": _local_status(desc, root, root_ok),
            }
        )
    return pd.DataFrame(rows)
