"""``TokenizerConfig``: every size and option of the brain tokenizer, as a dataclass.

A config fully describes a model: it is saved in checkpoints and compared on resume.
Named sizes (:data:`SIZES`): ``"tiny"`` (tests and CI, ~40 k parameters) and ``"base"``
(the benchmark model). Override any field::

    cfg = TokenizerConfig.from_size("base", n_levels=2)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from neurodec.errors import ConfigError

__all__ = ["TokenizerConfig", "SIZES", "PHASE_WEIGHTINGS"]

#: How the phase loss weighs frequency bins (see :mod:`neurodec.models.losses`).
PHASE_WEIGHTINGS = ("amplitude", "uniform")


@dataclass(frozen=True)
class TokenizerConfig:
    """Sizes and options of :class:`neurodec.models.BrainTokenizer`.

    Signal (the preprocessing the model expects; see :mod:`neurodec.corpus.preprocess`):
    ``sfreq`` Hz, windows of ``window_samples`` samples. Encoder: per-channel strided
    convolutions with ``conv_strides`` (product = hop, so ``window_samples / hop`` frames),
    ``conv_channels`` filters; ``n_sources`` learned source queries cross-attend over the
    channels of each frame; ``n_encoder_layers`` transformer layers mix the
    ``n_sources x n_frames`` latents. Quantiser: ``n_levels`` residual levels of
    ``codebook_size`` codes of dimension ``code_dim``, EMA updates (``ema_decay``),
    k-means initialisation (``kmeans_iters``) and dead-code restart (a code not chosen in
    ``dead_code_patience`` training batches moves onto one of the last ``restart_buffer``
    encoder outputs).
    Decoder: ``n_decoder_layers`` transformer layers, then each channel's sensor
    embedding queries the sources of each frame and transposed convolutions return to
    the signal. Training: ``hide_fraction`` of the channels are hidden from the encoder,
    Gaussian noise ``noise_std`` is added to the visible ones; loss weights below, and
    ``phase_weighting`` (``"amplitude"`` or ``"uniform"``) and ``standardize_loss`` (see
    :mod:`neurodec.models.losses`).
    """

    d_model: int = 32
    n_heads: int = 2
    conv_channels: int = 16
    conv_strides: tuple[int, ...] = (4, 4, 4)
    n_sources: int = 16
    n_encoder_layers: int = 1
    n_decoder_layers: int = 1
    code_dim: int = 16
    codebook_size: int = 64
    n_levels: int = 2
    ema_decay: float = 0.99
    kmeans_iters: int = 10
    dead_code_patience: int = 8
    restart_buffer: int = 4096
    dropout: float = 0.0
    sfreq: float = 256.0
    window_samples: int = 512
    hide_fraction: float = 0.25
    noise_std: float = 0.1
    commitment_weight: float = 1.0
    amplitude_weight: float = 1.0
    phase_weight: float = 0.5
    phase_weighting: str = "amplitude"
    standardize_loss: bool = True
    spectrum_max_hz: float = 96.0
    name: str = field(default="custom", compare=False)

    def __post_init__(self) -> None:
        checks = [
            (self.d_model % self.n_heads == 0, f"d_model ({self.d_model}) must be a multiple of n_heads"),
            (self.window_samples % self.hop == 0, f"window_samples must be a multiple of hop ({self.hop})"),
            (all(s >= 2 for s in self.conv_strides), "conv_strides must all be >= 2"),
            (0 <= self.hide_fraction < 1, "hide_fraction must be in [0, 1)"),
            (0 < self.ema_decay < 1, "ema_decay must be in (0, 1)"),
            (self.codebook_size >= 2 and self.n_levels >= 1, "need codebook_size >= 2 and n_levels >= 1"),
            (min(self.d_model, self.code_dim, self.n_sources, self.conv_channels) >= 1, "sizes must be >= 1"),
            (
                self.phase_weighting in PHASE_WEIGHTINGS,
                f"phase_weighting must be one of {PHASE_WEIGHTINGS}, got {self.phase_weighting!r}",
            ),
        ]
        for ok, msg in checks:
            if not ok:
                raise ConfigError(f"TokenizerConfig: {msg}")
        object.__setattr__(self, "conv_strides", tuple(int(s) for s in self.conv_strides))

    @property
    def hop(self) -> int:
        """Samples per latent frame (product of the convolution strides)."""
        return math.prod(self.conv_strides)

    @property
    def n_frames(self) -> int:
        """Latent frames per window."""
        return self.window_samples // self.hop

    @property
    def window_s(self) -> float:
        """Window length in seconds."""
        return self.window_samples / self.sfreq

    @classmethod
    def from_size(cls, size: str, **overrides: Any) -> TokenizerConfig:
        """A named size (see :data:`SIZES`) with fields overridden."""
        if size not in SIZES:
            raise ConfigError(f"unknown tokenizer size {size!r}; choose one of {sorted(SIZES)}")
        return cls.from_dict({**SIZES[size], "name": size, **overrides})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TokenizerConfig:
        """Build from a dict (a checkpoint's or a YAML file's); unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"TokenizerConfig: unknown field(s) {unknown}; known: {sorted(known)}")
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"TokenizerConfig: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (lists for tuples), for checkpoints and YAML."""
        out = dataclasses.asdict(self)
        out["conv_strides"] = list(self.conv_strides)
        return out

    def differences(self, other: TokenizerConfig) -> dict[str, tuple[Any, Any]]:
        """``{field: (self value, other value)}`` for the fields that differ (``name`` ignored)."""
        a, b = self.to_dict(), other.to_dict()
        return {k: (a[k], b[k]) for k in a if k != "name" and a[k] != b[k]}


#: Named sizes. ``tiny``: CPU tests in seconds. ``base``: 4 x 512 codes as in BrainOmni.
SIZES: dict[str, dict[str, Any]] = {
    "tiny": {},
    "base": {
        "d_model": 96,
        "n_heads": 4,
        "conv_channels": 48,
        "n_encoder_layers": 2,
        "n_decoder_layers": 2,
        "code_dim": 32,
        "codebook_size": 512,
        "n_levels": 4,
    },
}
