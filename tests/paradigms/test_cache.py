"""Epoch cache: hits and misses, keys, atomic writes, corrupt entries rebuilt."""

from __future__ import annotations

import json
import logging
import os
import threading

import numpy as np
import pytest

from neurodec import paradigms as nd
from neurodec.paradigms import cache as cache_mod
from neurodec.paradigms.cache import EpochCache, SubjectEpochs
from tests.paradigms.conftest import fake


def _entries(root):
    return sorted(p.parent.name for p in root.rglob("manifest.json"))


def _spy_reads(monkeypatch):
    """Count subjects epoched from raw data (cache misses)."""
    from neurodec.paradigms import base

    calls = []
    real = base._subject_epochs

    def spy(dataset, subject, spec):
        calls.append(subject)
        return real(dataset, subject, spec)

    monkeypatch.setattr(base, "_subject_epochs", spy)
    return calls


def test_miss_then_hit_returns_identical_arrays(cache_dir, monkeypatch):
    ds = fake(n_subjects=2)
    calls = _spy_reads(monkeypatch)
    X, y, meta = nd.LeftRightImagery().get_data(ds, [1, 2])  # NEURODEC_CACHE is cache_dir
    assert calls == [1, 2] and _entries(cache_dir) == ["sub-001", "sub-002"]
    X2, y2, meta2 = nd.LeftRightImagery().get_data(ds, [2, 1])
    assert calls == [1, 2]  # no new reads: both hits
    n1 = (meta.subject == 1).sum()
    np.testing.assert_array_equal(X2, np.concatenate([X[n1:], X[:n1]]))
    assert y2.tolist() == y[n1:].tolist() + y[:n1].tolist()
    assert meta2.subject.tolist() == meta.subject.tolist()[n1:] + meta.subject.tolist()[:n1]
    assert meta2.dtypes.equals(meta.dtypes)


def test_cache_false_and_cache_dir_argument(tmp_path, cache_dir):
    ds = fake(n_subjects=1)
    nd.LeftRightImagery(cache=False).get_data(ds, [1])
    assert not cache_dir.exists()
    nd.LeftRightImagery(cache_dir=tmp_path / "elsewhere").get_data(ds, [1])
    assert _entries(tmp_path / "elsewhere") == ["sub-001"] and not cache_dir.exists()


def test_key_changes_with_paradigm_params_and_dataset(cache_dir):
    ds = fake(n_subjects=1)
    base = EpochCache.for_paradigm(nd.LeftRightImagery(), ds).folder
    assert EpochCache.for_paradigm(nd.LeftRightImagery(), ds).folder == base
    assert EpochCache.for_paradigm(nd.LeftRightImagery(cache_dir=str(cache_dir)), ds).folder == base
    for other in (
        nd.LeftRightImagery(fmax=30),
        nd.LeftRightImagery(tmax=2.0),
        nd.LeftRightImagery(resample=64),
        nd.MotorImagery(),
    ):
        assert EpochCache.for_paradigm(other, ds).folder != base
    assert EpochCache.for_paradigm(nd.LeftRightImagery(), fake(n_subjects=1, seed=8)).folder != base

    class Fingerprinted(type(ds)):
        value = "a"

        def fingerprint(self):
            return self.value

    fp = Fingerprinted(event_list=("left_hand", "right_hand"), n_subjects=1)
    key_a = EpochCache.for_paradigm(nd.LeftRightImagery(), fp).folder
    fp.value = "b"
    assert EpochCache.for_paradigm(nd.LeftRightImagery(), fp).folder != key_a


@pytest.mark.parametrize("damage", ["flip-byte", "truncate", "no-manifest", "bad-manifest", "no-y"])
def test_corrupt_entry_is_detected_logged_and_rebuilt(cache_dir, monkeypatch, caplog, damage):
    ds = fake(n_subjects=1)
    X, y, _ = nd.LeftRightImagery().get_data(ds, [1])
    entry = next(cache_dir.rglob("sub-001"))
    if damage == "flip-byte":
        raw = bytearray((entry / "X.npy").read_bytes())
        raw[-100] ^= 0xFF
        (entry / "X.npy").write_bytes(bytes(raw))
    elif damage == "truncate":
        with open(entry / "X.npy", "r+b") as fh:
            fh.truncate(os.path.getsize(entry / "X.npy") // 2)
    elif damage == "no-manifest":
        (entry / "manifest.json").unlink()
    elif damage == "bad-manifest":
        (entry / "manifest.json").write_text("{not json")
    else:
        (entry / "y.npy").unlink()
    calls = _spy_reads(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="neurodec.paradigms.cache"):
        X2, y2, _ = nd.LeftRightImagery().get_data(ds, [1])
    assert calls == [1], "the damaged entry must be rebuilt from the raw data"
    assert "corrupt" in caplog.text
    np.testing.assert_array_equal(X2, X)
    np.testing.assert_array_equal(y2, y)
    assert EpochCache.for_paradigm(nd.LeftRightImagery(), ds).load(1) is not None


def test_partial_write_is_never_used(cache_dir, monkeypatch):
    ds = fake(n_subjects=1)
    cache = EpochCache.for_paradigm(nd.LeftRightImagery(), ds)
    epochs = SubjectEpochs(subject=1, X=np.ones((2, 3, 4)), y=np.array(["a", "b"]), runs=[["0", "0", 2]])

    def crash(src, dst):
        raise OSError("simulated crash before publishing")

    monkeypatch.setattr(cache_mod.os, "replace", crash)
    assert cache.save(1, epochs) is None  # logged, not raised
    monkeypatch.undo()
    assert cache.load(1) is None and not cache.entry(1).exists()
    assert not [p for p in cache.folder.iterdir() if p.name.startswith(".tmp")]
    # Temp folders of writers killed mid-way are ignored, and swept once stale.
    stale = cache.folder / ".tmp-sub-002-123-deadbeef"
    stale.mkdir()
    (stale / "X.npy").write_bytes(b"partial")
    assert cache.load(2) is None
    os.utime(stale, (0, 0))
    assert cache.save(2, epochs) is not None and not stale.exists()
    np.testing.assert_array_equal(cache.load(2).X, epochs.X)
    # A half-written folder left by a killed process (no manifest) is not used either.
    cache.entry(1).mkdir(parents=True)
    np.save(cache.entry(1) / "X.npy", np.ones((2, 3, 4)))
    assert cache.load(1) is None and not cache.entry(1).exists()


def test_concurrent_writers_leave_one_valid_entry(tmp_path):
    ds = fake(n_subjects=1)
    cache = EpochCache.for_paradigm(nd.LeftRightImagery(cache_dir=tmp_path), ds)
    X = np.random.default_rng(0).standard_normal((5, 4, 50))
    epochs = SubjectEpochs(subject=1, X=X, y=np.array(list("ababa")), runs=[["0", "0", 5]])
    errors = []

    def write():
        try:
            assert cache.save(1, epochs) is not None
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    got = cache.load(1)
    np.testing.assert_array_equal(got.X, X)
    assert [p.name for p in cache.folder.iterdir() if p.name.startswith((".tmp", ".trash"))] == []
    manifest = json.loads((cache.entry(1) / "manifest.json").read_text())
    assert manifest["files"]["X.npy"]["shape"] == [5, 4, 50]
    assert manifest["key"]["paradigm"]["params"]["fmin"] == 8
