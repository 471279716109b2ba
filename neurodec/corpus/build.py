"""``build_corpus``: preprocess sources once into a sharded, memory-mapped corpus folder.

Resumable: each finished job (a dataset subject, or a file) is recorded in
``jobs/<key>.json`` after its recordings are written, and every file is written
atomically, so a killed build restarts where it stopped and never leaves a half-written
shard in the manifest. Rebuilding into a folder made with other preprocessing options is
refused (pass ``overwrite=True`` to start over). Recordings that cannot be read or have no
usable channel are logged and listed as skipped, not retried. A job whose data changed
since it was added (a dataset's files, or the same subject reached through another
path) is built again and replaces the older version: the corpus never holds the same
recording twice.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from neurodec.atomic import atomic_write
from neurodec.corpus.preprocess import PreprocessOptions, modality_of, preprocess_raw, to_windows
from neurodec.corpus.reader import CORPUS_FORMAT, CORPUS_VERSION, Corpus
from neurodec.corpus.sources import Job, jobs_for
from neurodec.errors import ConfigError, InvalidInputError, NeurodecError

__all__ = ["build_corpus"]

logger = logging.getLogger(__name__)

_F16_MAX = float(np.finfo(np.float16).max)


def _write_json(path: Path, obj: Any) -> None:
    atomic_write(path, lambda p: p.write_text(json.dumps(obj, indent=1, default=_json_default)))


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    raise TypeError(type(obj).__name__)


def _header(options: PreprocessOptions) -> dict[str, Any]:
    return {
        "format": CORPUS_FORMAT,
        "version": CORPUS_VERSION,
        "options": options.to_dict(),
        "dtype": "float16",
    }


def _open_folder(out: Path, options: PreprocessOptions, overwrite: bool) -> None:
    header = _header(options)
    header_file = out / "corpus.json"
    if header_file.is_file():
        old = json.loads(header_file.read_text())
        if old != header:
            if not overwrite:
                diff = {
                    k: (old.get("options", {}).get(k), v)
                    for k, v in header["options"].items()
                    if old.get("options", {}).get(k) != v
                }
                raise ConfigError(
                    f"{out} holds a corpus built with other settings (format {old.get('format')!r} "
                    f"version {old.get('version')}, option changes {diff}); "
                    "use another folder or overwrite=True"
                )
            logger.warning("overwriting the corpus in %s", out)
            shutil.rmtree(out)
    elif out.exists() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError(f"{out} exists and is not a corpus folder; use an empty or new folder")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    if not header_file.is_file():
        _write_json(header_file, header)


def _write_recording(
    out: Path, rid: str, pre: Any, windows: np.ndarray, meta: dict[str, Any], shard_windows: int
) -> dict[str, Any]:
    folder = out / "recordings" / rid
    folder.mkdir(parents=True, exist_ok=True)
    shards = []
    stored = np.clip(windows, -_F16_MAX, _F16_MAX).astype(np.float16)
    for k, start in enumerate(range(0, len(stored), shard_windows)):
        rel = f"recordings/{rid}/windows-{k:03d}.npy"
        part = np.ascontiguousarray(stored[start : start + shard_windows])
        atomic_write(out / rel, lambda p, part=part: np.save(open(p, "wb"), part))
        shards.append({"file": rel, "n_windows": len(part)})
    sensors_rel = f"recordings/{rid}/sensors.parquet"
    atomic_write(out / sensors_rel, lambda p: pre.sensors.to_parquet(p, index=False))
    types = pre.sensors["type"].value_counts().to_dict()
    entry = {
        "id": rid,
        **meta,
        "modality": modality_of(pre.sensors["type"]),
        "channel_types": {str(k): int(v) for k, v in types.items()},
        "n_channels": int(windows.shape[1]),
        "n_windows": int(windows.shape[0]),
        "sfreq_in": pre.sfreq_in,
        "duration_s": pre.n_times_in / pre.sfreq_in,
        "shards": shards,
        "sensors": sensors_rel,
        "scales": [[None if not np.isfinite(v) else float(v) for v in row] for row in pre.scales],
    }
    _write_json(folder / "entry.json", entry)
    return entry


def _run_job(out: Path, job: Job, options: PreprocessOptions, shard_windows: int) -> dict[str, Any]:
    record: dict[str, Any] = {
        "key": job.key,
        "identity": job.identity,
        "description": job.description,
        "recordings": [],
        "skipped": [],
    }
    try:
        loaded = job.load()
    except NeurodecError as exc:
        logger.warning("skipping %s: %s", job.description, exc)
        record["skipped"].append({"what": job.description, "why": str(exc)})
        return record
    for info, raw in loaded:
        rid = info.recording_id(f"{job.key}|{info.session}|{info.run}")
        meta = {"source": info.source, "subject": info.subject, "session": info.session, "run": info.run}
        meta["path"] = info.path
        try:
            pre = preprocess_raw(raw, options)
        except NeurodecError as exc:
            logger.warning("skipping %s (%s): %s", rid, job.description, exc)
            record["skipped"].append({"what": rid, "why": str(exc)})
            continue
        windows = to_windows(pre.data, options.window_samples)
        if len(windows) == 0:
            why = f"shorter than one {options.window_s:g}-s window ({pre.n_times_in / pre.sfreq_in:.2f} s)"
            logger.warning("skipping %s: %s", rid, why)
            record["skipped"].append({"what": rid, "why": why})
            continue
        _write_recording(out, rid, pre, windows, meta, shard_windows)
        record["recordings"].append(rid)
    return record


def _drop_superseded(out: Path, current: dict[str, str]) -> None:
    """Delete the job records (and recordings) of an identity whose current key is another
    one that is already built. ``current``: identity -> key of this build's job."""
    records = {p.stem: json.loads(p.read_text()) for p in (out / "jobs").glob("*.json")}
    for key, record in records.items():
        newer = current.get(record.get("identity") or "")
        if newer is None or newer == key or newer not in records:
            continue
        logger.info(
            "%s changed since it was added to the corpus (its files, or the path it was read from): "
            "the older version's %d recording(s) are replaced",
            record["description"],
            len(record["recordings"]),
        )
        (out / "jobs" / f"{key}.json").unlink()
        for rid in record["recordings"]:
            shutil.rmtree(out / "recordings" / rid, ignore_errors=True)


