"""``FoundationModel``: a masked-token transformer over the tokenizer's token grid.

Shapes (B segments, W windows, F frames per window, T = W * F frames, S sources,
L RVQ levels, K codes per level, d = ``d_model``)::

    codes (B, W, F, S, L) -> (B, T, S, L)
      embed each level, sum over levels                          (B, T, S, d)
      masked positions: a learned mask vector (or random codes)  (B, T, S, d)
      n_layers x CrissCrossBlock:
        LayerNorm, split the width in two halves                 2 x (B, T, S, d/2)
          temporal half: attention over T for each (B, S),
            rotary positions on the frames                       (B*S, H/2, T, d/H)
          spatial half: attention over S for each (B, T),
            no positions (sources are a set)                     (B*T, H/2, S, d/H)
        concatenate, project, residual                           (B, T, S, d)
        LayerNorm, MLP (d -> mlp_ratio d -> d), residual         (B, T, S, d)
      LayerNorm                                                  (B, T, S, d)
      head: one linear layer for all levels                      (B, T, S, L, K)

Pretraining loss (:func:`masked_token_loss`): cross-entropy over the masked positions
only, averaged over levels. Rotary positions make the model independent of a maximum
length: a classifier may read 2 windows where pretraining read 15.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from neurodec.models.config import ModelConfig

__all__ = [
    "FoundationModel",
    "CrissCrossBlock",
    "random_mask",
    "masked_token_loss",
    "training_flops",
]


# ---------------------------------------------------------------------- rotary positions
def rotary_angles(
    n: int, head_dim: int, base: float, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of the rotary angles of positions ``0..n-1``, each (n, head_dim / 2)."""
    inv_freq = base ** (-torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim)
    angles = torch.arange(n, device=device, dtype=torch.float32)[:, None] * inv_freq[None]  # (n, Dh/2)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate the two halves of the last axis of ``x`` (..., n, Dh) by the angles (n, Dh/2)."""
    x1, x2 = x.float().chunk(2, dim=-1)
    out = torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)
    return out.to(x.dtype)


