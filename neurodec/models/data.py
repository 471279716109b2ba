"""Batches of corpus windows for torch: variable channel counts, padding masks, samplers.

* :class:`WindowDataset`: a map-style ``Dataset`` over the windows of a
  :class:`neurodec.corpus.Corpus` (memory-mapped shards, opened lazily in each worker),
  filterable by subject, source and modality; works with ``DistributedSampler``;
* :func:`collate_windows`: pads a list of windows to the largest channel count of the
  batch, with a ``valid`` mask (False on padding);
* :class:`StepBatchSampler`: batches as a pure function of ``(seed, step)`` (and rank),
  so a run resumed at step ``k`` sees exactly the batches an uninterrupted run sees.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from neurodec.corpus import Corpus
from neurodec.errors import InvalidInputError
from neurodec.sensors.features import sensor_features

__all__ = ["WindowDataset", "collate_windows", "StepBatchSampler", "make_loader"]


class WindowDataset(Dataset):
    """The windows of (a selection of) a corpus.

    Parameters
    ----------
    corpus : Corpus | path-like
    recordings : list of str | None
        Recording ids; default: every recording matching the filters below.
    subjects, sources, modalities
        Filters (see :meth:`neurodec.corpus.Corpus.select`).
    max_channels : int | None
        Windows with more channels keep a random subset of this many (drawn from
        ``(seed, index)``, so always the same for the same window), to bound batch memory.
    seed : int
        Seed of the channel subsets.

    Items are dicts: ``x`` (C, T) float32, ``features`` (C, 6), ``types`` (C,) int64,
    ``recording`` (index into :attr:`recording_ids`), ``index``.
    """

    def __init__(
        self,
        corpus: Corpus | str | os.PathLike,
        recordings: Sequence[str] | None = None,
        *,
        subjects: Any = None,
        sources: Any = None,
        modalities: Any = None,
        max_channels: int | None = None,
        seed: int = 0,
    ) -> None:
        self.corpus = corpus if isinstance(corpus, Corpus) else Corpus(corpus)
        if recordings is None:
            recordings = self.corpus.select(subjects=subjects, sources=sources, modalities=modalities)
        self.recording_ids = list(recordings)
        if not self.recording_ids:
            raise InvalidInputError(f"no recording of {self.corpus.path} matches the selection")
        self.max_channels, self.seed = max_channels, seed
        self.features, self.types, self.shard_files, self.shard_ends = [], [], [], []
        counts = []
        for rid in self.recording_ids:
            entry = self.corpus.entry(rid)
            feats, types = sensor_features(self.corpus.sensors(rid))
            self.features.append(torch.from_numpy(feats))
            self.types.append(torch.from_numpy(types))
            self.shard_files.append([str(self.corpus.path / s["file"]) for s in entry["shards"]])
            self.shard_ends.append(np.cumsum([s["n_windows"] for s in entry["shards"]]))
            counts.append(entry["n_windows"])
        self.ends = np.cumsum(counts)  # window index ends per recording
        self._open: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return int(self.ends[-1])

    def __getstate__(self) -> dict[str, Any]:  # memory maps are reopened in each worker
        state = dict(self.__dict__)
        state["_open"] = {}
        return state

    def locate(self, index: int) -> tuple[int, int, int]:
        """(recording, shard, row) of window ``index``."""
        if not 0 <= index < len(self):
            raise IndexError(f"window {index} out of range (0..{len(self) - 1})")
        rec = int(np.searchsorted(self.ends, index, side="right"))
        local = index - (int(self.ends[rec - 1]) if rec else 0)
        shard = int(np.searchsorted(self.shard_ends[rec], local, side="right"))
        row = local - (int(self.shard_ends[rec][shard - 1]) if shard else 0)
        return rec, shard, row

    def n_channels(self, index: int) -> int:
        """Channels of window ``index`` (after ``max_channels``)."""
        n = len(self.types[self.locate(index)[0]])
        return min(n, self.max_channels) if self.max_channels else n

    def _shard(self, path: str) -> np.ndarray:
        if path not in self._open:
            self._open[path] = np.load(path, mmap_mode="r")
        return self._open[path]

    def __getitem__(self, index: int) -> dict[str, Any]:
        rec, shard, row = self.locate(int(index))
        x = torch.from_numpy(np.asarray(self._shard(self.shard_files[rec][shard])[row], dtype=np.float32))
        feats, types = self.features[rec], self.types[rec]
        if self.max_channels and len(types) > self.max_channels:
            rng = np.random.default_rng([self.seed, int(index)])
            keep = torch.from_numpy(np.sort(rng.choice(len(types), self.max_channels, replace=False)))
            x, feats, types = x[keep], feats[keep], types[keep]
        return {"x": x, "features": feats, "types": types, "recording": rec, "index": int(index)}


def collate_windows(items: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Stack windows with different channel counts, padding to the largest.

    Returns
    -------
    dict
        ``x`` (B, C_max, T), ``features`` (B, C_max, 6), ``types`` (B, C_max), ``valid``
        (B, C_max) bool (False on padding), ``recording`` (B,), ``index`` (B,).
    """
    b = len(items)
    c_max = max(len(it["types"]) for it in items)
    t = items[0]["x"].shape[-1]
    x = torch.zeros(b, c_max, t)
    feats = torch.zeros(b, c_max, 6)
    types = torch.zeros(b, c_max, dtype=torch.long)
    valid = torch.zeros(b, c_max, dtype=torch.bool)
    for i, it in enumerate(items):
        c = len(it["types"])
        x[i, :c], feats[i, :c], types[i, :c], valid[i, :c] = it["x"], it["features"], it["types"], True
    return {
        "x": x,
        "features": feats,
        "types": types,
        "valid": valid,
        "recording": torch.tensor([it["recording"] for it in items]),
        "index": torch.tensor([it["index"] for it in items]),
    }


