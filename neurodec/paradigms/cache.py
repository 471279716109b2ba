"""On-disk epoch cache: one checksummed, atomically written entry per subject.

Layout under the cache folder (``neurodec.config.cache_dir()``, i.e. the
``cache_dir=`` argument, ``$NEURODEC_CACHE`` or ``~/.cache/neurodec``)::

    epochs/v<FORMAT>/<dataset code>-<dataset key>/<Paradigm>-<paradigm key>/
        key.json                     what the two keys stand for (for humans)
        sub-001/X.npy                float64 (n_epochs, n_channels, n_times)
        sub-001/y.npy                labels (fixed-width unicode, no pickle)
        sub-001/manifest.json        shapes, dtypes, byte sizes, CRC-32 of each
                                     array, and the metadata table (session/run
                                     of each block of epochs)

The dataset key hashes the dataset's class, ``code`` and ``fingerprint()`` (or,
for datasets without one, their simple attributes); the paradigm key hashes the
paradigm class, its ``get_params()`` and the processing version. An entry is
written in a temporary folder next to its final place and moved there with one
``os.replace``, so readers see a whole entry or none. On read, a missing
manifest, a size/shape/dtype mismatch, an unreadable (truncated) file or a bad
checksum marks the entry corrupt: it is logged, removed, and rebuilt.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurodec.config import cache_dir as _cache_dir

__all__ = [
    "CACHE_FORMAT_VERSION",
    "SubjectEpochs",
    "EpochCache",
    "dataset_identity",
    "paradigm_identity",
    "run_metadata",
]

log = logging.getLogger(__name__)

#: Version of the on-disk layout; bump it when the files change.
CACHE_FORMAT_VERSION = 1

_SIMPLE = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class _CachedArray:
    """Where a validated array lives in a cache entry (read on demand)."""

    path: Path
    offset: int
    shape: tuple[int, ...]
    dtype: str
    crc32: int

    def read_into(self, out: np.ndarray) -> None:
        """Read the array straight into ``out`` (C-contiguous, right shape) and check its CRC."""
        if out.shape != self.shape or str(out.dtype) != self.dtype:
            raise ValueError(f"buffer {out.dtype}{out.shape} does not fit {self.dtype}{self.shape}")
        view = memoryview(out).cast("B")
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                got = fh.readinto(view)
        except OSError as exc:
            raise CorruptEntryError(f"{self.path.name} is unreadable: {exc}") from None
        if got != out.nbytes:
            raise CorruptEntryError(f"{self.path.name} is truncated ({got} of {out.nbytes} bytes)")
        if zlib.crc32(view) != self.crc32:
            raise CorruptEntryError(f"{self.path.name} checksum mismatch")


@dataclass
class SubjectEpochs:
    """Epochs of one subject: what one cache entry holds.

    ``X`` is ``None`` while the array is still on disk (a validated cache entry
    read lazily by :meth:`read_X_into`, straight into the caller's buffer).
    ``runs`` lists consecutive ``[session, run, n_epochs]`` blocks.
    """

    subject: int
    X: np.ndarray | None
    y: np.ndarray
    runs: list[list]
    source: _CachedArray | None = None

    @classmethod
    def empty(cls, subject: int) -> SubjectEpochs:
        return cls(subject=int(subject), X=np.empty((0, 0, 0)), y=np.array([], dtype=str), runs=[])

    @property
    def n_epochs(self) -> int:
        return int(len(self.y))

    @property
    def epoch_shape(self) -> tuple[int, ...]:
        """``(n_channels, n_times)``."""
        return tuple(self.X.shape[1:]) if self.X is not None else tuple(self.source.shape[1:])

    def read_X_into(self, out: np.ndarray) -> None:
        """Copy (or read from the cache) ``X`` into ``out``; raises on a bad checksum."""
        if self.X is not None:
            out[...] = self.X
        else:
            self.source.read_into(out)

    def load_X(self) -> np.ndarray:
        """``X`` as an array (reads it from the cache if needed)."""
        if self.X is None:
            X = np.empty(self.source.shape, dtype=self.source.dtype)
            self.source.read_into(X)
            self.X = X
        return self.X

    @property
    def metadata(self) -> pd.DataFrame:
        """``subject``/``session``/``run`` of each epoch."""
        return metadata_from_blocks([(self.subject, s, r, n) for s, r, n in self.runs])


class CorruptEntryError(Exception):
    """Internal: a cache entry failed validation."""


def _simple(value: Any) -> bool:
    if isinstance(value, _SIMPLE):
        return True
    if isinstance(value, (list, tuple)):
        return all(_simple(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _simple(v) for k, v in value.items())
    return False


def dataset_identity(dataset: Any) -> dict[str, Any]:
    """What identifies a dataset's content in cache keys.

    Uses ``dataset.fingerprint()`` when the dataset has one (neurodec datasets);
    otherwise the class and the dataset's simple attributes (options such as
    ``imagined``, run lists, ``interval``, ``event_id``).
    """
    cls = type(dataset)
    ident: dict[str, Any] = {
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "code": getattr(dataset, "code", cls.__name__),
    }
    fingerprint = getattr(dataset, "fingerprint", None)
    if callable(fingerprint):
        ident["fingerprint"] = str(fingerprint())
    else:
        ident["params"] = {
            k: v for k, v in sorted(vars(dataset).items()) if not k.startswith("__") and _simple(v)
        }
    return ident


def paradigm_identity(paradigm: Any, processing_version: int) -> dict[str, Any]:
    """What identifies a paradigm's processing in cache keys."""
    params = {k: v for k, v in paradigm.get_params().items() if k not in ("cache", "cache_dir")}
    cls = type(paradigm)
    return {
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "params": params,
        "processing_version": processing_version,
    }


