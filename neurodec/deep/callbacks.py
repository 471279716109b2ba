"""A skorch callback that makes braindecode's ``EEGClassifier`` deterministic."""

from __future__ import annotations

import torch
from skorch.callbacks import Callback

__all__ = ["TorchSeed"]


class TorchSeed(Callback):
    """Seed torch's global generator when the network is (re)initialised.

    skorch initialises the callbacks before the module, so the network's initial
    weights and then the training batches' order (drawn from torch's global generator)
    follow ``seed``: the same pipeline file gives the same scores on every run. In a
    pipeline file::

        callbacks:
          - {name: TorchSeed, from: neurodec.deep, parameters: {seed: 42}}

    Parameters
    ----------
    seed : int
        Seed of ``torch.manual_seed``.

    Notes
    -----
    This seeds torch's *global* generator (as ``braindecode.util.set_random_seeds``
    does); code that draws from it afterwards sees the seeded stream.
    """

    def __init__(self, seed: int = 42) -> None:
        self.seed = seed

    def __repr__(self) -> str:  # stable: part of the pipeline's identity in the results store
        return f"TorchSeed(seed={self.seed!r})"

    def initialize(self) -> TorchSeed:
        torch.manual_seed(int(self.seed))
        return self
