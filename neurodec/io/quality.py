"""Data checks run on a loaded recording: NaN/infinite samples and flat channels."""

from __future__ import annotations

import logging
from typing import Literal

import mne
import numpy as np

from neurodec.errors import InvalidDataError, InvalidInputError

__all__ = ["check_finite", "find_flat_channels", "handle_flat_channels"]

logger = logging.getLogger(__name__)

_BLOCK = 64  # channels per block: bounds the temporary copy of get_data


def _blocks(n: int):
    for start in range(0, n, _BLOCK):
        yield np.arange(start, min(start + _BLOCK, n))


def check_finite(raw: mne.io.BaseRaw) -> None:
    """Raise :class:`~neurodec.errors.InvalidDataError` naming channels with NaN/inf samples."""
    bad: list[str] = []
    for picks in _blocks(len(raw.ch_names)):
        finite = np.isfinite(raw.get_data(picks=picks)).all(axis=1)
        bad.extend(raw.ch_names[i] for i, ok in zip(picks, finite) if not ok)
    if bad:
        raise InvalidDataError(
            f"{len(bad)} channel(s) contain NaN or infinite samples: "
            f"{bad[:20]}{' ...' if len(bad) > 20 else ''}. "
            "Interpolate or drop them (raw.drop_channels) before decoding, or re-export the recording"
        )


def find_flat_channels(raw: mne.io.BaseRaw) -> list[str]:
    """Data channels (MEG, EEG, iEEG, EOG, ECG, EMG) whose samples are all equal.

    Stim and misc channels are not checked (constant trigger lines are normal).
    """
    picks = mne.pick_types(
        raw.info,
        meg=True,
        eeg=True,
        seeg=True,
        ecog=True,
        dbs=True,
        eog=True,
        ecg=True,
        emg=True,
        ref_meg=False,
        exclude=[],
    )
    flat: list[str] = []
    for start in range(0, len(picks), _BLOCK):
        block = picks[start : start + _BLOCK]
        data = raw.get_data(picks=block)
        is_flat = (data.max(axis=1) - data.min(axis=1)) == 0 if data.shape[1] else np.ones(len(block), bool)
        flat.extend(raw.ch_names[i] for i, f in zip(block, is_flat) if f)
    return flat


def handle_flat_channels(raw: mne.io.BaseRaw, on_flat: Literal["warn", "raise", "ignore"]) -> list[str]:
    """Find flat channels and act on them.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Preloaded recording; flat channels are added to ``raw.info['bads']`` unless
        ``on_flat='ignore'``.
    on_flat : {'warn', 'raise', 'ignore'}
        ``'warn'``: mark them bad and log a warning naming them; ``'raise'``: raise
        :class:`~neurodec.errors.InvalidDataError`; ``'ignore'``: do nothing.

    Returns
    -------
    list of str
        The flat channels.
    """
    if on_flat not in ("warn", "raise", "ignore"):
        raise InvalidInputError(f"on_flat must be 'warn', 'raise' or 'ignore', got {on_flat!r}")
    if on_flat == "ignore":
        return []
    flat = find_flat_channels(raw)
    if not flat:
        return flat
    msg = (
        f"{len(flat)} flat channel(s) (constant signal, likely disconnected): "
        f"{flat[:20]}{' ...' if len(flat) > 20 else ''}"
    )
    if on_flat == "raise":
        raise InvalidDataError(msg + "; drop them, or pass on_flat='warn' to mark them bad")
    raw.info["bads"] = list(dict.fromkeys([*raw.info["bads"], *flat]))
    logger.warning("%s; marked bad in raw.info['bads']", msg)
    return flat