def _hash(obj: Any) -> str:
    blob = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _crc(array: np.ndarray) -> int:
    return zlib.crc32(memoryview(np.ascontiguousarray(array)).cast("B"))


def _remove_tree(path: Path) -> None:
    """Remove ``path`` by first renaming it aside, so no reader sees half of it."""
    if not path.exists():
        return
    trash = path.with_name(f".trash-{path.name}-{uuid.uuid4().hex[:8]}")
    try:
        os.replace(path, trash)
    except OSError:
        trash = path
    shutil.rmtree(trash, ignore_errors=True)


class EpochCache:
    """Per-subject epoch arrays for one (dataset, paradigm) pair.

    Parameters
    ----------
    folder : Path
        Folder of this (dataset, paradigm) pair; entries are ``sub-<n>`` inside.
    key : dict
        The identities the folder name was hashed from (checked on read).
    """

    def __init__(self, folder: Path, key: dict[str, Any]):
        self.folder = Path(folder)
        self.key = key

    @classmethod
    def for_paradigm(
        cls, paradigm: Any, dataset: Any, cache_dir: str | os.PathLike | None = None
    ) -> EpochCache:
        """The cache of ``paradigm`` applied to ``dataset``.

        ``cache_dir`` defaults to ``paradigm.cache_dir``, then
        :func:`neurodec.config.cache_dir`.
        """
        from neurodec.paradigms.raw_to_epochs import PROCESSING_VERSION

        root = _cache_dir(cache_dir or getattr(paradigm, "cache_dir", None))
        ds = dataset_identity(dataset)
        pa = paradigm_identity(paradigm, PROCESSING_VERSION)
        folder = (
            root
            / "epochs"
            / f"v{CACHE_FORMAT_VERSION}"
            / f"{ds['code']}-{_hash(ds)}"
            / f"{type(paradigm).__name__}-{_hash(pa)}"
        )
        return cls(folder, {"dataset": ds, "paradigm": pa})

    # -- paths -----------------------------------------------------------------
    def entry(self, subject: int) -> Path:
        """Folder of one subject's entry."""
        return self.folder / f"sub-{int(subject):03d}"

    # -- read -----------------------------------------------------------------------
    def load(self, subject: int, lazy: bool = False) -> SubjectEpochs | None:
        """The cached epochs of ``subject``, or ``None`` on a miss.

        A corrupt or partial entry (missing manifest, wrong sizes or shapes,
        unreadable or truncated file, bad checksum) is logged, removed and
        reported as a miss. With ``lazy=True`` everything but the bulk of ``X``
        is read and checked now; ``X`` is read (and its checksum checked) by
        :meth:`SubjectEpochs.read_X_into`, straight into the caller's buffer.
        """
        path = self.entry(subject)
        if not path.is_dir():
            return None
        try:
            result = self._read(path, subject)
            if not lazy:
                result.load_X()
            return result
        except CorruptEntryError as exc:
            self.discard(subject, str(exc))
            return None

    def discard(self, subject: int, reason: str) -> None:
        """Log and remove a bad entry (the next call rebuilds it)."""
        path = self.entry(subject)
        log.warning("epoch cache entry %s is corrupt (%s); it will be rebuilt", path, reason)
        _remove_tree(path)

    def _read(self, path: Path, subject: int) -> SubjectEpochs:
        manifest_path = path / "manifest.json"
        try:
            manifest = json.loads(manifest_path.read_text())
        except FileNotFoundError:
            raise CorruptEntryError("manifest.json is missing (interrupted write?)") from None
        except (OSError, ValueError) as exc:
            raise CorruptEntryError(f"manifest.json is unreadable: {exc}") from None
        try:
            if manifest.get("format_version") != CACHE_FORMAT_VERSION:
                raise CorruptEntryError(f"format version {manifest.get('format_version')}")
            if manifest.get("subject") != int(subject):
                raise CorruptEntryError(f"entry is for subject {manifest.get('subject')}")
            sources = {
                name: _locate(path / f"{name}.npy", manifest["files"][f"{name}.npy"]) for name in ("X", "y")
            }
            runs = [[str(a), str(b), int(n)] for a, b, n in manifest["runs"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptEntryError(f"manifest.json is incomplete: {exc!r}") from None
        ysrc = sources["y"]
        y = np.empty(ysrc.shape, dtype=ysrc.dtype)
        ysrc.read_into(y)
        if sources["X"].shape[:1] != y.shape or sum(n for _, _, n in runs) != len(y):
            raise CorruptEntryError("X, y and metadata disagree on the number of epochs")
        return SubjectEpochs(subject=int(subject), X=None, y=y, runs=runs, source=sources["X"])

    # -- write ------------------------------------------------------------------------
    def save(self, subject: int, epochs: SubjectEpochs) -> Path | None:
        """Write the entry of ``subject`` atomically (temp folder + ``os.replace``).

        If another process wrote the same entry first, its (valid) entry is kept.
        Returns the entry folder, or ``None`` when the cache could not be written
        (logged; the computation result is still returned to the caller).
        """
        final = self.entry(subject)
        tmp = final.with_name(f".tmp-{final.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._write_key()
            self._sweep_leftovers()
            tmp.mkdir()
            files = {}
            for name, arr in (("X", epochs.load_X()), ("y", epochs.y)):
                arr = np.ascontiguousarray(arr)
                file = tmp / f"{name}.npy"
                # No fsync: the CRC checked on every read catches a torn write
                # (e.g. after a power cut), which is then rebuilt.
                with open(file, "wb") as fh:
                    np.save(fh, arr, allow_pickle=False)
                files[f"{name}.npy"] = {
                    "shape": list(arr.shape),
                    "dtype": str(arr.dtype),
                    "bytes": file.stat().st_size,
                    "crc32": _crc(arr),
                }
            manifest = {
                "format_version": CACHE_FORMAT_VERSION,
                "subject": int(subject),
                "files": files,
                "runs": epochs.runs,
                "key": self.key,
            }
            (tmp / "manifest.json").write_text(json.dumps(manifest, default=str, indent=1))
            self._publish(tmp, final, subject)
            return final
        except OSError as exc:
            log.warning("could not write epoch cache entry %s: %s", final, exc)
            return None
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def _publish(self, tmp: Path, final: Path, subject: int) -> None:
        try:
            os.replace(tmp, final)
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.EISDIR):
                raise
        # Someone else published first: keep theirs if it is sound.
        if self.load(subject, lazy=True) is not None:
            log.debug("epoch cache entry %s already written by another process", final)
            return
        try:
            os.replace(tmp, final)
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.EISDIR):
                raise

    def _sweep_leftovers(self, older_than_s: float = 3600.0) -> None:
        """Remove temp/trash folders that crashed writers left behind (over an hour old)."""
        import time

        now = time.time()
        for path in self.folder.glob(".t*-sub-*"):
            try:
                if path.name.startswith((".tmp-", ".trash-")) and now - path.stat().st_mtime > older_than_s:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass

    def _write_key(self) -> None:
        key_file = self.folder / "key.json"
        if key_file.exists():
            return
        tmp = key_file.with_name(f".key-{uuid.uuid4().hex[:8]}.json")
        tmp.write_text(json.dumps(self.key, sort_keys=True, default=str, indent=1))
        os.replace(tmp, key_file)

    def clear(self) -> None:
        """Remove every entry of this (dataset, paradigm) pair."""
        _remove_tree(self.folder)


def _locate(file: Path, desc: dict) -> _CachedArray:
    """Check one ``.npy`` file against its manifest record (size, header)."""
    try:
        size = file.stat().st_size
    except FileNotFoundError:
        raise CorruptEntryError(f"{file.name} is missing") from None
    if size != desc["bytes"]:
        raise CorruptEntryError(f"{file.name} has {size} bytes, expected {desc['bytes']}")
    try:
        with open(file, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            offset = fh.tell()
    except (OSError, ValueError, EOFError) as exc:
        raise CorruptEntryError(f"{file.name} has an unreadable header: {exc}") from None
    if fortran or list(shape) != list(desc["shape"]) or str(dtype) != desc["dtype"]:
        raise CorruptEntryError(
            f"{file.name} is {dtype}{shape}, expected {desc['dtype']}{tuple(desc['shape'])}"
        )
    if offset + int(np.prod(shape)) * dtype.itemsize != size:
        raise CorruptEntryError(f"{file.name} size does not match its header")
    return _CachedArray(
        path=file, offset=offset, shape=tuple(shape), dtype=str(dtype), crc32=int(desc["crc32"])
    )


def run_metadata(subject: int, session: str, run: str, n: int) -> pd.DataFrame:
    """Metadata rows of ``n`` epochs of one run (MOABB's columns and dtypes)."""
    return metadata_from_blocks([(subject, session, run, n)])


def metadata_from_blocks(blocks: list[tuple[int, str, str, int]]) -> pd.DataFrame:
    """Metadata of consecutive ``(subject, session, run, n_epochs)`` blocks.

    Columns and dtypes are MOABB's: ``subject`` int64, ``session`` and ``run`` str.
    """
    counts = np.array([b[3] for b in blocks], dtype=np.int64)
    subjects = np.array([b[0] for b in blocks], dtype=np.int64)
    sessions = np.array([str(b[1]) for b in blocks], dtype=object)
    runs = np.array([str(b[2]) for b in blocks], dtype=object)
    return pd.DataFrame(
        {
            "subject": np.repeat(subjects, counts),
            "session": pd.array(np.repeat(sessions, counts), dtype=str),
            "run": pd.array(np.repeat(runs, counts), dtype=str),
        }
    )
