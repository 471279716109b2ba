"""Any MOABB dataset class read offline from MOABB's download layout, by name.

MOABB stores a dataset's files where its downloader puts them:
``<MNE data folder>/MNE-<sign>-data/<path from the URL>`` (``data_dl``; Zenodo files
under ``zenodo/<record>/``). neurodec reads them with the MOABB class itself, offline:

* the data folder is ``<data_root>/<ClassName>`` (neurodec's layout, one subfolder per
  dataset) or ``<data_root>`` itself when it is an MNE data folder (it holds
  ``MNE-*-data`` folders, like a MOABB user's ``~/mne_data``). Without an explicit data
  root, the folder given by MNE's config (``MNE_DATA``) and ``~/mne_data`` are tried
  after neurodec's default root, the first holding the dataset's files winning;
* while MOABB reads, ``MNE_DATA`` and every ``MNE_DATASETS_*_PATH`` point at that folder,
  the download provider is ``upstream`` (no NEMAR), sockets and DNS from the reading
  thread raise (:func:`neurodec.datasets.moabb_offline.offline_moabb`), and MOABB's
  ``data_dl`` / ``data_path`` return a file only when it is on disk: a missing file
  raises :class:`~neurodec.errors.DataNotFoundError` naming its path and its URL;
* :meth:`GenericOfflineDataset.expected_files` asks the dataset's own ``data_path``
  which files it needs, in a *planning* mode where the downloaders only record their
  destination (nothing is fetched or checked) and folder creation is a no-op on the
  planning thread, so ``neurodec datasets`` counts the subjects present and a missing
  file is named before anything is read, without touching the data folder.

Datasets whose loaders use other download channels (Figshare or OSF listings, NEMAR,
archives fetched and unpacked by custom code) still read offline when their files are
in place, but their expected files cannot be planned: a missing file then surfaces as
the network guard's error. :func:`moabb_dataset_classes` lists every MOABB dataset
class; :func:`offline_class` builds (once) the offline class of one.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from neurodec.datasets.base import NeurodecDataset, check_subjects
from neurodec.errors import DataNotFoundError, NeurodecError, UnknownNameError

__all__ = [
    "GenericOfflineDataset",
    "moabb_dataset_classes",
    "offline_class",
    "dataset_folder",
    "locate_dataset_folder",
    "is_mne_data_folder",
    "offline_reading",
]

logger = logging.getLogger(__name__)

#: MOABB classes that are not datasets one reads by name
_EXCLUDED = ("FakeDataset", "FakeVirtualRealityDataset", "BaseDataset", "CompoundDataset")

_state = threading.local()
_patch_lock = threading.Lock()
_patch_users = 0
_originals: dict[str, Any] = {}


# --------------------------------------------------------------------------- folders
def is_mne_data_folder(folder: Path) -> bool:
    """Whether ``folder`` holds MNE/MOABB download folders (``MNE-<sign>-data``...)."""
    try:
        return any(p.is_dir() and p.name.startswith("MNE-") for p in Path(folder).iterdir())
    except OSError:
        return False


def dataset_folder(root: Path, name: str) -> Path:
    """``<root>/<name>`` when present (or when ``root`` is no MNE data folder), else ``root``."""
    root = Path(root)
    sub = root / name
    if sub.is_dir() or not is_mne_data_folder(root):
        return sub
    return root


def locate_dataset_folder(
    data_root: str | os.PathLike | None, name: str, has_files: Callable[[Path], bool]
) -> Path:
    """The folder of dataset ``name``: :func:`dataset_folder` of the data root; without an
    explicit root (argument or ``NEURODEC_DATA``), the first of neurodec's default root,
    MNE's ``MNE_DATA`` and ``~/mne_data`` where ``has_files(folder)`` holds."""
    folders = [dataset_folder(r, name) for r in _candidate_roots(data_root)]
    return next((f for f in folders if has_files(f)), folders[0])


