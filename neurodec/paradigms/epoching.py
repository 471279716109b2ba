"""Pure array functions that turn a filtered continuous signal into epochs.

Nothing here touches MNE objects or the disk: inputs are NumPy arrays and plain
numbers, so every function is easy to test and vectorised over trials. The
sample arithmetic follows MNE's ``Epochs`` exactly (rounding of window bounds,
inclusive ``tmax``, dropping windows that leave the recording), which is what
makes neurodec's arrays equal MOABB's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "EpochWindow",
    "epoch_window",
    "first_unique_events",
    "epoch_starts",
    "keep_mask",
    "cut_epochs",
    "subtract_baseline",
    "time_mask",
    "labels_from_codes",
]


@dataclass(frozen=True)
class EpochWindow:
    """Sample window of one epoch relative to its event.

    Attributes
    ----------
    start : int
        Offset of the first sample from the event sample (``round(tmin * sfreq)``).
    n_samples : int
        Number of samples per epoch (``tmax`` is included).
    times : ndarray, shape (n_samples,)
        Time of each sample relative to the event, in seconds.
    """

    start: int
    n_samples: int
    times: np.ndarray


def epoch_window(tmin: float, tmax: float, sfreq: float) -> EpochWindow:
    """Window from ``tmin`` to ``tmax`` (both included) at ``sfreq``.

    Parameters
    ----------
    tmin, tmax : float
        Start and end of the epoch relative to the event, in seconds.
    sfreq : float
        Sampling frequency in Hz.

    Returns
    -------
    EpochWindow
    """
    first = int(round(tmin * sfreq))
    last = int(round(tmax * sfreq))
    if last < first:
        raise ValueError(f"empty epoch window: tmin={tmin} s is after tmax={tmax} s")
    times = np.arange(first, last + 1) / sfreq
    return EpochWindow(start=first, n_samples=last - first + 1, times=times)


def first_unique_events(events: np.ndarray) -> np.ndarray:
    """Keep the first event of each sample (events sharing an onset are repeats).

    Parameters
    ----------
    events : ndarray, shape (n_events, 3)
        MNE events array (sample, previous value, code).

    Returns
    -------
    ndarray, shape (n_unique, 3)
    """
    events = np.asarray(events)
    if len(events) == 0:
        return events.reshape(0, 3)
    _, first = np.unique(events[:, 0], return_index=True)
    return events[np.sort(first)]


def epoch_starts(event_samples: np.ndarray, window: EpochWindow, sfreq: float, first_samp: int) -> np.ndarray:
    """Index of the first sample of each epoch in the data array.

    Parameters
    ----------
    event_samples : ndarray of int, shape (n_events,)
        Event samples in the recording's absolute sample count.
    window : EpochWindow
    sfreq : float
    first_samp : int
        Absolute sample number of the data array's first column.

    Returns
    -------
    ndarray of int64, shape (n_events,)
    """
    offset = window.times[0] * sfreq
    return np.round(np.asarray(event_samples, dtype=np.float64) + offset).astype(np.int64) - int(first_samp)


def keep_mask(
    starts: np.ndarray, n_samples: int, n_times: int, bad_spans: np.ndarray | None = None, sfreq: float = 1.0
) -> np.ndarray:
    """Which epochs lie fully inside the data and touch no bad span.

    Parameters
    ----------
    starts : ndarray of int, shape (n_epochs,)
        First sample of each epoch (see :func:`epoch_starts`).
    n_samples : int
        Samples per epoch.
    n_times : int
        Length of the continuous data.
    bad_spans : ndarray, shape (n_bad, 2) or None
        ``(onset, end)`` in seconds relative to the data's first sample; an epoch
        is dropped if ``onset < stop / sfreq`` and ``end > start / sfreq``.
    sfreq : float
        Sampling frequency (used with ``bad_spans``).

    Returns
    -------
    ndarray of bool, shape (n_epochs,)
    """
    starts = np.asarray(starts, dtype=np.int64)
    stops = starts + n_samples
    keep = (starts >= 0) & (stops <= n_times)
    if bad_spans is not None and len(bad_spans):
        spans = np.asarray(bad_spans, dtype=np.float64)
        hit = (spans[None, :, 0] < stops[:, None] / sfreq) & (spans[None, :, 1] > starts[:, None] / sfreq)
        keep &= ~hit.any(axis=1)
    return keep


def cut_epochs(data: np.ndarray, starts: np.ndarray, n_samples: int) -> np.ndarray:
    """Cut windows of ``n_samples`` starting at ``starts`` from ``data``.

    One vectorised gather over all trials (no copy of the continuous data).

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
    starts : ndarray of int, shape (n_epochs,)
        Valid first samples (``0 <= start <= n_times - n_samples``).
    n_samples : int

    Returns
    -------
    ndarray, shape (n_epochs, n_channels, n_samples), C-contiguous
    """
    starts = np.asarray(starts, dtype=np.int64)
    n_channels = data.shape[0]
    if len(starts) == 0:
        return np.empty((0, n_channels, n_samples), dtype=data.dtype)
    windows = sliding_window_view(data, n_samples, axis=1)  # (ch, n_pos, n_samples)
    return np.ascontiguousarray(windows.transpose(1, 0, 2)[starts])


def subtract_baseline(
    epochs: np.ndarray,
    times: np.ndarray,
    bmin: float | None,
    bmax: float | None,
    rows: np.ndarray | None = None,
) -> None:
    """Subtract, in place, the mean over ``bmin <= t <= bmax`` from each epoch.

    Parameters
    ----------
    epochs : ndarray, shape (n_epochs, n_channels, n_times)
        Modified in place.
    times : ndarray, shape (n_times,)
    bmin, bmax : float or None
        Baseline bounds in seconds (``None``: start / end of the epoch).
    rows : ndarray of int or None
        Channels to correct (default: all).
    """
    first = 0 if bmin is None else np.flatnonzero(times >= bmin)
    last = len(times) if bmax is None else np.flatnonzero(times <= bmax)
    if bmin is not None:
        if len(first) == 0:
            raise ValueError(f"baseline start {bmin} s is after the epoch end")
        first = int(first[0])
    if bmax is not None:
        if len(last) == 0:
            raise ValueError(f"baseline end {bmax} s is before the epoch start")
        last = int(last[-1]) + 1
    if first >= last:
        raise ValueError(f"empty baseline interval ({bmin}, {bmax}) s")
    if rows is None:
        mean = np.mean(epochs[..., first:last], axis=-1, keepdims=True)
        epochs -= mean
    else:
        sub = epochs[:, rows]
        sub -= np.mean(sub[..., first:last], axis=-1, keepdims=True)
        epochs[:, rows] = sub


def time_mask(times: np.ndarray, tmin: float, tmax: float, sfreq: float) -> np.ndarray:
    """Samples of ``times`` within ``[tmin, tmax]``, bounds snapped to the sample grid.

    Each bound is rounded to the nearest sample and widened by half a sample,
    so floating-point noise never drops the first or last sample.
    """
    lo = int(round(tmin * sfreq)) / sfreq - 0.5 / sfreq
    hi = int(round(tmax * sfreq)) / sfreq + 0.5 / sfreq
    return (times >= lo) & (times <= hi)


def labels_from_codes(codes: np.ndarray, event_id: dict[str, int | list[int]]) -> np.ndarray:
    """Map event codes to their string labels.

    Parameters
    ----------
    codes : ndarray of int, shape (n_epochs,)
    event_id : dict
        Label -> code, or label -> list of codes.

    Returns
    -------
    ndarray of str, shape (n_epochs,)
    """
    codes_list: list[int] = []
    names: list[str] = []
    for name, value in event_id.items():
        for code in np.atleast_1d(value).tolist():
            codes_list.append(int(code))
            names.append(name)
    keys = np.asarray(codes_list, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    keys, labels = keys[order], np.asarray(names, dtype=str)[order]
    codes = np.asarray(codes, dtype=np.int64)
    pos = np.clip(np.searchsorted(keys, codes), 0, max(len(keys) - 1, 0))
    if len(codes) and (len(keys) == 0 or np.any(keys[pos] != codes)):
        unknown = sorted(set(codes[keys[pos] != codes].tolist())) if len(keys) else codes
        raise ValueError(f"event codes {list(unknown)} are not in event_id {event_id}")
    return labels[pos] if len(codes) else np.array([], dtype=str)
