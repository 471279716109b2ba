"""``Corpus``: read a corpus folder written by :func:`neurodec.corpus.build_corpus`.

Layout of a corpus folder::

    corpus.json                      format, version, preprocessing options, dtype
    manifest.json                    one entry per recording (see below)
    recordings/<id>/windows-000.npy  windows (n, n_channels, window) float16, memory-mapped on read
    recordings/<id>/sensors.parquet  the recording's sensor table (rows = channels of the windows)
    jobs/<key>.json                  finished build jobs (what makes a build resumable)

A manifest entry: ``id, source, subject, session, run, path, modality, channel_types,
n_channels, n_windows, sfreq_in, duration_s, shards [{file, n_windows}], sensors,
scales`` (the std per scale group and sensor type that the windows were divided by).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from neurodec.corpus.preprocess import PreprocessOptions
from neurodec.errors import ConfigError, DataNotFoundError, InvalidInputError

__all__ = ["Corpus", "CORPUS_FORMAT", "CORPUS_VERSION"]

CORPUS_FORMAT = "neurodec-corpus"
#: Bumped when the on-disk layout or the preprocessing changes meaning.
CORPUS_VERSION = 1


class Corpus:
    """A preprocessed corpus on disk (windows memory-mapped, nothing loaded up front).

    Parameters
    ----------
    path : path-like
        The corpus folder.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser()
        header_file = self.path / "corpus.json"
        if not header_file.is_file():
            raise DataNotFoundError(
                f"{self.path} is not a corpus (no corpus.json); build one with neurodec.corpus.build_corpus "
                "or `neurodec corpus build`"
            )
        header = json.loads(header_file.read_text())
        if header.get("format") != CORPUS_FORMAT or header.get("version") != CORPUS_VERSION:
            raise ConfigError(
                f"{self.path} holds a corpus of format {header.get('format')!r} "
                f"version {header.get('version')}; "
                f"this neurodec reads {CORPUS_FORMAT!r} version {CORPUS_VERSION}. Rebuild it"
            )
        self.header = header
        self.options = PreprocessOptions(**header["options"])
        manifest = self.path / "manifest.json"
        entries = json.loads(manifest.read_text())["recordings"] if manifest.is_file() else []
        self.entries: dict[str, dict[str, Any]] = {e["id"]: e for e in entries}

    # ------------------------------------------------------------------ overview
    @property
    def recordings(self) -> pd.DataFrame:
        """One row per recording: id, source, subject, session, run, modality, channels, windows..."""
        cols = [
            "id",
            "source",
            "subject",
            "session",
            "run",
            "modality",
            "n_channels",
            "n_windows",
            "duration_s",
        ]
        rows = [{c: e.get(c) for c in cols + ["path"]} for e in self.entries.values()]
        return pd.DataFrame(rows, columns=cols + ["path"])

    @property
    def n_windows(self) -> int:
        return int(sum(e["n_windows"] for e in self.entries.values()))

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        mods = sorted({e["modality"] for e in self.entries.values()})
        return f"<Corpus {self.path} | {len(self)} recordings, {self.n_windows} windows | {', '.join(mods)}>"

    def select(
        self,
        *,
        subjects: Any = None,
        sources: Any = None,
        modalities: Any = None,
    ) -> list[str]:
        """Ids of the recordings matching every filter given (subjects compare as strings)."""

        def as_set(values: Any) -> set[str] | None:
            if values is None:
                return None
            if isinstance(values, (str, int)):
                values = [values]
            return {str(v) for v in values}

        subs, srcs, mods = as_set(subjects), as_set(sources), as_set(modalities)
        out = []
        for rid, e in self.entries.items():
            if subs is not None and str(e["subject"]) not in subs:
                continue
            if srcs is not None and e["source"] not in srcs:
                continue
            if mods is not None and e["modality"] not in mods:
                continue
            out.append(rid)
        return out

    # ------------------------------------------------------------------ data
    def entry(self, rid: str) -> dict[str, Any]:
        try:
            return self.entries[rid]
        except KeyError:
            raise InvalidInputError(f"no recording {rid!r} in corpus {self.path}") from None

    @functools.lru_cache(maxsize=4096)  # noqa: B019 (one corpus object per folder, few recordings)
    def sensors(self, rid: str) -> pd.DataFrame:
        """The sensor table of recording ``rid`` (one row per channel of its windows)."""
        return pd.read_parquet(self.path / self.entry(rid)["sensors"])

    def shards(self, rid: str) -> list[np.ndarray]:
        """The window shards of ``rid``, memory-mapped: arrays (n, n_channels, window)."""
        return [np.load(self.path / s["file"], mmap_mode="r") for s in self.entry(rid)["shards"]]

    def windows(self, rid: str) -> np.ndarray:
        """Every window of ``rid`` as one array (read into memory), float32."""
        return np.concatenate([np.asarray(s, dtype=np.float32) for s in self.shards(rid)])
