"""The dataset registry: names -> dataset objects, built from the descriptors in ``datasets/``
(and, by class name, every other MOABB dataset: :mod:`neurodec.datasets.moabb_generic`).

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
        A name from :func:`list_datasets` (MOABB's code is accepted too), or the class
        name of any MOABB dataset (``AlexMI``, ``BNCI2015_001``...), read offline from
        MOABB's download layout (:mod:`neurodec.datasets.moabb_generic`).
    data_root : path-like, optional
        Folder holding one subfolder per dataset; default
        :func:`neurodec.config.data_root` (``$NEURODEC_DATA`` or ``../shared/data``).
        Ignored by generated datasets whose class takes no ``data_root``. MOABB datasets
        also accept an MNE data folder (``~/mne_data``, holding ``MNE-<sign>-data``).
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
    try:
        desc = get_descriptor(name)
    except UnknownNameError:
        cls = _moabb_offline_class(name)
        if cls is None:
            raise
        label = cls.name
    else:
        cls = dataset_class(desc.name)
        label = desc.name
    params = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs = dict(options)
    if getattr(cls, "moabb_class", None) is not None:  # any MOABB class: its own options
        params = inspect.signature(cls.moabb_class.__init__).parameters
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        kwargs["data_root"] = data_root  # None: neurodec's root, then MNE's data folder
    elif "data_root" in params:  # None: the class's default (neurodec's root, then MNE's data folder)
        kwargs["data_root"] = None if data_root is None else _resolve_data_root(data_root)
    elif data_root is not None:
        logger.info("%s is generated; data_root=%s is not used", label, data_root)
    if not takes_any:
        accepted = [p for p in params if p not in ("self", "data_root")]
        bad = sorted(set(options) - set(accepted))
        if bad:
            raise InvalidInputError(f"{label}: unknown option(s) {bad}; this dataset accepts {accepted}")
    try:
        return cls(**kwargs)
    except NeurodecError:
        raise
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"{label}: invalid option(s) {options}: {exc}") from exc


def _moabb_offline_class(name: str) -> type | None:
    """The offline class of MOABB dataset class ``name`` (``None`` if there is none)."""
    from neurodec.datasets.moabb_generic import offline_class

    try:
        return offline_class(name)
    except UnknownNameError:
        return None


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


def dataset_table(data_root: str | os.PathLike | None = None, moabb: str = "present") -> pd.DataFrame:
    """One row per registered dataset, with what is on disk under the data root.

    Parameters
    ----------
    data_root : path-like, optional
        Default :func:`neurodec.config.data_root`. An explicit folder that does not
        exist raises :class:`DataNotFoundError`; a missing default root shows every
        dataset as absent.
    moabb : {"present", "all", "none"}
        Which other MOABB dataset classes (read by
        :mod:`neurodec.datasets.moabb_generic`) get a row: those with files under the
        data root (``<root>/<ClassName>`` or the root as an MNE data folder), all of
        them, or none.

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
    if moabb not in ("present", "all", "none"):
        raise InvalidInputError(f"moabb must be 'present', 'all' or 'none', got {moabb!r}")
    if moabb != "none":
        rows += _moabb_rows(root if root_ok else None, {r["name"] for r in rows}, moabb == "all")
    return pd.DataFrame(rows)


def _moabb_rows(root: Path | None, known: set[str], everything: bool) -> list[dict]:
    from neurodec.datasets.moabb_generic import dataset_folder, moabb_dataset_classes, offline_class

    rows = []
    for name in moabb_dataset_classes():
        if name in known:
            continue
        folder = dataset_folder(root, name) if root is not None else None
        if not everything and (folder is None or not folder.is_dir()):
            continue
        try:
            ds = offline_class(name)(data_root=root)
        except Exception as exc:  # noqa: BLE001 - one odd MOABB class must not hide the others
            logger.debug("cannot create MOABB dataset %s: %s", name, exc)
            continue
        present = folder is not None and ds._has_files(folder)
        if not everything and not present:
            continue  # e.g. an MNE data folder without this dataset's download folder
        n = 0
        if present:
            try:
                n = len(ds.local_subjects())
            except NeurodecError:
                n = 0
        local = f"{n}/{len(ds.subject_list)} subjects"
        meta = getattr(ds, "METADATA", None)
        acq = getattr(meta, "acquisition", None)
        rows.append(
            {
                "name": name,
                "code": ds.code,
                "paradigm": ds.paradigm,
                "subjects": len(ds.subject_list),
                "sessions": str(ds.n_sessions),
                "sfreq": getattr(acq, "sampling_rate", None),
                "channels": len(getattr(acq, "sensors", None) or []) or "varies",
                "events": ", ".join(ds.event_id),
                "local": local,
            }
        )
    return rows