def _write_manifest(out: Path) -> list[dict[str, Any]]:
    entries = []
    for job_file in sorted((out / "jobs").glob("*.json")):
        for rid in json.loads(job_file.read_text())["recordings"]:
            entries.append(json.loads((out / "recordings" / rid / "entry.json").read_text()))
    _write_json(
        out / "manifest.json", {"format": CORPUS_FORMAT, "version": CORPUS_VERSION, "recordings": entries}
    )
    return entries


def build_corpus(
    out: str | os.PathLike,
    sources: Iterable[Any] | Any,
    *,
    options: PreprocessOptions | None = None,
    data_root: str | os.PathLike | None = None,
    shard_windows: int = 512,
    overwrite: bool = False,
    progress: bool = True,
) -> Corpus:
    """Preprocess recordings from ``sources`` into a corpus folder (resumable).

    Parameters
    ----------
    out : path-like
        The corpus folder (created; an existing corpus with the same options is resumed
        and extended).
    sources : source or list of sources
        Dataset names or objects, paths (files, folders, BIDS roots) or dicts; see
        :mod:`neurodec.corpus.sources`.
    options : PreprocessOptions | None
        Preprocessing (default: 256 Hz, 0.1-96 Hz, notch, 2-s windows, common average).
    data_root : path-like | None
        Data root for dataset names.
    shard_windows : int
        Windows per ``.npy`` shard.
    overwrite : bool
        Delete a corpus built with other options (or any other content) in ``out``.
    progress : bool
        Show a progress bar (tqdm) over the jobs.

    Returns
    -------
    Corpus
    """
    if shard_windows < 1:
        raise InvalidInputError(f"shard_windows must be >= 1, got {shard_windows}")
    options = options or PreprocessOptions()
    out = Path(out).expanduser()
    if isinstance(sources, (str, os.PathLike, dict)) or hasattr(sources, "get_data"):
        sources = [sources]
    jobs: dict[str, Job] = {}
    for source in sources:  # resolve every source before writing anything
        for job in jobs_for(source, data_root=data_root):
            jobs.setdefault(job.key, job)
    _open_folder(out, options, overwrite)
    current = {job.identity: key for key, job in jobs.items()}
    _drop_superseded(out, current)  # a build killed after a new version was written
    done = {p.stem for p in (out / "jobs").glob("*.json")}
    todo = [job for key, job in jobs.items() if key not in done]
    logger.info("corpus %s: %d job(s), %d already done", out, len(jobs), len(jobs) - len(todo))
    bar = tqdm(todo, desc="corpus", unit="job", disable=not progress)
    n_windows = 0
    for job in bar:
        bar.set_postfix_str(job.description[-40:])
        record = _run_job(out, job, options, shard_windows)
        _write_json(out / "jobs" / f"{job.key}.json", record)
        _drop_superseded(out, current)
        entries = _write_manifest(out)
        n_windows = sum(e["n_windows"] for e in entries)
        bar.set_postfix(windows=n_windows)
    if not todo:
        _write_manifest(out)
    return Corpus(out)
