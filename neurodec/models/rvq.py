"""Residual vector quantisation with EMA codebooks, k-means init and dead-code restart.

``ResidualVQ`` quantises a vector with ``n_levels`` codebooks in turn: level 0 quantises
the input, level 1 what level 0 left over, and so on; the quantised vector is the sum of
the chosen codes. Each level (``VectorQuantizer``):

* is **initialised by k-means** (k-means++ seeds, Lloyd iterations) on the first training
  batch it sees, so no code starts far from the data;
* is **updated by exponential moving averages** of the vectors assigned to each code
  (no codebook gradient; ``decay`` as in VQ-VAE-2), with Laplace smoothing of the counts;
* **restarts dead codes**: a code not chosen in ``dead_patience`` consecutive training
  batches is moved onto a vector drawn at random from a ring buffer of the last
  ``buffer_size`` inputs of that level (recent encoder outputs, across batches and hence
  across modalities), with a uniform EMA share so it gets a fair chance.

The encoder gets gradients through the straight-through estimator and a commitment loss
``mean ||residual - sg(code)||^2`` averaged over levels. Quantisation runs in float32
(outside autocast). Randomness uses torch's global generator, so a seed makes it
deterministic. Under ``torch.distributed``, EMA statistics are summed over ranks and the
k-means and restart vectors are taken from rank 0, so every rank keeps the same codebook.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import distributed as dist
from torch import nn

__all__ = ["VectorQuantizer", "ResidualVQ", "RVQOutput", "kmeans", "kmeans_plus_plus", "perplexity"]

_EPS = 1e-5


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def _all_reduce(t: torch.Tensor) -> torch.Tensor:
    if _distributed():
        dist.all_reduce(t)
    return t


def _broadcast(t: torch.Tensor) -> torch.Tensor:
    if _distributed():
        dist.broadcast(t, src=0)
    return t


def _sq_distances(x: torch.Tensor, codebook: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances, shape (N, K), from x (N, d) and codebook (K, d)."""
    return x.pow(2).sum(1, keepdim=True) - 2 * x @ codebook.T + codebook.pow(2).sum(1)[None, :]


def kmeans_plus_plus(x: torch.Tensor, k: int) -> torch.Tensor:
    """k-means++ seeding: each new centre drawn with probability proportional to the squared
    distance to the nearest centre so far. x (N, d) with N >= k; returns (k, d)."""
    n = x.shape[0]
    centres = [x[torch.randint(n, (1,), device=x.device)]]
    nearest = _sq_distances(x, centres[0]).squeeze(1).clamp(min=0)  # (N,)
    for _ in range(1, k):
        weights = nearest if float(nearest.sum()) > 0 else torch.ones_like(nearest)
        pick = x[torch.multinomial(weights, 1)]  # (1, d)
        centres.append(pick)
        nearest = torch.minimum(nearest, _sq_distances(x, pick).squeeze(1).clamp(min=0))
    return torch.cat(centres)


