"""Where neurodec finds data, descriptors and its cache (paths only, no I/O beyond checks)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["data_root", "cache_dir", "descriptors_dir", "pipelines_dir", "REPO_ROOT"]

#: The repository root when running from a checkout (``neurodec/..``).
REPO_ROOT = Path(__file__).resolve().parent.parent


def data_root(path: str | os.PathLike | None = None) -> Path:
    """Resolve the data root: the argument, else ``$NEURODEC_DATA``, else ``../shared/data``.

    The default is relative to the repository (``<repo>/../shared/data``). The folder
    holds one subfolder per dataset, named as in the registry.
    """
    if path is not None:
        return Path(path).expanduser().resolve()
    env = os.environ.get("NEURODEC_DATA")
    if env:
        return Path(env).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "data").resolve()


def cache_dir(path: str | os.PathLike | None = None) -> Path:
    """Resolve the epoch-cache folder: the argument, else ``$NEURODEC_CACHE``, else
    ``~/.cache/neurodec``."""
    if path is not None:
        return Path(path).expanduser().resolve()
    env = os.environ.get("NEURODEC_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    return Path.home() / ".cache" / "neurodec"


def _bundled_or_repo(bundled: str, repo: str) -> Path:
    inside = Path(__file__).resolve().parent / bundled
    return inside if inside.is_dir() else REPO_ROOT / repo


def descriptors_dir() -> Path:
    """Folder of dataset descriptor YAML files (``datasets/`` in a checkout)."""
    return _bundled_or_repo("_descriptors", "datasets")


def pipelines_dir() -> Path:
    """Folder of the ready pipeline YAML files (``pipelines/`` in a checkout)."""
    return _bundled_or_repo("_pipelines", "pipelines")