def _candidate_roots(data_root: str | os.PathLike | None) -> list[Path]:
    from neurodec.config import data_root as resolve

    roots = [resolve(data_root)]
    if data_root is None and not os.environ.get("NEURODEC_DATA"):
        import mne

        mne_data = mne.get_config("MNE_DATA")
        for extra in (mne_data, Path.home() / "mne_data"):
            if extra and Path(extra).expanduser().is_dir() and Path(extra).expanduser() not in roots:
                roots.append(Path(extra).expanduser())
    return roots


# --------------------------------------------------------------------------- download patches
def _mode() -> str | None:
    return getattr(_state, "mode", None)


def _dl():
    from moabb.datasets import download

    return download


def _data_dl_destination(url: str, sign: str, path: Any, fname: str | None) -> tuple[Path, Path | None]:
    dl = _dl()
    root = Path(dl.get_dataset_path(sign, path)) / f"MNE-{sign.lower()}-data"
    if fname is not None:
        return dl._sanitize_path(root / fname), None
    from mne.utils import _url_to_local_path

    legacy = dl._sanitize_path(Path(_url_to_local_path(url, root)))
    return dl._sanitize_path(dl._normalize_destination(url, root)), legacy


def _missing(path: Path, url: str) -> DataNotFoundError:
    code = getattr(_state, "code", "the dataset")
    return DataNotFoundError(
        f"{code}: missing file {path} (MOABB downloads it from {url}). Put the file there, in "
        "MOABB's download layout; nothing is downloaded in offline mode."
    )


def _offline_data_dl(url, sign, path=None, force_update=False, verbose=None, fname=None):
    mode = _mode()
    if mode is None:
        return _originals["data_dl"](url, sign, path, force_update, verbose, fname)
    destination, legacy = _data_dl_destination(url, sign, path, fname)
    if mode == "plan":
        found = (
            legacy if legacy is not None and legacy.is_file() and not destination.is_file() else destination
        )
        _state.planned.append(found)
        return str(found)
    for candidate in (destination, legacy):
        if candidate is not None and candidate.is_file():
            return str(candidate)
    raise _missing(destination, url)


def _offline_data_path(url, sign, path=None, force_update=False, update_path=True, verbose=None):
    mode = _mode()
    if mode is None:
        return _originals["data_path"](url, sign, path, force_update, update_path, verbose)
    from mne.utils import _url_to_local_path
    from pooch.utils import unique_file_name

    dl = _dl()
    folder = Path(dl.get_dataset_path(sign, path)) / f"MNE-{sign.lower()}-data"
    destination = Path(_url_to_local_path(url, str(folder)))
    wrapped = destination / unique_file_name(url)  # where MOABB's retrieve() stores it
    present = destination if destination.is_file() else wrapped if wrapped.is_file() else None
    if mode == "plan":
        _state.planned.append(present or destination)
        return str(destination)
    if present is None:
        raise _missing(destination, url)
    return _originals["data_path"](url, sign, path, False, update_path, verbose)


def _no_mkdir(name: str):
    """``os.makedirs`` / ``os.mkdir`` / ``Path.mkdir`` that do nothing while planning
    (a loader asked what it needs must not create folders in the user's data folder)."""
    original = _originals[name]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _mode() == "plan":
            return None
        return original(*args, **kwargs)

    wrapper.__name__ = getattr(original, "__name__", name)
    wrapper.__doc__ = getattr(original, "__doc__", None)
    return wrapper


def _install_patches() -> None:
    global _patch_users
    with _patch_lock:
        if _patch_users == 0:
            dl = _dl()
            _originals.update(
                data_dl=dl.data_dl,
                data_path=dl.data_path,
                makedirs=os.makedirs,
                mkdir=os.mkdir,
                path_mkdir=Path.mkdir,
            )
            dl.data_dl = _offline_data_dl
            dl.data_path = _offline_data_path
            os.makedirs = _no_mkdir("makedirs")
            os.mkdir = _no_mkdir("mkdir")
            Path.mkdir = _no_mkdir("path_mkdir")  # type: ignore[method-assign]
        _patch_users += 1


