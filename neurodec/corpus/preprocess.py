"""The preprocessing every tokenizer input goes through (pure numpy/scipy, no torch).

For one recording:

1. keep the channels a model can use (:func:`neurodec.sensors.model_channels`: EEG,
   magnetometers, gradiometers, sEEG, ECoG with a position; bad channels out, unless
   asked for, and then they never enter the statistics below);
2. remove each channel's mean, zero-phase band-pass ``l_freq``-``h_freq`` (4th-order
   Butterworth; the low-pass is skipped when it is above 45 % of the sampling rate) and
   notch at the line frequency and its harmonics below the band edge
   (``info['line_freq']``, else 50 Hz);
3. resample to ``sfreq`` (256 Hz; polyphase, so a round trip back to the input rate is
   faithful);
4. re-reference electrodes (EEG, sEEG, ECoG, each type on its own) to their common
   average; MEG is left as is;
5. divide by one standard deviation per sensor type per group of windows
   (``scale_group_s`` seconds), so all types share one scale and float16 storage is safe;
6. cut into non-overlapping windows of ``window_s`` seconds.

IIR filters keep this usable on recordings of a few seconds.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import mne
import numpy as np
import pandas as pd
from scipy import signal

from neurodec.errors import InvalidDataError, InvalidInputError
from neurodec.sensors import ELECTRODE_TYPE_IDS, SENSOR_TYPES, as_info, model_channels, sensor_table

__all__ = [
    "PreprocessOptions",
    "Preprocessed",
    "preprocess_raw",
    "preprocess_epochs",
    "to_windows",
    "cover_windows",
    "modality_of",
]

logger = logging.getLogger(__name__)

_N_TYPES = len(SENSOR_TYPES)


@dataclass(frozen=True)
class PreprocessOptions:
    """Preprocessing options (see the module docstring); saved with every corpus."""

    sfreq: float = 256.0
    l_freq: float = 0.1
    h_freq: float = 96.0
    line_freq: float | None = None
    notch: bool = True
    window_s: float = 2.0
    reference: str = "average"
    scale_group_s: float = 60.0

    def __post_init__(self) -> None:
        if self.reference not in ("average", "none"):
            raise InvalidInputError(f"reference must be 'average' or 'none', got {self.reference!r}")
        if not 0 < self.l_freq < self.h_freq < self.sfreq / 2:
            raise InvalidInputError(
                f"need 0 < l_freq < h_freq < sfreq / 2, got {self.l_freq}, {self.h_freq}, {self.sfreq}"
            )
        if self.window_s <= 0 or self.scale_group_s <= 0:
            raise InvalidInputError("window_s and scale_group_s must be positive")

    @property
    def window_samples(self) -> int:
        """Samples per window."""
        return int(round(self.window_s * self.sfreq))

    @property
    def group_windows(self) -> int:
        """Windows sharing one scale per sensor type."""
        return max(1, int(round(self.scale_group_s / self.window_s)))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Preprocessed:
    """One recording after :func:`preprocess_raw`."""

    #: Signals at ``sfreq``, re-referenced and scaled, shape (n_channels, n_times), float32.
    data: np.ndarray
    #: Sensor-table rows of the channels kept (index 0..n_channels-1; ``bad`` column kept).
    sensors: pd.DataFrame
    #: Sampling rate of ``data``.
    sfreq: float
    #: Scale (one std, in the input's units) per group of windows and sensor type,
    #: shape (n_groups, n_types); NaN where a type is absent.
    scales: np.ndarray
    #: Common average removed per sensor type (input units), shape (n_types, n_times), zeros for MEG.
    reference: np.ndarray
    #: Samples per scale group.
    group_samples: int
    #: Sampling rate and length of the input.
    sfreq_in: float
    n_times_in: int

    @property
    def type_ids(self) -> np.ndarray:
        return np.array([SENSOR_TYPES.index(t) for t in self.sensors["type"]], dtype=np.int64)

    def channel_scales(self) -> np.ndarray:
        """Scale of every channel at every sample, shape (n_channels, n_times)."""
        groups = np.minimum(np.arange(self.data.shape[1]) // self.group_samples, len(self.scales) - 1)
        return self.scales[groups][:, self.type_ids].T

    def to_input_units(self, data: np.ndarray, *, add_reference: bool = True) -> np.ndarray:
        """Undo the scaling (and the re-referencing) of ``data`` (n_channels, n_times) at ``sfreq``."""
        out = data * self.channel_scales()[:, : data.shape[1]]
        if add_reference:
            out = out + self.reference[self.type_ids][:, : data.shape[1]]
        return out


def modality_of(types: Any) -> str:
    """``'eeg'``, ``'meg'``, ``'seeg'``, ``'ecog'`` or a '+'-joined mix, from channel types."""
    kinds = {"meg" if t in ("mag", "grad") else str(t) for t in types}
    return "+".join(sorted(kinds))


def _line_freq(info: mne.Info, options: PreprocessOptions) -> float:
    if options.line_freq is not None:
        return float(options.line_freq)
    freq = info.get("line_freq")
    return float(freq) if freq else 50.0


def _filter(data: np.ndarray, sfreq: float, line: float, options: PreprocessOptions) -> np.ndarray:
    nyq = sfreq / 2
    if options.h_freq < 0.45 * sfreq:
        sos = signal.butter(4, [options.l_freq, options.h_freq], btype="bandpass", fs=sfreq, output="sos")
        top = options.h_freq
    else:
        sos = signal.butter(4, options.l_freq, btype="highpass", fs=sfreq, output="sos")
        top = nyq
    # No step response from a DC offset; odd-extension padding of up to 10 s lets the
    # slow (0.1 Hz) filter settle before the data begin.
    data = data - data.mean(axis=-1, keepdims=True)
    pad = min(data.shape[-1] - 1, int(10 * sfreq))
    data = signal.sosfiltfilt(sos, data, axis=-1, padlen=pad)
    if options.notch:
        for freq in np.arange(line, min(top, nyq - 1.0), line):
            b, a = signal.iirnotch(freq, Q=30.0, fs=sfreq)
            data = signal.filtfilt(b, a, data, axis=-1, padlen=pad)
    return data


def preprocess_raw(
    raw: mne.io.BaseRaw, options: PreprocessOptions | None = None, *, include_bads: bool = False
) -> Preprocessed:
    """Preprocess one continuous recording for the tokenizer.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Any recording (units as MNE holds them: volts, teslas, T/m).
    options : PreprocessOptions | None
        Default :class:`PreprocessOptions` (256 Hz, 0.1-96 Hz, notch, 2-s windows).
    include_bads : bool
        Keep channels marked bad in ``raw.info['bads']`` (to reconstruct them); they are
        filtered and resampled like the others but take no part in the common average or
        the scales.

    Returns
    -------
    Preprocessed

    Raises
    ------
    InvalidDataError
        No channel the model can use (no EEG/MEG/sEEG/ECoG channel with a position), or
        every one of them is bad.
    """
    options = options or PreprocessOptions()
    table = sensor_table(as_info(raw))
    usable = model_channels(table, include_bads=include_bads)
    if not usable.any():
        kinds = sorted(set(table["type"]))
        raise InvalidDataError(
            f"no channel usable by the tokenizer in this recording (channel types {kinds}): it needs "
            f"{list(SENSOR_TYPES)} channels with positions and not marked bad. Set a montage "
            "(neurodec.sensors.fill_positions) or the channel types"
        )
    sensors = table[usable].reset_index(drop=True)
    good = ~sensors["bad"].to_numpy(dtype=bool)
    if not good.any():
        raise InvalidDataError("every channel the tokenizer could use is marked bad")
    sfreq_in = float(raw.info["sfreq"])
    data = raw.get_data(picks=np.flatnonzero(usable)).astype(np.float64)  # (C, n_in)
    n_in = data.shape[1]
    if n_in < 16:
        raise InvalidDataError(f"recording too short to filter: {n_in} samples")
    data = _filter(data, sfreq_in, _line_freq(raw.info, options), options)
    if not np.isclose(sfreq_in, options.sfreq):
        data = mne.filter.resample(
            data, up=options.sfreq, down=sfreq_in, axis=-1, method="polyphase", verbose="error"
        )
    n = data.shape[1]

    types = np.array([SENSOR_TYPES.index(t) for t in sensors["type"]])
    reference = np.zeros((_N_TYPES, n))
    if options.reference == "average":
        for t in ELECTRODE_TYPE_IDS:
            rows = types == t
            if rows.any():
                reference[t] = data[rows & good].mean(0) if (rows & good).any() else 0.0
                data[rows] -= reference[t]

    group = options.group_windows * options.window_samples
    n_groups = max(1, int(np.ceil(n / group)))
    scales = np.full((n_groups, _N_TYPES), np.nan)
    for t in np.unique(types):
        rows = (types == t) & good
        for g in range(n_groups):
            seg = data[rows, g * group : (g + 1) * group]
            std = float(seg.std()) if rows.any() and seg.size else 0.0
            scales[g, t] = std if std > 0 else 1.0
    groups = np.minimum(np.arange(n) // group, n_groups - 1)
    data /= scales[groups][:, types].T
    return Preprocessed(
        data=data.astype(np.float32),
        sensors=sensors,
        sfreq=options.sfreq,
        scales=scales,
        reference=reference.astype(np.float32),
        group_samples=group,
        sfreq_in=sfreq_in,
        n_times_in=n_in,
    )


def to_windows(data: np.ndarray, window: int, *, pad: bool = False) -> np.ndarray:
    """Cut (n_channels, n_times) into (n_windows, n_channels, window).

    The incomplete last window is dropped, or zero-padded with ``pad=True``.
    """
    n_channels, n = data.shape
    n_windows = (n + window - 1) // window if pad else n // window
    if pad and n_windows * window > n:
        data = np.concatenate([data, np.zeros((n_channels, n_windows * window - n), data.dtype)], axis=1)
    return data[:, : n_windows * window].reshape(n_channels, n_windows, window).transpose(1, 0, 2)


def preprocess_epochs(
    data: np.ndarray,
    sfreq: float,
    type_ids: np.ndarray,
    options: PreprocessOptions | None = None,
    *,
    filter: bool = True,
    line_freq: float | None = None,
) -> np.ndarray:
    """The preprocessing of :func:`preprocess_raw` for epochs (trials cut already).

    Each epoch on its own (nothing is shared between epochs, so a test epoch is
    processed the same whatever it is predicted with): channel means removed, band-pass
    and notch (``filter=True``; IIR, zero-phase, as for recordings), resampling to
    ``options.sfreq``, common average per electrode type, one scale per sensor type.

    Parameters
    ----------
    data : ndarray, shape (n_epochs, n_channels, n_times)
        Any units (the scale is removed per epoch and type).
    sfreq : float
        Sampling rate of ``data``.
    type_ids : ndarray of int, shape (n_channels,)
        Index of each channel's type in :data:`neurodec.sensors.SENSOR_TYPES`.
    options : PreprocessOptions | None
    filter : bool
        Band-pass and notch (False: the epochs are filtered already).
    line_freq : float | None
        Line frequency (default ``options.line_freq``, else 50 Hz).

    Returns
    -------
    ndarray, shape (n_epochs, n_channels, n_times_out), float32
    """
    options = options or PreprocessOptions()
    data = np.asarray(data, dtype=np.float64)
    data = data - data.mean(-1, keepdims=True)
    if filter:
        line = line_freq if line_freq is not None else options.line_freq or 50.0
        data = _filter(data, sfreq, float(line), options)
    if not np.isclose(sfreq, options.sfreq):
        data = mne.filter.resample(
            data, up=options.sfreq, down=sfreq, axis=-1, method="polyphase", verbose="error"
        )
    types = np.asarray(type_ids)
    if options.reference == "average":
        for t in ELECTRODE_TYPE_IDS:
            rows = types == t
            if rows.any():
                data[:, rows] -= data[:, rows].mean(1, keepdims=True)
    for t in np.unique(types):
        rows = types == t
        std = data[:, rows].std(axis=(1, 2), keepdims=True)  # (n_epochs, 1, 1)
        data[:, rows] /= np.where(std > 0, std, 1.0)
    return data.astype(np.float32)


def cover_windows(data: np.ndarray, window: int) -> np.ndarray:
    """Windows covering each epoch: (n, C, T) -> (n, ceil(T / window), C, window).

    Evenly spaced starts from 0 to ``T - window`` (the last windows overlap instead of
    being zero-padded); an epoch shorter than one window is zero-padded.
    """
    n, c, t = data.shape
    if t < window:
        data = np.concatenate([data, np.zeros((n, c, window - t), data.dtype)], axis=-1)
        t = window
    n_windows = -(-t // window)
    starts = np.round(np.linspace(0, t - window, n_windows)).astype(int)
    return np.stack([data[..., s : s + window] for s in starts], axis=1)
