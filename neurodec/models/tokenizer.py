"""``BrainTokenizer``: any montage of EEG, MEG, sEEG or ECoG -> the same grid of discrete tokens.

Shapes (B windows, C channels, T = ``window_samples`` samples, F = T / hop frames,
S = ``n_sources``, d = ``d_model``, L = ``n_levels``)::

    x (B, C, T), sensors (B, C, 6) + types (B, C)
      normalize (visible channels' reference and scale)         (B, C, T)
      per-channel frame encoder (one linear map per hop)       (B, F, C, d)
      sensor embedding (SensorEncoder) -> spatial basis W      (B, C, S)
      sources: ridge least squares of the visible channels     (B, F, S, d)
      + frame embedding, transformer over the S*F latents      (B, F*S, d)
      project, residual VQ                                     codes (B, F, S, L)
    decoder:
      transformer over the quantised latents                   (B, F, S, d)
      every channel: W @ sources                               (B, F, C, d)
      per-channel frame decoder                                (B, C, T)

The spatial mixing (``spatial_mixing``) is by default a learned spatial basis
(:mod:`neurodec.models.spatial_basis`): signed spatial functions of the sensor
embeddings, fitted to the visible channels by least squares, like a spline with a
learned kernel. ``"attention"`` is BrainOmni's design: S learned source queries
cross-attend over the channels (keys: features + sensor embedding, with a learned
spatial bias), and each channel's sensor embedding queries the sources back. The frame
encoder (``frame_encoder``) is by default one linear map per frame of ``hop`` samples
(and its transpose to decode); ``"conv"`` stacks strided convolutions. The defaults
were chosen by measurement (benchmarks/results/tokenizer.md): the softmax pooling and
the convolutions each kept only the slow part of the signal.

Neither mixing uses a channel index, so tokens do not depend on the order of the
channels; hidden (or bad) channels are left out of the encoder's fit (or keys) but are
reconstructed like any other, from their sensor embedding.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from neurodec.models.config import TokenizerConfig
from neurodec.models.normalize import WindowStats, normalize
from neurodec.models.rvq import ResidualVQ
from neurodec.models.sensors import SensorEncoder
from neurodec.models.spatial_basis import SpatialBasis

__all__ = ["BrainTokenizer", "TokenizerOutput", "random_visible"]


class ConvEncoder(nn.Module):
    """Per-channel strided convolutions: (N, 1, T) -> (N, d, T / hop).

    No normalisation inside: the relative amplitude of the channels of a window (kept by
    the per-type normalisation) is information the source attention needs.
    """

    def __init__(self, channels: int, d_model: int, strides: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for s in strides:  # kernel 2s, padding s/2: length exactly divided by s
            layers += [nn.Conv1d(c_in, channels, 2 * s, stride=s, padding=s // 2), nn.GELU()]
            c_in = channels
        layers.append(nn.Conv1d(channels, d_model, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class PatchEncoder(nn.Module):
    """One linear map per frame of ``hop`` samples: (N, 1, T) -> (N, d, T / hop)."""

    def __init__(self, d_model: int, hop: int) -> None:
        super().__init__()
        self.proj = nn.Conv1d(1, d_model, hop, stride=hop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class PatchDecoder(nn.Module):
    """One linear map per frame back to ``hop`` samples: (N, d, F) -> (N, 1, F * hop)."""

    def __init__(self, d_model: int, hop: int) -> None:
        super().__init__()
        self.proj = nn.ConvTranspose1d(d_model, 1, hop, stride=hop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class ConvDecoder(nn.Module):
    """Per-channel transposed convolutions: (N, d, F) -> (N, 1, F * hop)."""

    def __init__(self, channels: int, d_model: int, strides: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv1d(d_model, channels, 1)]
        for i, s in enumerate(reversed(strides)):
            last = i == len(strides) - 1
            layers.append(nn.GELU())
            layers.append(
                nn.ConvTranspose1d(channels, 1 if last else channels, 2 * s, stride=s, padding=s // 2)
            )
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class CrossAttentionBlock(nn.Module):
    """Pre-norm cross-attention then feed-forward: queries (N, Q, d) read keys/values (N, K, d)."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.norm_q = nn.LayerNorm(d_model)
        self.norm_k = nn.LayerNorm(d_model)
        self.norm_v = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.norm_ff = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model))

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        bias: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``bias`` (N, Q, K): added to the attention logits of every head;
        ``key_mask`` (N, K): True where a key must be ignored."""
        n, q, k = query.shape[0], query.shape[1], keys.shape[1]
        mask = query.new_zeros(n, q, k) if bias is None else bias.to(query.dtype)
        if key_mask is not None:
            mask = mask.masked_fill(key_mask[:, None, :], float("-inf"))
        mask = mask.repeat_interleave(self.attn.num_heads, dim=0)  # (N * heads, Q, K)
        out, _ = self.attn(
            self.norm_q(query), self.norm_k(keys), self.norm_v(values), attn_mask=mask, need_weights=False
        )
        query = query + out
        return query + self.ff(self.norm_ff(query))


def _fibonacci_sphere(n: int) -> torch.Tensor:
    """``n`` points spread evenly on the unit sphere, shape (n, 3)."""
    i = torch.arange(n, dtype=torch.float64) + 0.5
    z = 1 - 2 * i / n
    phi = math.pi * (1 + math.sqrt(5)) * i
    rho = torch.sqrt(1 - z**2)
    return torch.stack([rho * torch.cos(phi), rho * torch.sin(phi), z], 1).float()


def _transformer(config: TokenizerConfig, n_layers: int) -> nn.ModuleList:
    return nn.ModuleList(
        nn.TransformerEncoderLayer(
            config.d_model,
            config.n_heads,
            4 * config.d_model,
            config.dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        for _ in range(n_layers)
    )


@dataclass
class TokenizerOutput:
    """What :meth:`BrainTokenizer.forward` returns (signals in normalised units)."""

    #: Reconstruction of every valid channel, shape (B, C, T).
    reconstruction: torch.Tensor
    #: The normalised input without noise (the reconstruction target), shape (B, C, T).
    target: torch.Tensor
    #: Token indices, shape (B, F, S, L).
    codes: torch.Tensor
    #: Commitment loss of the quantiser (scalar).
    commitment: torch.Tensor
    #: Normalisation statistics, to return to input units (:func:`neurodec.models.normalize.denormalize`).
    stats: WindowStats


def random_visible(
    valid: torch.Tensor, fraction: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Hide ``floor(fraction * n_valid)`` random valid channels per window (at least one stays visible).

    Parameters
    ----------
    valid : Tensor of bool, shape (B, C)
    fraction : float
    generator : torch.Generator | None

    Returns
    -------
    visible : Tensor of bool, shape (B, C)
    """
    n_valid = valid.sum(1, keepdim=True)  # (B, 1)
    n_hide = torch.minimum((n_valid.float() * fraction).floor().long(), (n_valid - 1).clamp(min=0))
    noise = torch.rand(valid.shape, generator=generator, device=valid.device)
    noise = noise.masked_fill(~valid, 2.0)  # padding sorts last, never hidden
    rank = noise.argsort(1).argsort(1)  # rank of each channel's draw within its window
    return valid & (rank >= n_hide)


