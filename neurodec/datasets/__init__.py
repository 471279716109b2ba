"""Datasets by name: MOABB datasets read offline, the Muse P300 recordings, the simulator.

``list_datasets()`` gives the registered names (one per ``datasets/<name>.yml``),
``get_dataset(name, data_root=None, **options)`` creates one, ``dataset_table()``
summarises them with what is present under the data root. Every dataset is a
:class:`~neurodec.datasets.base.NeurodecDataset`, i.e. a MOABB ``BaseDataset``.

Names are resolved lazily so importing a subpackage (e.g. ``datasets.simulated``)
does not import the registry.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "list_datasets",
    "get_dataset",
    "get_descriptor",
    "dataset_table",
    "NeurodecDataset",
    "check_subjects",
]

_LAZY = {
    "list_datasets": "neurodec.datasets.registry",
    "get_dataset": "neurodec.datasets.registry",
    "get_descriptor": "neurodec.datasets.registry",
    "dataset_table": "neurodec.datasets.registry",
    "NeurodecDataset": "neurodec.datasets.base",
    "check_subjects": "neurodec.datasets.base",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'neurodec.datasets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