def kmeans(x: torch.Tensor, k: int, n_iter: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Lloyd's k-means on x (N, d) from k-means++ seeds; empty clusters are re-seeded on random points.

    With fewer points than clusters, centres are drawn with replacement and jittered.

    Returns
    -------
    centres : Tensor, shape (k, d)
    counts : Tensor, shape (k,)
        Points assigned to each centre at the end.
    """
    n, d = x.shape
    if n >= k:
        centres = kmeans_plus_plus(x, k)
    else:
        centres = x[torch.randint(n, (k,), device=x.device)].clone()
        centres += 1e-3 * x.std().clamp(min=_EPS) * torch.randn_like(centres)
    for _ in range(max(n_iter, 0)):
        onehot = F.one_hot(_sq_distances(x, centres).argmin(1), k).to(x.dtype)  # (N, k)
        counts = onehot.sum(0)  # (k,)
        sums = onehot.T @ x  # (k, d)
        empty = counts == 0
        centres = torch.where(empty[:, None], centres, sums / counts.clamp(min=1)[:, None])
        if empty.any():
            centres[empty] = x[torch.randint(n, (int(empty.sum()),), device=x.device)]
    counts = F.one_hot(_sq_distances(x, centres).argmin(1), k).to(x.dtype).sum(0)
    return centres, counts


def perplexity(codes: torch.Tensor, size: int) -> torch.Tensor:
    """exp(entropy) of the code distribution in ``codes`` (any shape): 1 = one code, ``size`` = uniform."""
    p = torch.bincount(codes.reshape(-1), minlength=size).float()
    p = p / p.sum().clamp(min=1)
    return torch.exp(-(p * torch.log(p.clamp(min=1e-12))).sum())


class VectorQuantizer(nn.Module):
    """One EMA codebook (see the module docstring).

    Parameters
    ----------
    dim : int
        Vector size.
    size : int
        Number of codes.
    decay : float
        EMA decay of the counts and sums.
    kmeans_iters : int
        Lloyd iterations for the initialisation.
    dead_patience : int
        A code not chosen in this many consecutive training batches is dead and restarted.
    buffer_size : int
        Recent input vectors kept to restart dead codes from.
    """

    def __init__(
        self, dim: int, size: int, decay: float, kmeans_iters: int, dead_patience: int, buffer_size: int
    ) -> None:
        super().__init__()
        self.dim, self.size = dim, size
        self.decay, self.kmeans_iters, self.dead_patience = decay, kmeans_iters, dead_patience
        self.register_buffer("codebook", torch.randn(size, dim) * 0.1)  # (K, d)
        self.register_buffer("cluster_size", torch.ones(size))  # (K,) EMA counts
        self.register_buffer("embed_sum", self.codebook.clone())  # (K, d) EMA sums
        self.register_buffer("unused_steps", torch.zeros(size, dtype=torch.long))  # (K,) batches since chosen
        self.register_buffer("recent", torch.zeros(buffer_size, dim))  # (R, d) ring of recent inputs
        self.register_buffer("n_recent", torch.tensor(0, dtype=torch.long))  # vectors written so far
        self.register_buffer("initialized", torch.tensor(False))
        self.register_buffer("restarts", torch.tensor(0, dtype=torch.long))  # codes restarted so far

    @torch.no_grad()
    def init_from(self, x: torch.Tensor) -> None:
        """k-means initialisation on x (N, d) (rank 0's result on every rank)."""
        centres, counts = kmeans(x, self.size, self.kmeans_iters)
        _broadcast(centres)
        _broadcast(counts)
        self.codebook.copy_(centres)
        self.cluster_size.copy_(counts)
        self.embed_sum.copy_(centres * counts[:, None])
        self.unused_steps.zero_()
        self.initialized.fill_(True)

    def dead_codes(self) -> torch.Tensor:
        """Boolean mask (K,) of the codes not chosen in the last ``dead_patience`` training batches."""
        return self.unused_steps >= self.dead_patience

    def quantize(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Nearest codes of x (N, d): (codes (N, d), indices (N,)). No update."""
        codes = _sq_distances(x, self.codebook).argmin(1)
        return self.codebook[codes], codes

    @torch.no_grad()
    def _remember(self, x: torch.Tensor) -> None:
        """Write x (N, d) into the ring buffer of recent inputs (a random subset if N > R)."""
        size = len(self.recent)
        if len(x) > size:
            x = x[torch.randperm(len(x), device=x.device)[:size]]
        start = int(self.n_recent) % size
        idx = (torch.arange(len(x), device=x.device) + start) % size
        self.recent[idx] = x
        self.n_recent += len(x)

    @torch.no_grad()
    def _ema_update(self, x: torch.Tensor, codes: torch.Tensor) -> None:
        onehot = F.one_hot(codes, self.size).to(x.dtype)  # (N, K)
        counts = _all_reduce(onehot.sum(0))  # (K,)
        sums = _all_reduce(onehot.T @ x)  # (K, d)
        self.cluster_size.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.embed_sum.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        n = self.cluster_size.sum()
        smoothed = (self.cluster_size + _EPS) / (n + self.size * _EPS) * n  # Laplace smoothing
        self.codebook.copy_(self.embed_sum / smoothed[:, None])
        self.unused_steps.add_(1).masked_fill_(counts > 0, 0)

    @torch.no_grad()
    def _restart_dead(self) -> None:
        dead = self.dead_codes()
        n_dead = int(dead.sum())
        if n_dead == 0:
            return
        pool = self.recent[: int(min(int(self.n_recent), len(self.recent)))]
        picks = _broadcast(pool[torch.randint(len(pool), (n_dead,), device=pool.device)].clone())
        share = self.cluster_size.sum() / self.size
        self.codebook[dead] = picks
        self.cluster_size[dead] = share
        self.embed_sum[dead] = picks * share
        self.unused_steps[dead] = 0
        self.restarts += n_dead

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Quantise x (N, d); in training mode also initialise / update / restart.

        Returns
        -------
        quantized : Tensor, shape (N, d)
            The chosen codes (no gradient).
        codes : Tensor of int64, shape (N,)
        """
        x = x.detach().float()
        if self.training and not bool(self.initialized):
            self.init_from(x)
        quantized, codes = self.quantize(x)
        if self.training:
            self._remember(x)
            self._ema_update(x, codes)
            self._restart_dead()
        return quantized, codes


@dataclass
class RVQOutput:
    """What :class:`ResidualVQ` returns."""

    #: Quantised vectors with straight-through gradients, shape (..., d).
    quantized: torch.Tensor
    #: Code indices, shape (..., n_levels).
    codes: torch.Tensor
    #: Commitment loss, mean over levels (scalar).
    commitment: torch.Tensor


class ResidualVQ(nn.Module):
    """``n_levels`` :class:`VectorQuantizer` applied to successive residuals.

    Parameters
    ----------
    dim, size, n_levels : int
        Vector size, codes per level, levels.
    decay, kmeans_iters, dead_threshold
        See :class:`VectorQuantizer`.
    """

    def __init__(
        self,
        dim: int,
        size: int,
        n_levels: int,
        decay: float = 0.99,
        kmeans_iters: int = 10,
        dead_patience: int = 8,
        buffer_size: int = 4096,
    ) -> None:
        super().__init__()
        self.dim, self.size = dim, size
        self.levels = nn.ModuleList(
            VectorQuantizer(dim, size, decay, kmeans_iters, dead_patience, buffer_size)
            for _ in range(n_levels)
        )

    def forward(self, x: torch.Tensor) -> RVQOutput:
        """Quantise x (..., d)."""
        shape = x.shape
        with torch.autocast(device_type=x.device.type, enabled=False):
            flat = x.reshape(-1, self.dim).float()  # (N, d)
            residual = flat
            total = torch.zeros_like(flat)
            commitment = flat.new_zeros(())
            codes = []
            for level in self.levels:
                quantized, idx = level(residual)  # (N, d), (N,)
                commitment = commitment + F.mse_loss(residual, quantized)
                total = total + quantized
                residual = residual - quantized
                codes.append(idx)
            out = flat + (total - flat).detach()  # straight-through estimator
        return RVQOutput(
            quantized=out.reshape(shape).to(x.dtype),
            codes=torch.stack(codes, -1).reshape(*shape[:-1], len(self.levels)),
            commitment=commitment / len(self.levels),
        )

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Code indices (..., n_levels) of x (..., d), without any codebook update."""
        residual = x.reshape(-1, self.dim).float()
        codes = []
        for level in self.levels:
            quantized, idx = level.quantize(residual)
            residual = residual - quantized
            codes.append(idx)
        return torch.stack(codes, -1).reshape(*x.shape[:-1], len(self.levels))

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Vectors (..., d) from code indices (..., n_levels)."""
        out = 0
        for i, level in enumerate(self.levels):
            out = out + level.codebook[codes[..., i]]
        return out

    def dead_codes(self) -> list[int]:
        """Number of dead codes per level (not chosen in the last ``dead_patience`` training batches)."""
        return [int(level.dead_codes().sum()) for level in self.levels]