class BrainTokenizer(nn.Module):
    """Sensor-aware tokenizer of brain signals (see the module docstring).

    Parameters
    ----------
    config : TokenizerConfig | str
        A config or a named size (``"tiny"``, ``"base"``).
    """

    def __init__(self, config: TokenizerConfig | str = "tiny") -> None:
        super().__init__()
        if isinstance(config, str):
            config = TokenizerConfig.from_size(config)
        self.config = cfg = config
        #: Corpus preprocessing the model was trained with (set from checkpoints; None: defaults).
        self.preprocess: dict[str, Any] | None = None
        d = cfg.d_model
        self.sensor_encoder = SensorEncoder(d)
        if cfg.frame_encoder == "linear":
            self.conv_encoder: nn.Module = PatchEncoder(d, cfg.hop)
            self.conv_decoder: nn.Module = PatchDecoder(d, cfg.hop)
        else:
            self.conv_encoder = ConvEncoder(cfg.conv_channels, d, cfg.conv_strides)
            self.conv_decoder = ConvDecoder(cfg.conv_channels, d, cfg.conv_strides)
        if cfg.spatial_mixing == "basis":
            self.spatial_basis = SpatialBasis(d, cfg.n_sources, cfg.basis_ridge)
        else:
            self.source_queries = nn.Parameter(torch.randn(cfg.n_sources, d) * 0.02)  # (S, d)
            self.source_positions = nn.Parameter(_fibonacci_sphere(cfg.n_sources) * 0.8)  # (S, 3)
            self.source_log_width = nn.Parameter(torch.full((cfg.n_sources,), math.log(0.5)))  # (S,)
            self.source_attention = CrossAttentionBlock(d, cfg.n_heads, cfg.dropout)
            self.channel_attention = CrossAttentionBlock(d, cfg.n_heads, cfg.dropout)
        self.frame_embedding = nn.Parameter(torch.randn(cfg.n_frames, d) * 0.02)  # (F, d)
        self.encoder_layers = _transformer(cfg, cfg.n_encoder_layers)
        self.to_code = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, cfg.code_dim))
        self.quantizer = ResidualVQ(
            cfg.code_dim,
            cfg.codebook_size,
            cfg.n_levels,
            cfg.ema_decay,
            cfg.kmeans_iters,
            cfg.dead_code_patience,
            cfg.restart_buffer,
        )
        self.from_code = nn.Linear(cfg.code_dim, d)
        self.decoder_layers = _transformer(cfg, cfg.n_decoder_layers)

    # ------------------------------------------------------------------ building blocks
    def _check(self, x: torch.Tensor, features: torch.Tensor, type_ids: torch.Tensor) -> None:
        B, C, T = x.shape
        if T != self.config.window_samples:
            raise ValueError(f"windows must have {self.config.window_samples} samples, got {T}")
        if features.shape != (B, C, 6) or type_ids.shape != (B, C):
            raise ValueError(
                f"features must be (B, C, 6) and type_ids (B, C) for x of shape {tuple(x.shape)}; "
                f"got {tuple(features.shape)} and {tuple(type_ids.shape)}"
            )

    def spatial_bias(self, features: torch.Tensor) -> torch.Tensor:
        """Attention bias between sources and channels (``spatial_mixing="attention"``), shape
        (B, S, C): ``-|position_c - position_s|^2 / (2 width_s^2)`` (learned positions and widths)."""
        d2 = (features[:, None, :, :3] - self.source_positions[None, :, None, :]).pow(2).sum(-1)  # (B, S, C)
        return -d2 / (2 * torch.exp(2 * self.source_log_width)[None, :, None])

    def spatial_map(self, sensors: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """What ties channels to sources: the basis W (B, C, S) for ``spatial_mixing="basis"``,
        the attention bias (B, S, C) for ``"attention"``."""
        if self.config.spatial_mixing == "basis":
            return self.spatial_basis(sensors)
        return self.spatial_bias(features)

    def _pool(
        self, h: torch.Tensor, sensors: torch.Tensor, visible: torch.Tensor, spatial: torch.Tensor
    ) -> torch.Tensor:
        """Sources (B, F, S, d) from the channels' frame features h (B, F, C, d)."""
        if self.config.spatial_mixing == "basis":
            return self.spatial_basis.pool(h, spatial, visible)
        B, F_, C, d = h.shape
        S = self.config.n_sources
        values = h.reshape(B * F_, C, d)  # (B*F, C, d): the signal
        keys = (h + sensors[:, None]).reshape(B * F_, C, d)  # (B*F, C, d): signal + where/what sensor
        hidden = (~visible).repeat_interleave(F_, dim=0)  # (B*F, C)
        queries = self.source_queries.expand(B * F_, S, d)  # (B*F, S, d)
        bias = spatial.repeat_interleave(F_, dim=0)  # (B*F, S, C)
        return self.source_attention(queries, keys, values, bias, hidden).reshape(B, F_, S, d)

    def _spread(self, sources: torch.Tensor, sensors: torch.Tensor, spatial: torch.Tensor) -> torch.Tensor:
        """Every channel's frame features (B, F, C, d) from sources (B, F, S, d)."""
        if self.config.spatial_mixing == "basis":
            return self.spatial_basis.spread(sources, spatial)
        B, F_, S, d = sources.shape
        C = sensors.shape[1]
        queries = sensors[:, None] + self.frame_embedding[None, :, None]  # (B, F, C, d)
        bias = spatial.transpose(1, 2).repeat_interleave(F_, dim=0)  # (B*F, C, S)
        src = sources.reshape(B * F_, S, d)
        out = self.channel_attention(queries.reshape(B * F_, C, d), src, src, bias)  # (B*F, C, d)
        return out.reshape(B, F_, C, d)

    def encode_latents(
        self, xn: torch.Tensor, sensors: torch.Tensor, visible: torch.Tensor, spatial: torch.Tensor
    ) -> torch.Tensor:
        """Continuous latents (B, F*S, code_dim) from normalised windows xn (B, C, T);
        ``spatial`` from :meth:`spatial_map`."""
        B, C, T = xn.shape
        cfg = self.config
        F_, S, d = cfg.n_frames, cfg.n_sources, cfg.d_model
        h = self.conv_encoder(xn.reshape(B * C, 1, T))  # (B*C, d, F)
        h = h.reshape(B, C, d, F_).permute(0, 3, 1, 2)  # (B, F, C, d)
        z = self._pool(h, sensors, visible, spatial)  # (B, F, S, d)
        z = (z + self.frame_embedding[None, :, None]).reshape(B, F_ * S, d)
        for layer in self.encoder_layers:
            z = layer(z)
        return self.to_code(z)  # (B, F*S, code_dim)

    def decode_latents(self, zq: torch.Tensor, sensors: torch.Tensor, spatial: torch.Tensor) -> torch.Tensor:
        """Normalised signals (B, C, T) of every channel from quantised latents (B, F*S, code_dim);
        ``spatial`` from :meth:`spatial_map`."""
        cfg = self.config
        B, C, _ = sensors.shape
        F_, S, d = cfg.n_frames, cfg.n_sources, cfg.d_model
        z = self.from_code(zq)  # (B, F*S, d)
        for layer in self.decoder_layers:
            z = layer(z)
        out = self._spread(z.reshape(B, F_, S, d), sensors, spatial)  # (B, F, C, d)
        out = out.permute(0, 2, 3, 1).reshape(B * C, d, F_)  # (B*C, d, F)
        return self.conv_decoder(out).reshape(B, C, cfg.window_samples)  # (B, C, T)

    # ------------------------------------------------------------------ public
    def forward(
        self,
        x: torch.Tensor,
        features: torch.Tensor,
        type_ids: torch.Tensor,
        valid: torch.Tensor | None = None,
        visible: torch.Tensor | None = None,
        noise: torch.Tensor | None = None,
        quantize: bool = True,
    ) -> TokenizerOutput:
        """Tokenize and reconstruct windows.

        Parameters
        ----------
        x : Tensor, shape (B, C, T)
            Windows (any units; normalised inside per window and sensor type).
        features : Tensor, shape (B, C, 6)
            :func:`neurodec.sensors.sensor_features` of each channel.
        type_ids : Tensor of int64, shape (B, C)
        valid : Tensor of bool, shape (B, C), optional
            False for padding channels (default: all valid).
        visible : Tensor of bool, shape (B, C), optional
            Channels the encoder sees (default: ``valid``); the others are reconstructed.
        noise : Tensor, shape (B, C, T), optional
            Added to the normalised input of the encoder (training).
        quantize : bool
            False passes the continuous latents to the decoder (the codebooks are neither
            used nor updated; ``codes`` are then -1): the warm-up of the first training
            steps, so that k-means initialises the codebooks on informative latents.

        Returns
        -------
        TokenizerOutput
        """
        self._check(x, features, type_ids)
        valid = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device) if valid is None else valid.bool()
        visible = valid if visible is None else visible.bool() & valid
        if not bool(visible.any(1).all()):
            raise ValueError("every window needs at least one visible channel")
        target, stats = normalize(x, type_ids, valid, visible)  # (B, C, T)
        xin = target if noise is None else target + noise * valid[..., None]
        xin = xin * visible[..., None]
        sensors = self.sensor_encoder(features, type_ids)  # (B, C, d)
        spatial = self.spatial_map(sensors, features)
        z = self.encode_latents(xin, sensors, visible, spatial)  # (B, F*S, code_dim)
        cfg = self.config
        if quantize:
            vq = self.quantizer(z)
            zq, codes, commitment = vq.quantized, vq.codes, vq.commitment
        else:
            zq, commitment = z, z.new_zeros(())
            codes = torch.full((*z.shape[:-1], cfg.n_levels), -1, dtype=torch.long, device=z.device)
        recon = self.decode_latents(zq, sensors, spatial) * valid[..., None]  # (B, C, T)
        codes = codes.reshape(x.shape[0], cfg.n_frames, cfg.n_sources, cfg.n_levels)
        return TokenizerOutput(recon, target, codes, commitment, stats)

    @torch.no_grad()
    def tokenize(
        self,
        x: torch.Tensor,
        features: torch.Tensor,
        type_ids: torch.Tensor,
        valid: torch.Tensor | None = None,
        visible: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Token indices (B, F, S, L) of windows (no reconstruction, no codebook update)."""
        self._check(x, features, type_ids)
        valid = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device) if valid is None else valid.bool()
        visible = valid if visible is None else visible.bool() & valid
        xn, _ = normalize(x, type_ids, valid, visible)
        sensors = self.sensor_encoder(features, type_ids)
        z = self.encode_latents(
            xn * visible[..., None], sensors, visible, self.spatial_map(sensors, features)
        )
        cfg = self.config
        return self.quantizer.encode(z).reshape(x.shape[0], cfg.n_frames, cfg.n_sources, cfg.n_levels)

    @torch.no_grad()
    def decode_tokens(
        self, codes: torch.Tensor, features: torch.Tensor, type_ids: torch.Tensor
    ) -> torch.Tensor:
        """Normalised signals (B, C, T) of the given channels from token indices (B, F, S, L)."""
        B = codes.shape[0]
        zq = self.quantizer.decode(codes.reshape(B, -1, self.config.n_levels))  # (B, F*S, code_dim)
        sensors = self.sensor_encoder(features, type_ids)
        return self.decode_latents(zq, sensors, self.spatial_map(sensors, features))

    def n_parameters(self) -> int:
        """Number of trainable parameters."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    # ------------------------------------------------------------------ users (see inference.py)
    def encode(self, inst: Any, **kwargs: Any) -> Any:
        """Tokens of an ``mne.io.Raw`` / ``mne.Epochs`` (see :func:`neurodec.models.inference.encode`)."""
        from neurodec.models.inference import encode

        return encode(self, inst, **kwargs)

    def reconstruct(self, raw: Any, bads: list[str] | None = None, **kwargs: Any) -> Any:
        """Repair bad channels of a Raw (see :func:`neurodec.models.inference.reconstruct`)."""
        from neurodec.models.inference import reconstruct

        return reconstruct(self, raw, bads=bads, **kwargs)

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, map_location: str = "cpu") -> BrainTokenizer:
        """A model (eval mode) from a checkpoint written by :mod:`neurodec.models.pretrain`."""
        from neurodec.models.checkpoint import load_model

        return load_model(path, map_location=map_location)