def _remove_patches() -> None:
    global _patch_users
    with _patch_lock:
        _patch_users -= 1
        if _patch_users == 0:
            dl = _dl()
            dl.data_dl = _originals["data_dl"]
            dl.data_path = _originals["data_path"]
            os.makedirs = _originals["makedirs"]
            os.mkdir = _originals["mkdir"]
            Path.mkdir = _originals["path_mkdir"]  # type: ignore[method-assign]


@contextlib.contextmanager
def offline_reading(folder: Path, code: str, mode: str = "read") -> Iterator[list[Path]]:
    """Let a MOABB dataset read ``folder`` offline (see the module docstring).

    Parameters
    ----------
    folder : Path
        The MNE data folder holding the dataset's ``MNE-<sign>-data``.
    code : str
        Dataset code, for messages.
    mode : {"read", "plan"}
        ``"plan"``: downloaders record their destination and return it, checking nothing.

    Yields
    ------
    list of Path
        The destinations recorded in ``"plan"`` mode.
    """
    import mne

    from neurodec.datasets.moabb_offline import offline_moabb

    keys = [
        k for k in {**mne.get_config(), **os.environ} if k.startswith("MNE_DATASETS_") and k.endswith("_PATH")
    ]
    env = {"MNE_DATA": str(folder), **dict.fromkeys(keys, str(folder))}
    saved = {k: os.environ.get(k) for k in env}
    previous = (_mode(), getattr(_state, "planned", None), getattr(_state, "code", None))
    planned: list[Path] = []
    os.environ.update(env)
    _install_patches()
    _state.mode, _state.planned, _state.code = mode, planned, code
    try:
        with offline_moabb(Path(folder), "NEURODEC_UNUSED"):
            yield planned
    finally:
        _state.mode, _state.planned, _state.code = previous
        _remove_patches()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _quiet_moabb() -> Iterator[None]:
    """Hide what MOABB's loaders log and print while they are only asked for their files
    (their download attempts fail against the network guard, on purpose)."""
    logger_ = logging.getLogger("moabb")
    level = logger_.level
    logger_.setLevel(logging.CRITICAL)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger_.setLevel(level)


