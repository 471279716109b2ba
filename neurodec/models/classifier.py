"""``FoundationClassifier``: the brain foundation model as a scikit-learn classifier.

Trials -> the tokenizer's preprocessing (:func:`neurodec.corpus.preprocess.preprocess_epochs`:
band-pass, notch, 256 Hz, common average, per-epoch scale; windows of 2 s covering each
trial) -> tokens (B, W, F, S, L) -> backbone features (B, W*F, S, d) -> mean over frames
(sources kept apart: each is a place) -> a linear or MLP head -> class probabilities.

**Fine-tuning goes through the discrete tokens.** The tokenizer is frozen and its
tokens are what the backbone was pretrained on, so a fine-tuned backbone reads exactly
the inputs it learned (the continuous pre-quantisation latents were never its input:
reading them would need a new input layer, i.e. a distribution the pretrained weights
never saw). Tokens are computed once per ``fit`` / ``predict`` call, so each training
epoch costs the backbone alone.

Three uses:

* ``checkpoint=<foundation.pt>``: pretrained backbone and its tokenizer, fine-tuned
  end to end with the head (``freeze_backbone=False``);
* ``checkpoint=<foundation.pt>, freeze_backbone=True``: the backbone is frozen, its
  features computed once, only a linear (``probe="linear"``) or MLP probe is trained;
* ``checkpoint=None``: the same architecture from scratch (size ``size``), on the tokens of
  ``tokenizer`` (a tokenizer checkpoint). Without any tokenizer, a fresh ``tiny``
  tokenizer with codebooks initialised by k-means on the training windows is used (for
  tests; its tokens carry little).
"""

from __future__ import annotations

import logging
from typing import Any

import mne
import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn

from neurodec.corpus.preprocess import PreprocessOptions, cover_windows, preprocess_epochs
from neurodec.errors import InvalidInputError
from neurodec.models.backbone import FoundationModel
from neurodec.models.checkpoint import load_model
from neurodec.models.config import ModelConfig
from neurodec.models.pretrain_backbone import load_foundation
from neurodec.models.tokenizer import BrainTokenizer
from neurodec.models.training import optimizer_and_schedule
from neurodec.sensors import SENSOR_TYPES, model_channels, sensor_features, sensor_table
from neurodec.versioning import VersionedStateMixin

__all__ = ["FoundationClassifier"]

logger = logging.getLogger(__name__)


def pool(features: torch.Tensor) -> torch.Tensor:
    """Mean over frames, sources kept apart (each source is a place): (B, T, S, d) -> (B, S, d)."""
    return features.mean(dim=1)


