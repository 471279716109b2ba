"""Tokens of a corpus, computed once by a frozen tokenizer, and segments of them for the backbone.

* :func:`tokenize_corpus`: every window of every recording of a corpus -> token indices
  (n_windows, F, S, L), cached as ``int16`` ``.npy`` files beside the corpus
  (``<corpus>/tokens/<tokenizer key>/``, or any folder given). The key is a hash of the
  tokenizer's config and weights, so another tokenizer never reads stale tokens; a killed
  run keeps the recordings it finished (each file written atomically).
* :class:`SegmentDataset`: segments of ``context_windows`` consecutive windows of one
  recording, consecutive segments overlapping by ``segment_overlap`` (30 s with a 7.5-s
  overlap for the defaults); items are ``(W, F, S, L)`` int64 grids.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from neurodec.atomic import atomic_write
from neurodec.corpus import Corpus
from neurodec.errors import InvalidInputError
from neurodec.models.tokenizer import BrainTokenizer
from neurodec.sensors.features import sensor_features

__all__ = ["tokenizer_key", "tokenize_corpus", "TokenCache", "SegmentDataset"]

logger = logging.getLogger(__name__)


def tokenizer_key(tokenizer: BrainTokenizer) -> str:
    """SHA-256 (16 hex digits) of a tokenizer's config, preprocessing and weights."""
    h = hashlib.sha256(
        json.dumps([tokenizer.config.to_dict(), tokenizer.preprocess], sort_keys=True).encode()
    )
    for name, tensor in sorted(tokenizer.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


class TokenCache:
    """Token files of one corpus and one tokenizer (see :func:`tokenize_corpus`)."""

    def __init__(self, folder: Path, corpus: Corpus) -> None:
        self.folder, self.corpus = folder, corpus

    def file(self, rid: str) -> Path:
        return self.folder / f"{rid}.npy"

    def codes(self, rid: str) -> np.ndarray:
        """Token indices of recording ``rid``, (n_windows, F, S, L) int64."""
        return np.load(self.file(rid)).astype(np.int64)


@torch.no_grad()
def tokenize_corpus(
    corpus: Corpus | str | os.PathLike,
    tokenizer: BrainTokenizer,
    *,
    cache_dir: str | os.PathLike | None = None,
    recordings: Sequence[str] | None = None,
    batch_size: int = 32,
    progress: bool = True,
) -> TokenCache:
    """Tokenize (the missing recordings of) a corpus with a frozen tokenizer.

    Parameters
    ----------
    corpus : Corpus | path-like
    tokenizer : BrainTokenizer
        Used in eval mode, on its current device; its codebooks are not updated.
    cache_dir : path-like | None
        Parent folder of the caches (default ``<corpus>/tokens``).
    recordings : list of str | None
        Recording ids (default: all).
    batch_size : int
        Windows per forward pass.
    progress : bool
        tqdm bar over recordings.

    Returns
    -------
    TokenCache
    """
    corpus = corpus if isinstance(corpus, Corpus) else Corpus(corpus)
    options = tokenizer.preprocess or {}
    for name in ("sfreq", "window_s"):
        want = getattr(corpus.options, name)
        if name in options and options[name] != want:
            raise InvalidInputError(
                f"corpus {corpus.path} has {name}={want}; the tokenizer was trained with {options[name]}"
            )
    key = tokenizer_key(tokenizer)
    folder = Path(cache_dir) if cache_dir is not None else corpus.path / "tokens"
    folder = folder / key
    folder.mkdir(parents=True, exist_ok=True)
    cache = TokenCache(folder, corpus)
    header = {
        "tokenizer_key": key,
        "tokenizer_config": tokenizer.config.to_dict(),
        "corpus": str(corpus.path),
    }
    atomic_write(folder / "tokens.json", lambda p: p.write_text(json.dumps(header, indent=1)))
    todo = [r for r in (recordings or list(corpus.entries)) if not cache.file(r).is_file()]
    was_training = tokenizer.training
    tokenizer.eval()
    device = next(tokenizer.parameters()).device
    for rid in tqdm(todo, desc="tokens", unit="recording", disable=not progress):
        feats, types = sensor_features(corpus.sensors(rid))
        f, t = torch.from_numpy(feats).to(device), torch.from_numpy(types).to(device)
        windows = corpus.windows(rid)  # (n, C, T) float32
        parts = []
        for start in range(0, len(windows), batch_size):
            x = torch.from_numpy(windows[start : start + batch_size]).to(device)
            parts.append(tokenizer.tokenize(x, f.expand(len(x), -1, -1), t.expand(len(x), -1)).cpu().numpy())
        codes = np.concatenate(parts).astype(np.int16)  # (n, F, S, L)
        atomic_write(cache.file(rid), lambda p, c=codes: np.save(open(p, "wb"), c))
    tokenizer.train(was_training)
    logger.info("tokens of %d recording(s) in %s (%d computed now)", len(corpus.entries), folder, len(todo))
    return cache


class SegmentDataset(Dataset):
    """Segments of consecutive windows' tokens.

    Parameters
    ----------
    cache : TokenCache
    recordings : list of str
        Recording ids (of ``cache.corpus``).
    context_windows : int
        Windows per segment; shorter recordings are left out (logged).
    stride : int
        Windows between the starts of consecutive segments of a recording.

    Items are ``(W, F, S, L)`` int64 tensors.
    """

    def __init__(
        self, cache: TokenCache, recordings: Sequence[str], context_windows: int, stride: int
    ) -> None:
        self.codes: list[np.ndarray] = []
        self.items: list[tuple[int, int]] = []
        self.recording_ids: list[str] = []
        short = []
        for rid in recordings:
            codes = cache.codes(rid)
            if len(codes) < context_windows:
                short.append(rid)
                continue
            k = len(self.codes)
            self.codes.append(codes)
            self.recording_ids.append(rid)
            self.items += [(k, s) for s in range(0, len(codes) - context_windows + 1, stride)]
        if short:
            logger.info("%d recording(s) shorter than %d windows left out", len(short), context_windows)
        if not self.items:
            raise InvalidInputError(
                f"no recording has {context_windows} windows for a segment; lower context_windows"
            )
        self.context_windows = context_windows

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> torch.Tensor:
        k, start = self.items[int(index)]
        return torch.from_numpy(self.codes[k][start : start + self.context_windows])

    def level_counts(self, codebook_size: int) -> np.ndarray:
        """How often each code occurs at each level over the recordings, (L, K)."""
        stacked = np.concatenate([c.reshape(-1, c.shape[-1]) for c in self.codes])  # (N, L)
        return np.stack(
            [np.bincount(stacked[:, lv], minlength=codebook_size) for lv in range(stacked.shape[1])]
        )
