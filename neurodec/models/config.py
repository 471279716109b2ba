"""Model configs as dataclasses: ``TokenizerConfig`` (brain tokenizer) and ``ModelConfig`` (backbone).

A config fully describes a model: it is saved in checkpoints and compared on resume.
Tokenizer sizes (:data:`SIZES`): ``"tiny"`` (tests and CI, ~40 k parameters) and ``"base"``
(the benchmark model). Backbone sizes (:data:`MODEL_SIZES`): ``"test"`` (CPU tests in
seconds), ``"tiny"`` (256-d, 8 heads, 12 layers) and ``"base"`` (512-d, 16 heads, 12 layers).
Override any field::

    cfg = TokenizerConfig.from_size("base", n_levels=2)
    model_cfg = ModelConfig.from_size("tiny", context_windows=4)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from neurodec.errors import ConfigError

__all__ = [
    "TokenizerConfig",
    "SIZES",
    "ModelConfig",
    "MODEL_SIZES",
    "PHASE_WEIGHTINGS",
    "FRAME_ENCODERS",
    "SPATIAL_MIXINGS",
]

#: How the phase loss weighs frequency bins (see :mod:`neurodec.models.losses`).
PHASE_WEIGHTINGS = ("amplitude", "uniform")
#: The tokenizer's per-channel frame encoders and spatial mixings (see :mod:`neurodec.models.tokenizer`).
FRAME_ENCODERS = ("linear", "conv")
SPATIAL_MIXINGS = ("basis", "attention")


class _NamedConfig:
    """What both configs share: named sizes, dict round trips, differences (``name`` ignored)."""

    #: Label in error messages, and the named sizes (set by each subclass).
    _label = "config"
    _sizes: dict[str, dict[str, Any]] = {}
    _tuple_fields: tuple[str, ...] = ()

    @classmethod
    def from_size(cls, size: str, **overrides: Any):
        """A named size with fields overridden."""
        if size not in cls._sizes:
            raise ConfigError(f"unknown {cls._label} size {size!r}; choose one of {sorted(cls._sizes)}")
        return cls.from_dict({**cls._sizes[size], "name": size, **overrides})

    @classmethod
    def from_dict(cls, values: dict[str, Any]):
        """Build from a dict (a checkpoint's or a YAML file's); unknown keys are an error."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{cls.__name__}: unknown field(s) {unknown}; known: {sorted(known)}")
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"{cls.__name__}: {exc}") from exc

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (lists for tuples), for checkpoints and YAML."""
        out = dataclasses.asdict(self)
        for name in self._tuple_fields:
            out[name] = list(out[name])
        return out

    def differences(self, other: Any) -> dict[str, tuple[Any, Any]]:
        """``{field: (self value, other value)}`` for the fields that differ (``name`` ignored)."""
        a, b = self.to_dict(), other.to_dict()
        return {k: (a[k], b.get(k)) for k in a if k != "name" and a[k] != b.get(k)}


@dataclass(frozen=True)
class TokenizerConfig(_NamedConfig):
    """Sizes and options of :class:`neurodec.models.BrainTokenizer`.

    Signal (the preprocessing the model expects; see :mod:`neurodec.corpus.preprocess`):
    ``sfreq`` Hz, windows of ``window_samples`` samples. Encoder: each channel's frames of
    ``hop`` samples (``hop`` = product of ``conv_strides``, so ``window_samples / hop``
    frames) become ``d_model`` features by one linear map (``frame_encoder="linear"``) or
    strided convolutions with ``conv_strides`` and ``conv_channels`` filters (``"conv"``);
    ``n_sources`` sources per frame: ridge least-squares coefficients of a learned spatial
    basis (``spatial_mixing="basis"``, relative ridge ``basis_ridge``) or learned queries
    that cross-attend over the channels (``"attention"``); ``n_encoder_layers`` transformer layers mix the
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
    frame_encoder: str = "linear"
    spatial_mixing: str = "basis"
    basis_ridge: float = 1e-2
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
                self.frame_encoder in FRAME_ENCODERS,
                f"frame_encoder must be one of {FRAME_ENCODERS}, got {self.frame_encoder!r}",
            ),
            (
                self.spatial_mixing in SPATIAL_MIXINGS,
                f"spatial_mixing must be one of {SPATIAL_MIXINGS}, got {self.spatial_mixing!r}",
            ),
            (self.basis_ridge > 0, f"basis_ridge must be > 0, got {self.basis_ridge}"),
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
TokenizerConfig._label, TokenizerConfig._sizes = "tokenizer", SIZES
TokenizerConfig._tuple_fields = ("conv_strides",)