class StepBatchSampler(Sampler[list[int]]):
    """Endless batches of indices, each a pure function of ``(seed, step, rank)``.

    Epoch ``e`` is a permutation of ``range(n)`` drawn from ``(seed, e)``; as in
    ``DistributedSampler``, rank ``r`` of ``world_size`` takes every ``world_size``-th
    index of it; batches of ``batch_size`` follow in order (the remainder is dropped).
    Iteration starts at ``start_step``.
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        *,
        seed: int = 0,
        start_step: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if n // world_size < batch_size:
            raise InvalidInputError(
                f"{n} windows cannot make a batch of {batch_size} on each of {world_size} rank(s); "
                "lower batch_size or add data"
            )
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.start_step, self.rank, self.world_size = start_step, rank, world_size
        self.batches_per_epoch = (n // world_size) // batch_size
        self._epoch: tuple[int, torch.Tensor] | None = None

    def _order(self, epoch: int) -> torch.Tensor:
        if self._epoch is None or self._epoch[0] != epoch:
            gen = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            perm = torch.randperm(self.n, generator=gen)
            self._epoch = (epoch, perm[self.rank :: self.world_size])
        return self._epoch[1]

    def batch(self, step: int) -> list[int]:
        """The indices of batch ``step``."""
        epoch, k = divmod(step, self.batches_per_epoch)
        return self._order(epoch)[k * self.batch_size : (k + 1) * self.batch_size].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        step = self.start_step
        while True:
            yield self.batch(step)
            step += 1


def make_loader(
    dataset: WindowDataset,
    batch_size: int,
    *,
    sampler: Sampler | None = None,
    shuffle: bool = True,
    seed: int = 0,
    num_workers: int = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A ``DataLoader`` of padded batches (:func:`collate_windows`).

    Pass ``sampler=DistributedSampler(dataset, ...)`` for multi-process training; otherwise
    windows are shuffled with a generator seeded by ``seed`` (or kept in order).
    """
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle if sampler is None else False,
        sampler=sampler,
        generator=generator if sampler is None else None,
        num_workers=num_workers,
        collate_fn=collate_windows,
        drop_last=drop_last,
        persistent_workers=num_workers > 0,
    )