class _Head(nn.Module):
    """A linear or MLP probe on the pooled features of each source: (B, S, d) -> (B, n_classes)."""

    def __init__(self, d: int, n_sources: int, n_classes: int, kind: str) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(d)
        width = n_sources * d
        layers: list[nn.Module] = [nn.Linear(width, d), nn.GELU()] if kind == "mlp" else []
        layers.append(nn.Linear(d if kind == "mlp" else width, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.net(self.norm(pooled).flatten(1))


class FoundationClassifier(VersionedStateMixin, ClassifierMixin, BaseEstimator):
    """Classify trials with the brain foundation model (see the module docstring).

    Parameters
    ----------
    checkpoint : str | None
        A backbone checkpoint (``foundation.pt`` of ``neurodec pretrain``, holding its
        tokenizer). None: a backbone of size ``size`` from scratch.
    size : str
        Backbone size when ``checkpoint`` is None (``"test"``, ``"tiny"``, ``"base"``).
    freeze_backbone : bool
        Train only the probe on frozen backbone features.
    max_epochs : int
        Passes over the training trials.
    info : mne.Info | None
        Channels of array inputs (names, types, positions, sampling rate); taken from the
        data when ``fit`` gets ``mne.Epochs``.
    random_state : int | RandomState | None
        Seeds initialisation and batch order; an int makes ``fit`` reproducible.
    tokenizer : str | None
        Tokenizer checkpoint for ``checkpoint=None`` (ignored with a checkpoint, which holds one).
    probe : {"linear", "mlp"}
        Head on the mean backbone features.
    lr : float
        Peak learning rate of the head; the backbone's is ``lr * backbone_lr_ratio``.
    backbone_lr_ratio : float
        Backbone learning rate relative to ``lr`` when fine-tuning.
    weight_decay : float
    batch_size : int
    model_options : dict | None
        :class:`~neurodec.models.ModelConfig` fields overriding ``size`` (from scratch only).
    device : str
        ``"cpu"``, ``"cuda"`` or ``"auto"``.
    verbose : bool
        Log the loss of every epoch.

    Attributes
    ----------
    classes_ : ndarray
    backbone_ : FoundationModel
    tokenizer_ : BrainTokenizer
    head_ : torch.nn.Module
    ch_names_ : list of str
        The channels of the training data the model used.
    """

    #: The evaluation engine gives steps with this attribute the ``mne.Info`` of the epochs
    #: as ``<step>__info`` at fit (arrays carry no channel positions).
    requires_info = True

    def __init__(
        self,
        checkpoint: str | None = None,
        size: str = "tiny",
        freeze_backbone: bool = False,
        max_epochs: int = 30,
        info: mne.Info | None = None,
        random_state: Any = None,
        tokenizer: str | None = None,
        probe: str = "linear",
        lr: float = 1e-3,
        backbone_lr_ratio: float = 0.1,
        weight_decay: float = 0.01,
        batch_size: int = 32,
        model_options: dict | None = None,
        device: str = "cpu",
        verbose: bool = False,
    ) -> None:
        self.checkpoint = checkpoint
        self.size = size
        self.freeze_backbone = freeze_backbone
        self.max_epochs = max_epochs
        self.info = info
        self.random_state = random_state
        self.tokenizer = tokenizer
        self.probe = probe
        self.lr = lr
        self.backbone_lr_ratio = backbone_lr_ratio
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.model_options = model_options
        self.device = device
        self.verbose = verbose

    # ------------------------------------------------------------------ inputs
    def _signals(self, X: Any, info: mne.Info | None) -> tuple[np.ndarray, mne.Info]:
        if isinstance(X, mne.BaseEpochs):
            return X.get_data(), X.info
        X = np.asarray(X)
        if X.ndim != 3:
            raise InvalidInputError(
                f"FoundationClassifier takes mne.Epochs or arrays (n, C, T), got shape {X.shape}"
            )
        for fallback in (self.info, getattr(self, "info_", None)):
            info = fallback if info is None else info
        if info is None:
            raise InvalidInputError(
                "FoundationClassifier needs channel positions: pass mne.Epochs, or arrays and info=mne.Info"
            )
        if len(info["ch_names"]) != X.shape[1]:
            raise InvalidInputError(f"info has {len(info['ch_names'])} channels, the data {X.shape[1]}")
        return X, info

    def _windows(self, X: Any, info: mne.Info | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """(n, W, C, T) windows, features (C, 6), type ids (C,) and channel names."""
        data, info = self._signals(X, info)
        table = sensor_table(info)
        usable = model_channels(table)
        if not usable.any():
            raise InvalidInputError("no channel the model can use (EEG/MEG/sEEG/ECoG with positions)")
        sensors = table[usable].reset_index(drop=True)
        types = np.array([SENSOR_TYPES.index(t) for t in sensors["type"]])
        options = PreprocessOptions(**(self.tokenizer_.preprocess or {}))
        pre = preprocess_epochs(
            data[:, usable], float(info["sfreq"]), types, options, line_freq=info.get("line_freq")
        )
        feats, type_ids = sensor_features(sensors)
        return cover_windows(pre, options.window_samples), feats, type_ids, list(sensors["name"])

    @torch.no_grad()
    def _tokens(self, windows: np.ndarray, feats: np.ndarray, types: np.ndarray) -> torch.Tensor:
        """Token grids (n, W, F, S, L) of windows (n, W, C, T) (see :meth:`_windows`)."""
        n, W = windows.shape[:2]
        flat = torch.from_numpy(windows.reshape(n * W, *windows.shape[2:]))
        f, t = torch.from_numpy(feats), torch.from_numpy(types)
        self.tokenizer_.eval()
        codes = [
            self.tokenizer_.tokenize(x, f.expand(len(x), -1, -1), t.expand(len(x), -1))
            for x in flat.split(4 * self.batch_size)
        ]
        return torch.cat(codes).reshape(n, W, *codes[0].shape[1:])

    # ------------------------------------------------------------------ models
    def _device(self) -> torch.device:
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def _build(self, X: Any, info: mne.Info | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Tokenizer and backbone; returns :meth:`_windows` of ``X`` (with the tokenizer's preprocessing)."""
        if self.checkpoint is not None:
            self.backbone_, self.tokenizer_ = load_foundation(self.checkpoint)
            return self._windows(X, info)
        if self.tokenizer is not None:
            self.tokenizer_ = load_model(self.tokenizer)
        else:  # a fresh tokenizer, codebooks k-means initialised on the training windows
            self.tokenizer_ = BrainTokenizer("tiny")
            self.tokenizer_.preprocess = PreprocessOptions().to_dict()
            windows, feats, types, _ = self._windows(X, info)
            flat = torch.from_numpy(windows.reshape(-1, *windows.shape[2:])[:512])
            f, t = torch.from_numpy(feats), torch.from_numpy(types)
            with torch.no_grad():
                self.tokenizer_.train()(flat, f.expand(len(flat), -1, -1), t.expand(len(flat), -1))
            self.tokenizer_.eval()
        config = ModelConfig.from_size(self.size, **(self.model_options or {}))
        self.backbone_ = FoundationModel(config.for_tokenizer(self.tokenizer_.config))
        return self._windows(X, info)

    def fit(self, X: Any, y: Any = None, info: mne.Info | None = None) -> FoundationClassifier:
        """Fit on trials.

        Parameters
        ----------
        X : mne.Epochs | ndarray, shape (n_trials, n_channels, n_times)
        y : array-like, shape (n_trials,) | None
            Labels (default for Epochs: the event names).
        info : mne.Info | None
            Channels of array ``X`` (overrides the ``info`` parameter).
        """
        if self.probe not in ("linear", "mlp"):
            raise InvalidInputError(f"probe must be 'linear' or 'mlp', got {self.probe!r}")
        if y is None:
            if not isinstance(X, mne.BaseEpochs):
                raise InvalidInputError("y is needed with array inputs")
            names = {v: k for k, v in X.event_id.items()}
            y = np.array([names[c] for c in X.events[:, 2]])
        y = np.asarray(y)
        if len(y) != len(X):
            raise InvalidInputError(f"{len(X)} trials but {len(y)} labels")
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        device = self._device()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            windows, feats, types, self.ch_names_ = self._build(X, info)
            self.info_ = self._signals(X, info)[1]
            codes = self._tokens(windows, feats, types)
            cfg = self.backbone_.config
            self.head_ = _Head(cfg.d_model, cfg.n_sources, len(self.classes_), self.probe)
            self._train(codes, torch.from_numpy(y_idx), seed, device)
        self.backbone_.to("cpu").eval()
        self.head_.to("cpu").eval()
        return self

    def _train(self, codes: torch.Tensor, y: torch.Tensor, seed: int, device: torch.device) -> None:
        backbone, head = self.backbone_.to(device), self.head_.to(device)
        if self.freeze_backbone:
            backbone.eval().requires_grad_(False)
            with torch.no_grad():  # features once: (n, d)
                inputs = torch.cat(
                    [pool(backbone.encode(c.to(device))) for c in codes.split(self.batch_size)]
                )
            groups = [{"params": head.parameters(), "lr": self.lr}]
        else:
            backbone.train().requires_grad_(True)
            inputs = codes
            groups = [
                {"params": head.parameters(), "lr": self.lr},
                {"params": backbone.parameters(), "lr": self.lr * self.backbone_lr_ratio},
            ]
        n = len(y)
        per_epoch = max(1, -(-n // self.batch_size))
        steps = self.max_epochs * per_epoch
        optimizer, scheduler = optimizer_and_schedule(
            groups,
            lr=self.lr,
            weight_decay=self.weight_decay,
            warmup_steps=min(per_epoch, steps // 10),
            steps=steps,
            min_lr_ratio=0.1,
        )
        gen = torch.Generator().manual_seed(seed)
        for epoch in range(self.max_epochs):
            order = torch.randperm(n, generator=gen)
            total = 0.0
            for idx in order.split(self.batch_size):
                x = inputs[idx].to(device)
                feats = x if self.freeze_backbone else pool(backbone.encode(x))
                loss = nn.functional.cross_entropy(head(feats), y[idx].to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_([p for g in groups for p in g["params"]], 1.0)
                optimizer.step()
                scheduler.step()
                total += float(loss.detach()) * len(idx)
            if self.verbose:
                logger.info("epoch %d: loss %.4f", epoch + 1, total / n)
        if self.freeze_backbone:
            backbone.requires_grad_(True)

    # ------------------------------------------------------------------ prediction
    @torch.no_grad()
    def predict_proba(self, X: Any, info: mne.Info | None = None) -> np.ndarray:
        """Class probabilities, shape (n_trials, n_classes)."""
        check_is_fitted(self, "head_")
        codes = self._tokens(*self._windows(X, info)[:3])
        self.backbone_.eval()
        self.head_.eval()
        out = [
            torch.softmax(self.head_(pool(self.backbone_.encode(c))), -1)
            for c in codes.split(self.batch_size)
        ]
        return torch.cat(out).numpy().astype(np.float64)

    def predict(self, X: Any, info: mne.Info | None = None) -> np.ndarray:
        """Most probable class of each trial."""
        proba = self.predict_proba(X, info)
        return self.classes_[proba.argmax(1)]
