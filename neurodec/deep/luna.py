"""braindecode's LUNA, given each channel's position, as a scikit-learn classifier.

LUNA (Döner et al., NeurIPS 2025) embeds every channel's 3-D position and merges the
channels through learned queries, so the network does not depend on channel order
or count. braindecode's ``LUNA.forward`` takes the positions per batch
(``channel_locations``); without them it falls back to positions on a line, silently.
:class:`LUNAClassifier` reads them from the epochs' ``mne.Info`` (EEG channels without
a position get the same-named channel's position in a standard montage) and gives them
to every batch. Trained from scratch: braindecode ships no pretrained weights, and
nothing is downloaded here.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

import mne
import numpy as np
import torch
from braindecode.models import LUNA
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted, check_random_state
from skorch import NeuralNetClassifier
from torch import nn

from neurodec.errors import InvalidInputError
from neurodec.sensors.montage import fill_positions
from neurodec.versioning import VersionedStateMixin

__all__ = ["LUNAClassifier", "channel_positions"]

log = logging.getLogger(__name__)


def channel_positions(info: mne.Info, montage: str | None = "standard_1005") -> np.ndarray:
    """``(n_channels, 3)`` positions of the channels of ``info``, in its order.

    Parameters
    ----------
    info : mne.Info
        The epochs' info (one row per channel of ``X``). Not modified.
    montage : str | None
        Standard montage whose same-named channel positions fill EEG channels that have
        none (:func:`neurodec.sensors.montage.fill_positions`); ``None``: every channel
        must have its own.

    Raises
    ------
    MissingPositionsError
        EEG channels without a position and without a same-named montage channel.
    InvalidInputError
        Channels are left without a position.
    """
    info = copy.deepcopy(info)
    if montage is not None:
        fill_positions(info, montage, on_missing="raise")
    pos = np.array([ch["loc"][:3] for ch in info["chs"]], dtype=np.float64)
    bad = [info["ch_names"][i] for i in np.flatnonzero(~np.isfinite(pos).all(1) | (np.abs(pos).sum(1) == 0))]
    if bad:
        raise InvalidInputError(
            f"LUNA needs every channel's position; {len(bad)} channel(s) have none: {bad[:5]}; "
            "set a montage on the data (raw.set_montage) or pass montage='standard_1005'"
        )
    return pos


class _PositionedLUNA(nn.Module):
    """LUNA with fixed channel positions, handed to it on every batch."""

    def __init__(self, luna: nn.Module, positions: np.ndarray) -> None:
        super().__init__()
        self.luna = luna
        self.register_buffer("positions", torch.as_tensor(positions, dtype=torch.float32))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        locs = self.positions.to(X.dtype).unsqueeze(0).expand(X.shape[0], -1, -1)
        return self.luna(X, channel_locations=locs)


def _as_array(X: Any) -> tuple[np.ndarray, mne.Info | None]:
    """``(X in µV as float32, info)`` of epochs; arrays as they are (the engine's µV)."""
    if isinstance(X, mne.BaseEpochs):
        return (X.get_data(copy=False) * 1e6).astype(np.float32), X.info
    X = np.asarray(X)
    if X.ndim != 3:
        raise InvalidInputError(f"LUNAClassifier takes (n_trials, n_channels, n_times) arrays, got {X.shape}")
    return X.astype(np.float32, copy=False), None


class LUNAClassifier(VersionedStateMixin, ClassifierMixin, BaseEstimator):
    """braindecode's LUNA trained from scratch, with the channels' real positions.

    Parameters
    ----------
    info : mne.Info | None
        Channel info of the arrays to come (positions read from it). Not needed when
        ``fit`` gets ``mne.Epochs`` or ``info=`` (the evaluation engine passes it:
        ``requires_info``).
    montage : str | None
        Standard montage filling EEG channels without a position (by name).
    patch_size, num_queries, embed_dim, depth, num_heads, drop_path
        LUNA's (``braindecode.models.LUNA``); defaults are its base size. Trailing
        samples beyond a multiple of ``patch_size`` are dropped.
    max_epochs : int
        Passes over the training trials.
    batch_size : int
    lr, weight_decay : float
        AdamW's.
    device : str
        torch device (``"cpu"``, ``"cuda"``).
    random_state : int | None
        Seed of the initial weights and the batches' order (torch's generator is forked,
        so the caller's stream is untouched).
    verbose : int
        skorch's per-epoch table when > 0.

    Attributes
    ----------
    classes_ : ndarray
    positions_ : ndarray, shape (n_channels, 3)
        The channel positions given to every batch.
    net_ : skorch.NeuralNetClassifier
    """

    #: the evaluation engine passes the epochs' mne.Info at fit (``<step>__info``)
    requires_info = True

    def __init__(
        self,
        info: mne.Info | None = None,
        montage: str | None = "standard_1005",
        patch_size: int = 40,
        num_queries: int = 4,
        embed_dim: int = 64,
        depth: int = 8,
        num_heads: int = 2,
        drop_path: float = 0.0,
        max_epochs: int = 20,
        batch_size: int = 32,
        lr: float = 5e-4,
        weight_decay: float = 0.05,
        device: str = "cpu",
        random_state: int | None = None,
        verbose: int = 0,
    ) -> None:
        self.info = info
        self.montage = montage
        self.patch_size = patch_size
        self.num_queries = num_queries
        self.embed_dim = embed_dim
        self.depth = depth
        self.num_heads = num_heads
        self.drop_path = drop_path
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def _crop(self, X: np.ndarray) -> np.ndarray:
        n = X.shape[-1] - X.shape[-1] % int(self.patch_size)
        if n <= 0:
            raise InvalidInputError(
                f"LUNAClassifier: {X.shape[-1]} samples per trial, fewer than one patch "
                f"(patch_size={self.patch_size})"
            )
        return X[..., :n]

    def fit(self, X: Any, y: Any, info: mne.Info | None = None) -> LUNAClassifier:
        """Train on ``X`` (``mne.Epochs`` or ``(n, C, T)`` µV arrays) and labels ``y``.

        Parameters
        ----------
        info : mne.Info | None
            Channel info of ``X`` (else ``self.info``, else the epochs').
        """
        X, epochs_info = _as_array(X)
        info = info if info is not None else self.info if self.info is not None else epochs_info
        if info is None:
            raise InvalidInputError(
                "LUNAClassifier needs the channels' positions: fit it on mne.Epochs, or give "
                "info= (the evaluation engine and `neurodec benchmark` pass it themselves)"
            )
        if len(info["ch_names"]) != X.shape[1]:
            raise InvalidInputError(
                f"LUNAClassifier: info has {len(info['ch_names'])} channels but X has {X.shape[1]}"
            )
        self.positions_ = channel_positions(info, self.montage)
        self._le = LabelEncoder().fit(np.asarray(y))
        self.classes_ = self._le.classes_
        y_enc = self._le.transform(np.asarray(y)).astype(np.int64)
        X = self._crop(X)
        seed = int(check_random_state(self.random_state).randint(2**31 - 1))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            luna = LUNA(
                n_outputs=len(self.classes_),
                n_chans=X.shape[1],
                n_times=X.shape[2],
                sfreq=float(info["sfreq"]),
                patch_size=int(self.patch_size),
                num_queries=int(self.num_queries),
                embed_dim=int(self.embed_dim),
                depth=int(self.depth),
                num_heads=int(self.num_heads),
                drop_path=float(self.drop_path),
            )
            self.net_ = NeuralNetClassifier(
                _PositionedLUNA(luna, self.positions_),
                criterion=nn.CrossEntropyLoss,
                optimizer=torch.optim.AdamW,
                optimizer__weight_decay=float(self.weight_decay),
                lr=float(self.lr),
                max_epochs=int(self.max_epochs),
                batch_size=int(self.batch_size),
                iterator_train__shuffle=True,
                train_split=None,
                device=self.device,
                verbose=int(self.verbose),
            )
            self.net_.fit(X, y_enc)
        log.info("LUNA trained on %d trials x %d channels x %d samples", *X.shape)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self, "net_")
        X, _ = _as_array(X)
        if X.shape[1] != len(self.positions_):
            raise InvalidInputError(
                f"LUNAClassifier was fitted on {len(self.positions_)} channels; X has {X.shape[1]}"
            )
        return self.net_.predict_proba(self._crop(X))

    def predict(self, X: Any) -> np.ndarray:
        """Labels (as given to ``fit``)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
