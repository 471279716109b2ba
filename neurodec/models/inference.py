"""Using a trained tokenizer on recordings: tokens of any Raw/Epochs, and bad-channel repair.

* :func:`encode`: ``mne.io.Raw`` (or a :class:`neurodec.io.Recording`) -> tokens of every
  2-s window (the last one zero-padded), after the corpus preprocessing
  (:func:`neurodec.corpus.preprocess_raw`); ``mne.Epochs`` -> tokens of every epoch's
  windows (epochs are resampled and re-referenced, not filtered again);
* :func:`reconstruct`: a copy of a Raw whose bad channels are replaced by the model's
  reconstruction from the good ones, in the recording's own units and reference
  (a learned alternative to :meth:`mne.io.Raw.interpolate_bads`, for any modality).
  The repaired signal is band-limited to the model's band (0.1-96 Hz by default).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import mne
import numpy as np
import pandas as pd
import torch

from neurodec.corpus.preprocess import PreprocessOptions, preprocess_epochs, preprocess_raw, to_windows
from neurodec.errors import InvalidInputError
from neurodec.models.normalize import denormalize
from neurodec.models.tokenizer import BrainTokenizer
from neurodec.sensors import SENSOR_TYPES, model_channels, sensor_features, sensor_table

__all__ = ["Tokens", "encode", "reconstruct", "preprocess_options"]

logger = logging.getLogger(__name__)


@dataclass
class Tokens:
    """Tokens of a recording (or of epochs)."""

    #: Token indices: (n_windows, n_frames, n_sources, n_levels) for a Raw,
    #: (n_epochs, n_windows, n_frames, n_sources, n_levels) for Epochs.
    codes: np.ndarray
    #: Start of each window in seconds from the first sample (of the recording or epoch).
    onsets: np.ndarray
    #: The channels the model saw (sensor-table rows).
    sensors: pd.DataFrame


def preprocess_options(model: BrainTokenizer) -> PreprocessOptions:
    """The preprocessing a model was trained with (saved in its checkpoint), else the defaults."""
    saved = getattr(model, "preprocess", None)
    options = PreprocessOptions(**saved) if saved else PreprocessOptions()
    if options.window_samples != model.config.window_samples or options.sfreq != model.config.sfreq:
        raise InvalidInputError(
            f"preprocessing ({options.window_samples} samples at {options.sfreq} Hz) "
            "does not match the model "
            f"({model.config.window_samples} at {model.config.sfreq} Hz)"
        )
    return options


def _batches(n: int, size: int):
    for start in range(0, n, size):
        yield slice(start, min(n, start + size))


def _device(model: BrainTokenizer) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def _tokenize_windows(
    model: BrainTokenizer, windows: np.ndarray, table: pd.DataFrame, batch_size: int
) -> np.ndarray:
    feats, types = sensor_features(table)
    device = _device(model)
    f = torch.from_numpy(feats).to(device)
    t = torch.from_numpy(types).to(device)
    out = []
    for sl in _batches(len(windows), batch_size):
        x = torch.from_numpy(np.ascontiguousarray(windows[sl], dtype=np.float32)).to(device)
        b = x.shape[0]
        out.append(model.tokenize(x, f.expand(b, -1, -1), t.expand(b, -1)).cpu().numpy())
    cfg = model.config
    empty = np.zeros((0, cfg.n_frames, cfg.n_sources, cfg.n_levels), dtype=np.int64)
    return np.concatenate(out) if out else empty


def _epochs_windows(epochs: mne.BaseEpochs, options: PreprocessOptions) -> tuple[np.ndarray, pd.DataFrame]:
    table = sensor_table(epochs.info)
    usable = model_channels(table)
    if not usable.any():
        raise InvalidInputError(
            "these epochs have no channel the tokenizer can use (EEG/MEG/sEEG/ECoG with positions)"
        )
    sensors = table[usable].reset_index(drop=True)
    data = epochs.get_data(picks=np.flatnonzero(usable))  # (n_epochs, C, n_times)
    types = np.array([SENSOR_TYPES.index(t) for t in sensors["type"]])
    data = preprocess_epochs(data, float(epochs.info["sfreq"]), types, options, filter=False)
    windows = np.stack([to_windows(ep, options.window_samples, pad=True) for ep in data])
    return windows.astype(np.float32), sensors


def encode(model: BrainTokenizer, inst: Any, *, batch_size: int = 32) -> Tokens:
    """Tokens of a recording or of epochs.

    Parameters
    ----------
    model : BrainTokenizer
    inst : mne.io.BaseRaw | mne.BaseEpochs | neurodec.io.Recording
    batch_size : int
        Windows per forward pass.

    Returns
    -------
    Tokens
    """
    model.eval()
    options = preprocess_options(model)
    raw = getattr(inst, "raw", inst)
    if isinstance(raw, mne.io.BaseRaw):
        pre = preprocess_raw(raw, options)
        windows = to_windows(pre.data, options.window_samples, pad=True)
        codes = _tokenize_windows(model, windows, pre.sensors, batch_size)
        return Tokens(codes, np.arange(len(codes)) * options.window_s, pre.sensors)
    if isinstance(inst, mne.BaseEpochs):
        windows, sensors = _epochs_windows(inst, options)  # (n_epochs, n_windows, C, T)
        n_ep, n_win = windows.shape[:2]
        codes = _tokenize_windows(
            model, windows.reshape(n_ep * n_win, *windows.shape[2:]), sensors, batch_size
        )
        return Tokens(
            codes.reshape(n_ep, n_win, *codes.shape[1:]), np.arange(n_win) * options.window_s, sensors
        )
    raise InvalidInputError(
        f"encode takes an mne Raw, Epochs or a neurodec Recording, got {type(inst).__name__}"
    )


@torch.no_grad()
def reconstruct(
    model: BrainTokenizer,
    raw: mne.io.BaseRaw,
    bads: list[str] | None = None,
    *,
    reset_bads: bool = True,
    batch_size: int = 32,
) -> mne.io.BaseRaw:
    """Replace bad channels by the tokenizer's reconstruction from the good ones.

    Parameters
    ----------
    model : BrainTokenizer
    raw : mne.io.BaseRaw
        Not modified.
    bads : list of str | None
        Channels to repair; default ``raw.info['bads']``. They must be EEG, MEG, sEEG or
        ECoG channels with positions.
    reset_bads : bool
        Remove the repaired channels from ``info['bads']`` (as ``interpolate_bads`` does).
    batch_size : int
        Windows per forward pass.

    Returns
    -------
    mne.io.BaseRaw
        A copy with the bad channels' data replaced (band-limited to the model's band, in
        the recording's units and reference); other channels unchanged.
    """
    model.eval()
    options = preprocess_options(model)
    bads = list(raw.info["bads"] if bads is None else bads)
    if not bads:
        raise InvalidInputError("no bad channel to reconstruct: pass bads=[...] or set raw.info['bads']")
    unknown = [b for b in bads if b not in raw.ch_names]
    if unknown:
        raise InvalidInputError(f"bad channel(s) {unknown} are not in the recording")
    out = raw.copy().load_data()
    out.info["bads"] = bads
    pre = preprocess_raw(out, options, include_bads=True)
    names = pre.sensors["name"].tolist()
    unusable = [b for b in bads if b not in names]
    if unusable:
        raise InvalidInputError(
            f"cannot reconstruct {unusable}: the tokenizer needs EEG/MEG/sEEG/ECoG channels with positions"
        )
    feats, types = sensor_features(pre.sensors)
    device = _device(model)
    f, t = torch.from_numpy(feats).to(device), torch.from_numpy(types).to(device)
    hidden = torch.tensor(pre.sensors["bad"].to_numpy(dtype=bool), device=device)
    windows = to_windows(pre.data, options.window_samples, pad=True)  # (n_windows, C, T)
    pieces = []
    for sl in _batches(len(windows), batch_size):
        x = torch.from_numpy(windows[sl]).to(device)
        b = x.shape[0]
        valid = torch.ones(b, len(types), dtype=torch.bool, device=device)
        visible = valid & ~hidden
        result = model(x, f.expand(b, -1, -1), t.expand(b, -1), valid, visible)
        pieces.append(denormalize(result.reconstruction.float(), t.expand(b, -1), valid, result.stats))
    recon = torch.cat(pieces).permute(1, 0, 2).reshape(len(types), -1).cpu().numpy()  # (C, n_windows * T)
    recon = pre.to_input_units(recon[:, : pre.data.shape[1]])  # input units, original reference
    rows = np.flatnonzero(pre.sensors["bad"].to_numpy(dtype=bool))
    signal_ = recon[rows]
    if not np.isclose(pre.sfreq_in, pre.sfreq):
        signal_ = mne.filter.resample(
            signal_, up=pre.sfreq_in, down=pre.sfreq, axis=-1, method="polyphase", verbose="error"
        )
    n = out.n_times
    signal_ = (
        signal_[:, :n]
        if signal_.shape[1] >= n
        else np.pad(signal_, ((0, 0), (0, n - signal_.shape[1])), mode="edge")
    )
    picks = [out.ch_names.index(names[r]) for r in rows]
    out._data[picks] = signal_
    if reset_bads:
        out.info["bads"] = [b for b in raw.info["bads"] if b not in bads]
    else:
        out.info["bads"] = list(dict.fromkeys([*raw.info["bads"], *bads]))
    logger.info("reconstructed %d channel(s): %s", len(picks), [names[r] for r in rows])
    return out
