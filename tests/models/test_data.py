"""Torch batches over a corpus: padding masks, DistributedSampler, resumable step sampler."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DistributedSampler  # noqa: E402

from neurodec.errors import InvalidInputError  # noqa: E402
from neurodec.models import BrainTokenizer  # noqa: E402
from neurodec.models.data import StepBatchSampler, WindowDataset, collate_windows, make_loader  # noqa: E402
from neurodec.sensors import sensor_features  # noqa: E402


def test_items_carry_the_recordings_sensors(small_corpus):
    ds = WindowDataset(small_corpus)
    assert len(ds) == small_corpus.n_windows
    for index in (0, len(ds) - 1, 20):
        item = ds[index]
        rid = ds.recording_ids[item["recording"]]
        feats, types = sensor_features(small_corpus.sensors(rid))
        assert item["x"].shape == (len(types), 512) and item["x"].dtype == torch.float32
        assert torch.equal(item["features"], torch.from_numpy(feats))
        assert torch.equal(item["types"], torch.from_numpy(types))
    rec, shard, row = ds.locate(len(ds) - 1)
    assert (
        rec == len(ds.recording_ids) - 1 and row == small_corpus.entry(ds.recording_ids[rec])["n_windows"] - 1
    )
    with pytest.raises(IndexError):
        ds[len(ds)]
    assert (
        len(WindowDataset(small_corpus, modalities="seeg"))
        == small_corpus.entry(small_corpus.select(modalities="seeg")[0])["n_windows"]
    )
    with pytest.raises(InvalidInputError, match="no recording"):
        WindowDataset(small_corpus, subjects=[99])


def test_batches_of_mixed_montages_are_padded_with_a_mask(small_corpus):
    ds = WindowDataset(small_corpus)
    eeg = small_corpus.select(modalities="eeg")[0]
    meg = small_corpus.select(modalities="meg")[0]
    i_eeg = ds.recording_ids.index(eeg)
    i_meg = ds.recording_ids.index(meg)
    first = lambda r: int(ds.ends[r - 1]) if r else 0  # noqa: E731
    batch = collate_windows([ds[first(i_eeg)], ds[first(i_meg)]])
    assert batch["x"].shape == (2, 306, 512) and batch["valid"].sum(1).tolist() == [32, 306]
    assert float(batch["x"][0, 32:].abs().max()) == 0.0
    model = BrainTokenizer("tiny").eval()
    out = model(batch["x"], batch["features"], batch["types"], batch["valid"])
    alone = model(batch["x"][:1, :32], batch["features"][:1, :32], batch["types"][:1, :32])
    assert torch.equal(out.codes[:1], alone.codes)


def test_max_channels_keeps_a_fixed_random_subset(small_corpus):
    ds = WindowDataset(small_corpus, modalities="meg", max_channels=40, seed=1)
    a, b = ds[3], ds[3]
    assert (
        a["x"].shape == (40, 512)
        and torch.equal(a["x"], b["x"])
        and torch.equal(a["features"], b["features"])
    )
    assert not torch.equal(ds[4]["features"], a["features"])
    assert ds.n_channels(0) == 40


def test_distributed_sampler_splits_the_windows_between_ranks(small_corpus):
    ds = WindowDataset(small_corpus)
    seen = []
    for rank in (0, 1):
        sampler = DistributedSampler(ds, num_replicas=2, rank=rank, shuffle=True, seed=0)
        sampler.set_epoch(0)
        loader = make_loader(ds, batch_size=4, sampler=sampler)
        indices = torch.cat([batch["index"] for batch in loader]).tolist()
        assert all(batch["valid"].any(1).all() for batch in loader)
        seen.append(indices)
    padding = 2 * ((len(ds) + 1) // 2) - len(ds)  # DistributedSampler repeats windows to even out ranks
    assert len(seen[0]) == len(seen[1]) and len(set(seen[0]) & set(seen[1])) == padding
    assert set(seen[0]) | set(seen[1]) == set(range(len(ds)))


def test_step_sampler_is_a_function_of_seed_and_step(small_corpus):
    n = small_corpus.n_windows
    sampler = StepBatchSampler(n, 8, seed=3)
    it = iter(sampler)
    batches = [next(it) for _ in range(2 * sampler.batches_per_epoch + 1)]
    epoch0 = [i for b in batches[: sampler.batches_per_epoch] for i in b]
    assert len(set(epoch0)) == len(epoch0)  # no repeats within an epoch
    assert batches[0] != batches[sampler.batches_per_epoch]  # a new permutation each epoch
    resumed = iter(StepBatchSampler(n, 8, seed=3, start_step=5))
    assert [next(resumed) for _ in range(3)] == batches[5:8]
    ranks = [StepBatchSampler(n, 4, seed=3, rank=r, world_size=2).batch(0) for r in (0, 1)]
    assert not set(ranks[0]) & set(ranks[1])
    with pytest.raises(InvalidInputError, match="cannot make a batch"):
        StepBatchSampler(10, 8, world_size=2)
