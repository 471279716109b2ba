"""A tiny tokenizer checkpoint for backbone tests (codebooks initialised, no training)."""

from __future__ import annotations

from pathlib import Path

import torch

from neurodec.models import BrainTokenizer
from neurodec.models.checkpoint import save_checkpoint
from neurodec.models.data import WindowDataset, collate_windows


def tiny_tokenizer(corpus, path: Path) -> Path:
    """Write a ``tiny`` tokenizer whose codebooks k-means initialised on ``corpus`` windows."""
    if path.is_file():
        return path
    torch.manual_seed(0)
    model = BrainTokenizer("tiny").train()
    ds = WindowDataset(corpus, max_channels=32)
    batch = collate_windows([ds[i] for i in range(0, len(ds), max(1, len(ds) // 24))])
    with torch.no_grad():
        model(batch["x"], batch["features"], batch["types"], batch["valid"])
    model.preprocess = corpus.options.to_dict()
    return save_checkpoint(path, model.eval(), step=0, preprocess=corpus.options.to_dict())