# ---------------------------------------------------------------------- blocks
class CrissCrossBlock(nn.Module):
    """Pre-norm block: half the width attends over frames, half over sources; then an MLP."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        d, half = config.d_model, config.d_model // 2
        self.heads = config.n_heads // 2  # per direction
        self.norm1 = nn.LayerNorm(d)
        self.qkv_time = nn.Linear(half, 3 * half)
        self.qkv_space = nn.Linear(half, 3 * half)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(
            nn.Linear(d, config.mlp_ratio * d), nn.GELU(), nn.Linear(config.mlp_ratio * d, d)
        )
        self.dropout = nn.Dropout(config.dropout)
        self.attn_dropout = config.dropout

    def _heads(self, qkv: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(N, n, 3 * d/2) -> q, k, v each (N, H/2, n, Dh)."""
        N, n, _ = qkv.shape
        q, k, v = qkv.reshape(N, n, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        return q, k, v

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """(N, H/2, n, Dh) -> (N, n, d/2)."""
        p = self.attn_dropout if self.training else 0.0
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=p)
        return out.transpose(1, 2).flatten(2)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """x (B, T, S, d); cos/sin (T, Dh/2) of the frames -> (B, T, S, d)."""
        B, T, S, d = x.shape
        h_time, h_space = self.norm1(x).chunk(2, dim=-1)  # 2 x (B, T, S, d/2)

        # temporal: one sequence of T frames per (segment, source)
        seq = h_time.transpose(1, 2).reshape(B * S, T, d // 2)  # (B*S, T, d/2)
        q, k, v = self._heads(self.qkv_time(seq))  # (B*S, H/2, T, Dh)
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        a_time = self._attend(q, k, v).reshape(B, S, T, d // 2).transpose(1, 2)  # (B, T, S, d/2)

        # spatial: one set of S sources per (segment, frame), no positions
        seq = h_space.reshape(B * T, S, d // 2)  # (B*T, S, d/2)
        a_space = self._attend(*self._heads(self.qkv_space(seq))).reshape(B, T, S, d // 2)

        x = x + self.dropout(self.proj(torch.cat([a_time, a_space], dim=-1)))  # (B, T, S, d)
        return x + self.dropout(self.mlp(self.norm2(x)))


# ---------------------------------------------------------------------- model
class FoundationModel(nn.Module):
    """Masked-token backbone (see the module docstring).

    Parameters
    ----------
    config : ModelConfig | str
        A config or a named size (``"test"``, ``"tiny"``, ``"base"``).
    """

    def __init__(self, config: ModelConfig | str = "tiny") -> None:
        super().__init__()
        if isinstance(config, str):
            config = ModelConfig.from_size(config)
        self.config = cfg = config
        L, K, d = cfg.n_levels, cfg.codebook_size, cfg.d_model
        self.embedding = nn.Embedding(L * K, d)  # level l, code c -> row l * K + c
        self.register_buffer("level_offset", torch.arange(L) * K, persistent=False)  # (L,)
        self.mask_embedding = nn.Parameter(torch.zeros(d))
        self.blocks = nn.ModuleList(CrissCrossBlock(cfg) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, L * K)
        self.apply(self._init)
        nn.init.normal_(self.mask_embedding, std=0.02)
        for block in self.blocks:  # GPT-2: residual projections scaled by depth
            for lin in (block.proj, block.mlp[2]):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * cfg.n_layers))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def _grid(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, W, F, S, L) or (B, T, S, L) -> (B, T, S, L), checked against the config."""
        cfg = self.config
        if codes.ndim == 5:
            codes = codes.flatten(1, 2)
        if codes.ndim != 4 or codes.shape[2:] != (cfg.n_sources, cfg.n_levels):
            raise ValueError(
                f"codes must be (B, W, F, {cfg.n_sources}, {cfg.n_levels}) or (B, T, {cfg.n_sources}, "
                f"{cfg.n_levels}), got {tuple(codes.shape)}"
            )
        return codes

    def embed(self, codes: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Sum of the level embeddings (B, T, S, d); masked positions (B, T, S) get the mask vector."""
        e = self.embedding(codes + self.level_offset).sum(-2)  # (B, T, S, L, d) -> (B, T, S, d)
        if mask is not None:
            e = torch.where(mask[..., None], self.mask_embedding.to(e.dtype), e)
        return e

    def encode(self, codes: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Contextual features (B, T, S, d) of a token grid (see :meth:`forward` for the arguments)."""
        codes = self._grid(codes)
        x = self.embed(codes, mask)
        cos, sin = rotary_angles(codes.shape[1], self.config.head_dim, self.config.rope_base, codes.device)
        for block in self.blocks:
            x = block(x, cos, sin)
        return self.norm(x)

    def forward(self, codes: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of every level at every position.

        Parameters
        ----------
        codes : Tensor of int64, shape (B, W, F, S, L) or (B, T, S, L)
        mask : Tensor of bool, shape (B, T, S), optional
            Positions whose tokens the model must not see (replaced by the mask vector).

        Returns
        -------
        Tensor, shape (B, T, S, L, K)
        """
        h = self.encode(codes, mask)
        cfg = self.config
        return self.head(h).unflatten(-1, (cfg.n_levels, cfg.codebook_size))

    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


# ---------------------------------------------------------------------- pretraining pieces
def random_mask(
    shape: tuple[int, int, int], ratio: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Exactly ``round(ratio * T * S)`` random masked positions in each of B segments.

    Every segment has the same number of masked positions, so the mean loss over a batch
    equals the mean of the losses of its parts (what data-parallel training averages).

    Returns
    -------
    Tensor of bool, shape (B, T, S)
    """
    B, T, S = shape
    n_mask = max(1, round(ratio * T * S))
    rank = torch.rand(B, T * S, generator=generator).argsort(1).argsort(1)  # a random order per segment
    return (rank < n_mask).reshape(B, T, S)


def mask_inputs(
    codes: torch.Tensor, mask: torch.Tensor, config: ModelConfig, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """What the model reads: ``(codes, mask)`` for ``mask_mode="token"``; random codes at the
    masked positions and no mask for ``"random"`` (codes (B, T, S, L), mask (B, T, S))."""
    if config.mask_mode == "token":
        return codes, mask
    noise = torch.randint(0, config.codebook_size, codes.shape, generator=generator).to(codes.device)
    return torch.where(mask[..., None], noise, codes), None


def masked_token_loss(
    logits: torch.Tensor, codes: torch.Tensor, mask: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Cross-entropy on the masked positions, and the accuracy of each level there.

    Parameters
    ----------
    logits : Tensor, shape (B, T, S, L, K)
    codes : Tensor of int64, shape (B, T, S, L)
    mask : Tensor of bool, shape (B, T, S)

    Returns
    -------
    dict
        ``loss`` (mean over masked positions and levels), ``loss_<l>`` and ``acc_<l>`` per level.
    """
    picked = logits[mask].float()  # (M, L, K)
    target = codes[mask]  # (M, L)
    per_level = F.cross_entropy(picked.transpose(1, 2), target, reduction="none").mean(0)  # (L,)
    out: dict[str, torch.Tensor] = {"loss": per_level.mean()}
    correct = (picked.argmax(-1) == target).float().mean(0)  # (L,)
    for level in range(per_level.shape[0]):
        out[f"loss_{level}"] = per_level[level]
        out[f"acc_{level}"] = correct[level]
    return out


def training_flops(config: ModelConfig, n_frames: int | None = None) -> dict[str, Any]:
    """Matmul FLOPs of one forward + backward pass (3 x forward), per token and per segment.

    Counted analytically (a multiply-add = 2 FLOPs), per token and layer: the q/k/v
    projections of both halves ``2 * 2 * (d/2) * (3d/2) = 3 d^2``, the output projection
    ``2 d^2``, the MLP ``2 * 2 * r d^2``, attention scores and weighted values
    ``2 * 2 * (d/2) * (T + S)``; the head ``2 d L K``. Embeddings, norms and softmax are
    left out (not matmuls).

    Parameters
    ----------
    config : ModelConfig
    n_frames : int | None
        Frames per segment (default: the full context).
    """
    T = config.context_frames if n_frames is None else n_frames
    d, S = config.d_model, config.n_sources
    per_layer = 3 * d * d + 2 * d * d + 4 * config.mlp_ratio * d * d + 2 * d * (T + S)
    forward = config.n_layers * per_layer + 2 * d * config.n_levels * config.codebook_size
    tokens = T * S
    return {
        "forward_per_token": forward,
        "train_per_token": 3 * forward,
        "tokens_per_segment": tokens,
        "train_per_segment": 3 * forward * tokens,
    }