@dataclass(frozen=True)
class ModelConfig(_NamedConfig):
    """Sizes and options of :class:`neurodec.models.FoundationModel` (the masked-token backbone).

    Input grid (from the tokenizer; :meth:`for_tokenizer` copies them): ``n_levels`` RVQ
    levels of ``codebook_size`` codes, ``n_sources`` sources and ``frames_per_window``
    frames per 2-s window. Context: segments of ``context_windows`` consecutive windows
    (15 = 30 s), consecutive segments overlapping by ``segment_overlap``. Transformer:
    ``n_layers`` criss-cross blocks of width ``d_model`` (half temporal attention with
    rotary positions of base ``rope_base``, half spatial attention over the sources;
    ``n_heads`` heads in all, half per direction), feed-forward ``mlp_ratio * d_model``.
    Pretraining: ``mask_ratio`` of the (frame, source) positions are masked, all levels at
    once, by a learned mask embedding (``mask_mode="token"``) or random codes
    (``"random"``); the head predicts the 4 levels of every position.
    """

    d_model: int = 256
    n_heads: int = 8
    n_layers: int = 12
    mlp_ratio: int = 4
    dropout: float = 0.0
    codebook_size: int = 512
    n_levels: int = 4
    n_sources: int = 16
    frames_per_window: int = 8
    context_windows: int = 15
    segment_overlap: float = 0.25
    mask_ratio: float = 0.5
    mask_mode: str = "token"
    rope_base: float = 10000.0
    name: str = field(default="custom", compare=False)

    def __post_init__(self) -> None:
        checks = [
            (
                self.n_heads >= 2 and self.n_heads % 2 == 0,
                f"n_heads ({self.n_heads}) must be even (half per direction)",
            ),
            (self.d_model % self.n_heads == 0, f"d_model ({self.d_model}) must be a multiple of n_heads"),
            ((self.d_model // self.n_heads) % 2 == 0, "d_model / n_heads must be even (rotary positions)"),
            (0 < self.mask_ratio < 1, f"mask_ratio must be in (0, 1), got {self.mask_ratio}"),
            (0 <= self.segment_overlap < 1, f"segment_overlap must be in [0, 1), got {self.segment_overlap}"),
            (
                self.mask_mode in ("token", "random"),
                f"mask_mode must be 'token' or 'random', got {self.mask_mode!r}",
            ),
            (
                min(self.n_layers, self.mlp_ratio, self.n_levels, self.n_sources, self.frames_per_window) >= 1
                and self.context_windows >= 1
                and self.codebook_size >= 2,
                "sizes must be >= 1 (codebook_size >= 2)",
            ),
        ]
        for ok, msg in checks:
            if not ok:
                raise ConfigError(f"ModelConfig: {msg}")

    @property
    def head_dim(self) -> int:
        """Width of one attention head."""
        return self.d_model // self.n_heads

    @property
    def context_frames(self) -> int:
        """Frames of a full context (``context_windows * frames_per_window``)."""
        return self.context_windows * self.frames_per_window

    @property
    def segment_stride(self) -> int:
        """Windows between the starts of consecutive pretraining segments."""
        return max(1, round(self.context_windows * (1 - self.segment_overlap)))

    def for_tokenizer(self, tokenizer: TokenizerConfig) -> ModelConfig:
        """This config with the token grid of ``tokenizer`` (codebook size, levels, sources, frames)."""
        return dataclasses.replace(self, **grid_of(tokenizer))

    def check_tokenizer(self, tokenizer: TokenizerConfig) -> None:
        """Raise :class:`ConfigError` if ``tokenizer`` makes another token grid than this model reads."""
        wanted = grid_of(tokenizer)
        diff = {k: (getattr(self, k), v) for k, v in wanted.items() if getattr(self, k) != v}
        if diff:
            shown = ", ".join(f"{k}: model {a}, tokenizer {b}" for k, (a, b) in diff.items())
            raise ConfigError(f"the backbone does not read this tokenizer's tokens ({shown})")


def grid_of(tokenizer: TokenizerConfig) -> dict[str, int]:
    """The token-grid fields of a :class:`ModelConfig` that a tokenizer config fixes."""
    return {
        "codebook_size": tokenizer.codebook_size,
        "n_levels": tokenizer.n_levels,
        "n_sources": tokenizer.n_sources,
        "frames_per_window": tokenizer.n_frames,
    }


#: Backbone sizes. ``test``: CPU tests in seconds; ``tiny``/``base``: BrainOmni's widths.
MODEL_SIZES: dict[str, dict[str, Any]] = {
    "test": {"d_model": 32, "n_heads": 2, "n_layers": 2, "context_windows": 2},
    "tiny": {"d_model": 256, "n_heads": 8, "n_layers": 12},
    "base": {"d_model": 512, "n_heads": 16, "n_layers": 12},
}
ModelConfig._label, ModelConfig._sizes = "backbone", MODEL_SIZES