# --------------------------------------------------------------------------- the dataset class
class GenericOfflineDataset(NeurodecDataset):
    """What neurodec adds to any MOABB dataset class to read it offline (a mixin placed first).

    Parameters
    ----------
    data_root : path-like, optional
        A folder with one subfolder per dataset, or an MNE data folder (``~/mne_data``).
    **kwargs
        Passed to the MOABB class.
    """

    #: registry name (the MOABB class name) and folder under a neurodec data root
    name: ClassVar[str] = ""
    #: the MOABB class this one reads with
    moabb_class: ClassVar[type]
    #: never use MOABB's NEMAR mirror
    nemar_id = None

    def __init__(self, data_root: str | os.PathLike | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.nemar_id = None
        self.data_root = locate_dataset_folder(data_root, self.name, self._has_files)

    def _has_files(self, folder: Path) -> bool:
        """Whether ``folder`` holds the download folder of this dataset (planned on its
        first subject; cheap: nothing is read)."""
        if not folder.is_dir():
            return False
        try:
            planned = self._plan(folder, self.subject_list[0])
        except NeurodecError:
            return False
        tops = {folder / p.relative_to(folder).parts[0] for p in planned if p.is_relative_to(folder)}
        return any(t.exists() for t in tops)

    # -- planning --------------------------------------------------------------
    def _plan(self, folder: Path, subject: int) -> list[Path]:
        with offline_reading(folder, self.code, mode="plan") as planned, _quiet_moabb():
            try:
                self.moabb_class.data_path(self, subject)
            except NeurodecError:
                pass  # the network guard: a loader that lists files online
            except Exception as exc:  # noqa: BLE001 - a loader working on files it did not get
                logger.debug(
                    "%s: planning subject %s stopped at %s: %s", self.code, subject, type(exc).__name__, exc
                )
        return list(dict.fromkeys(planned))

    def expected_files(self, subject: int) -> list[Path]:
        """The files MOABB's ``data_path`` fetches for ``subject`` (planned, not fetched).

        Raises
        ------
        DataNotFoundError
            The dataset folder does not exist.
        """
        check_subjects(self, [subject])
        folder = Path(self.data_root)
        if not folder.is_dir():
            raise DataNotFoundError(
                f"{self.code}: no dataset folder {folder}. Put MOABB's download layout there "
                f"(MNE-<sign>-data/...), or pass an MNE data folder that holds it (e.g. ~/mne_data) as "
                "data_root / --data-root. Nothing is downloaded in offline mode."
            )
        return self._plan(folder, subject)

    def local_subjects(self) -> list[int]:
        """Subjects whose planned files are all on disk (none when nothing can be planned)."""
        if not Path(self.data_root).is_dir():
            return []
        out = []
        for s in self.subject_list:
            files = self.expected_files(s)
            if files and all(p.is_file() for p in files):
                out.append(s)
        return out

    # -- reading ---------------------------------------------------------------
    def data_path(self, subject, path=None, force_update=False, update_path=None, verbose=None):
        """MOABB's ``data_path`` on local files only (a missing file raises, naming it)."""
        check_subjects(self, [subject])
        with offline_reading(Path(self.data_root), self.code):
            return self.moabb_class.data_path(self, subject, path, False, update_path, verbose)

    def _get_single_subject_data(self, subject: int) -> dict:
        self.check_local(subject)
        with offline_reading(Path(self.data_root), self.code):
            return self.moabb_class._get_single_subject_data(self, subject)

    def fingerprint_params(self) -> dict[str, Any]:
        cls = self.moabb_class
        return {"name": self.name, "moabb_class": f"{cls.__module__}.{cls.__qualname__}"}


def moabb_dataset_classes() -> dict[str, type]:
    """MOABB's dataset classes by class name (deprecated aliases, fakes and bases left out)."""
    from moabb.datasets.base import BaseDataset
    from moabb.datasets.utils import _init_dataset, dataset_dict

    if not dataset_dict:
        _init_dataset()
    out = {}
    for name, cls in sorted(dataset_dict.items()):
        if name in _EXCLUDED or inspect.isabstract(cls) or not issubclass(cls, BaseDataset):
            continue
        if any(b.__name__ == "CompoundDataset" for b in cls.__mro__):
            continue
        out[name] = cls
    return out


@functools.cache
def _offline_class(moabb_cls: type) -> type:
    name = moabb_cls.__name__
    cls = type(
        name,
        (GenericOfflineDataset, moabb_cls),
        {
            "__module__": __name__,
            "__qualname__": name,
            "__doc__": f"MOABB's ``{name}`` read offline from its download layout "
            f"(:mod:`neurodec.datasets.moabb_generic`).\n\n{moabb_cls.__doc__ or ''}",
            "name": name,
            "moabb_class": moabb_cls,
        },
    )
    setattr(sys.modules[__name__], name, cls)  # importable by name, so it pickles by reference
    return cls


def offline_class(name: str) -> type:
    """The offline class of MOABB dataset ``name`` (its class name, case-insensitive).

    Raises
    ------
    UnknownNameError
        No MOABB dataset has that name.
    """
    classes = moabb_dataset_classes()
    if name in classes:
        return _offline_class(classes[name])
    lowered = {k.lower(): k for k in classes}
    if str(name).lower() in lowered:
        return _offline_class(classes[lowered[str(name).lower()]])
    raise UnknownNameError(f"no MOABB dataset class named {name!r}")
