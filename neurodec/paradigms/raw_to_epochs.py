"""One MNE ``Raw`` run -> epoch array and event codes, with MOABB's numbers.

This is the only module of :mod:`neurodec.paradigms` that works on MNE objects.
It reproduces what MOABB's generic pipeline does to a run (event extraction
from the stim channel or the annotations, EEG picks, ``raw.filter(method="iir")``,
``mne.Epochs``, crop, resample, scaling by ``unit_factor``) with less work:
channels are picked *before* filtering, the filter runs in place on that one
copy, epochs are cut with one vectorised gather instead of ``mne.Epochs``, and
scaling is done in place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import mne
import numpy as np

from neurodec.errors import InvalidDataError, InvalidInputError
from neurodec.paradigms import epoching

__all__ = ["EpochingSpec", "RunEpochs", "find_run_events", "pick_run_channels", "epoch_run"]

log = logging.getLogger(__name__)

#: Bump when the numbers produced for the same parameters change (invalidates caches).
PROCESSING_VERSION = 1

# Annotations that split the signal into independently filtered segments. MOABB
# re-derives annotations from the events before filtering and keeps only those
# starting with "bad", so of MNE's default ("edge", "bad_acq_skip") only the
# latter survives.
_FILTER_SKIP = ("bad_acq_skip",)


@dataclass(frozen=True)
class EpochingSpec:
    """Everything needed to epoch one run, resolved against a dataset.

    Times are relative to the event (the dataset interval already added).
    """

    event_id: dict[str, Any]
    fmin: float | None
    fmax: float | None
    tmin: float
    tmax: float
    window_tmin: float
    window_tmax: float
    baseline: tuple[float, float] | None
    channels: tuple[str, ...] | None
    resample: float | None
    unit_factor: float
    return_all_modalities: Any = False
    reject_by_annotation: bool = True
    interval: tuple[float, float] = field(default=(0.0, 1.0))
    #: filter bank: one ``(fmin, fmax)`` per band (``fmin``/``fmax`` are then unused);
    #: ``X`` gets a last axis of one band each, as MOABB's filter-bank paradigms
    bands: tuple[tuple[float | None, float | None], ...] | None = None


@dataclass
class RunEpochs:
    """Epochs of one run: ``X`` scaled by ``unit_factor``, and what produced them."""

    X: np.ndarray
    codes: np.ndarray
    events: np.ndarray
    ch_names: list[str]
    sfreq: float
    tmin: float
    info: mne.Info | None = None
    picks: np.ndarray | None = None


def _stim_channels(info: mne.Info) -> list[str]:
    try:
        from mne.utils import _get_stim_channel  # same lookup as MOABB and find_events

        return list(_get_stim_channel(None, info, raise_error=False))
    except ImportError:  # pragma: no cover - older/newer MNE without the helper
        return [info["ch_names"][i] for i in mne.pick_types(info, stim=True)]


def _codes(event_id: dict[str, Any]) -> list[int]:
    out: list[int] = []
    for value in event_id.values():
        out.extend(int(v) for v in np.atleast_1d(value).tolist())
    return out


def find_run_events(raw: mne.io.BaseRaw, event_id: dict[str, Any]) -> np.ndarray:
    """Events of the wanted codes, from the stim channel if any, else annotations.

    Parameters
    ----------
    raw : mne.io.BaseRaw
    event_id : dict
        Label -> code (or list of codes) of the events to keep.

    Returns
    -------
    ndarray, shape (n_events, 3)
        Absolute samples (``first_samp`` included), sorted, repeats dropped.
    """
    codes = _codes(event_id)
    if _stim_channels(raw.info):
        events = mne.find_events(raw, shortest_event=0, verbose=False)
    else:
        simple = {k: int(v) for k, v in event_id.items() if np.ndim(v) == 0}
        try:
            events, _ = mne.events_from_annotations(raw, event_id=simple, verbose=False)
        except ValueError:  # none of the descriptions is present
            events = np.zeros((0, 3), dtype=int)
    events = np.asarray(events).reshape(-1, 3)
    events = events[np.isin(events[:, 2], codes)]
    return epoching.first_unique_events(events)


def pick_run_channels(raw: mne.io.BaseRaw, spec: EpochingSpec) -> np.ndarray:
    """Indices of the channels that go into ``X`` (MOABB's choice, in its order)."""
    info = raw.info
    if spec.channels is not None:
        missing = [c for c in spec.channels if c not in info["ch_names"]]
        if missing:
            raise InvalidInputError(
                f"channels {missing} are not in this recording (it has "
                f"{len(info['ch_names'])} channels, e.g. {info['ch_names'][:5]}). "
                "Pass channels= names that exist, or channels=None for all EEG channels."
            )
        return mne.pick_channels(info["ch_names"], include=list(spec.channels), ordered=True)
    modalities = spec.return_all_modalities
    if isinstance(modalities, dict):
        return mne.pick_types(info, **{**modalities, "stim": False})
    if modalities:
        stim = set(mne.pick_types(info, stim=True).tolist())
        return np.array([i for i in range(info["nchan"]) if i not in stim], dtype=int)
    return mne.pick_types(info, eeg=True, stim=False)


def _data_rows(info: mne.Info, picks: np.ndarray) -> np.ndarray:
    """Rows of ``picks`` that are data channels (those MNE filters / baselines)."""
    data = set(
        mne.pick_types(
            info,
            meg=True,
            eeg=True,
            seeg=True,
            ecog=True,
            dbs=True,
            fnirs=True,
            csd=True,
            ref_meg=False,
            exclude=[],
        ).tolist()
    )
    return np.array([i for i, p in enumerate(picks) if int(p) in data], dtype=int)


def _segments(raw: mne.io.BaseRaw, kinds: tuple[str, ...]) -> list[tuple[int, int]]:
    """Contiguous ``[start, stop)`` sample spans not covered by ``kinds`` annotations."""
    n = raw.n_times
    ann = raw.annotations
    if len(ann) == 0:
        return [(0, n)]
    sel = np.array(
        [any(str(d).upper().startswith(k.upper()) for k in kinds) for d in ann.description], dtype=bool
    )
    if not sel.any():
        return [(0, n)]
    onset = ann.onset[sel] - raw._first_time
    start = raw.time_as_index(onset, use_rounding=True)
    stop = raw.time_as_index(onset + ann.duration[sel], use_rounding=True)
    covered = np.zeros(n, bool)
    for a, b in zip(start, stop):
        covered[a:b] = True
    edges = np.diff(np.concatenate([[True], covered, [True]]).astype(np.int8))
    starts = np.flatnonzero(edges == -1)
    stops = np.flatnonzero(edges == 1)
    return list(zip(starts.tolist(), stops.tolist()))


def _bad_spans(raw: mne.io.BaseRaw) -> np.ndarray:
    ann = raw.annotations
    if len(ann) == 0:
        return np.zeros((0, 2))
    sel = np.array([str(d).lower().startswith("bad") for d in ann.description], dtype=bool)
    onset = ann.onset[sel] - raw._first_time
    return np.column_stack([onset, onset + ann.duration[sel]])


def epoch_run(raw: mne.io.BaseRaw, spec: EpochingSpec, where: str = "") -> RunEpochs | None:
    """Filter and epoch one run exactly as MOABB's paradigm pipeline does.

    Parameters
    ----------
    raw : mne.io.BaseRaw
        Not modified.
    spec : EpochingSpec
    where : str
        Human-readable location (subject/session/run) for error messages.

    Returns
    -------
    RunEpochs or None
        ``None`` when the run holds none of the wanted events (MOABB skips it).
    """
    events = find_run_events(raw, spec.event_id)
    if len(events) == 0:
        log.debug("%s: no %s events, run skipped", where, list(spec.event_id))
        return None
    picks = pick_run_channels(raw, spec)
    sfreq = float(raw.info["sfreq"])
    data = raw.get_data(picks=picks)
    if raw.preload and np.shares_memory(data, raw._data):
        data = data.copy()
    data = np.asarray(data, dtype=np.float64)
    bad = ~np.isfinite(data)
    if bad.any():
        names = [raw.ch_names[picks[i]] for i in np.flatnonzero(bad.any(axis=1))]
        raise InvalidDataError(
            f"{where}: channel(s) {names[:10]} contain NaN or infinite values "
            f"({int(bad.sum())} samples). Interpolate or drop these channels "
            "(raw.info['bads'] / channels=) before epoching."
        )
    rows = _data_rows(raw.info, picks)
    window = epoching.epoch_window(spec.window_tmin, spec.window_tmax, sfreq)
    starts = epoching.epoch_starts(events[:, 0], window, sfreq, raw.first_samp)
    spans = _bad_spans(raw) if spec.reject_by_annotation else None
    keep = epoching.keep_mask(starts, window.n_samples, data.shape[1], spans, sfreq)
    if not keep.all():
        log.debug("%s: %d epoch(s) dropped (outside the data or bad)", where, (~keep).sum())
    events = events[keep]
    bands = spec.bands if spec.bands is not None else ((spec.fmin, spec.fmax),)
    parts = []
    for i, (fmin, fmax) in enumerate(bands):
        band = data if i == len(bands) - 1 else data.copy()  # each band filters its own copy
        _band_pass(band, raw, rows, len(picks), sfreq, fmin, fmax, where)
        X, times = _epochs_of(band, starts[keep], window, spec, rows, len(picks), sfreq)
        del band
        parts.append(X)
    del data
    X = parts[0] if len(parts) == 1 else np.stack(parts, axis=-1)  # one band: 3-D, as MOABB
    if spec.resample is not None and float(spec.resample) != sfreq:
        sfreq = float(spec.resample)
    return RunEpochs(
        X=X,
        codes=events[:, 2].copy(),
        events=events,
        ch_names=[raw.ch_names[i] for i in picks],
        sfreq=sfreq,
        tmin=float(times[0]),
        info=raw.info,
        picks=np.asarray(picks),
    )


def _band_pass(
    data: np.ndarray,
    raw: mne.io.BaseRaw,
    rows: np.ndarray,
    n_picks: int,
    sfreq: float,
    fmin: float | None,
    fmax: float | None,
    where: str,
) -> None:
    """MOABB's ``raw.filter(fmin, fmax, method="iir", picks="data")``, in place on ``data``."""
    if (fmin is None and fmax is None) or not len(rows):
        return
    filter_rows = None if len(rows) == n_picks else rows
    try:
        for a, b in _segments(raw, _FILTER_SKIP):
            mne.filter.filter_data(
                data[:, a:b],
                sfreq,
                fmin,
                fmax,
                picks=filter_rows,
                method="iir",
                copy=False,
                verbose=False,
            )
    except ValueError as exc:
        raise InvalidInputError(
            f"{where}: cannot band-pass {fmin}-{fmax} Hz at {sfreq} Hz "
            f"sampling ({exc}). Choose fmax below the Nyquist frequency {sfreq / 2} Hz."
        ) from exc


def _epochs_of(
    data: np.ndarray,
    starts: np.ndarray,
    window: epoching.EpochWindow,
    spec: EpochingSpec,
    rows: np.ndarray,
    n_picks: int,
    sfreq: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut, baseline-correct, crop, resample and scale the epochs of one filtered signal."""
    X = epoching.cut_epochs(data, starts, window.n_samples)
    times = window.times
    if spec.baseline is not None:
        epoching.subtract_baseline(
            X,
            times,
            spec.baseline[0],
            spec.baseline[1],
            rows=None if len(rows) == n_picks else rows,
        )
    if spec.window_tmin < spec.tmin or spec.window_tmax > spec.tmax:
        mask = epoching.time_mask(times, spec.tmin, spec.tmax, sfreq)
        X = np.ascontiguousarray(X[..., mask])
        times = times[mask]
    if spec.resample is not None and float(spec.resample) != sfreq:
        X = mne.filter.resample(
            X,
            float(spec.resample),
            sfreq,
            npad="auto",
            window="auto",
            pad="edge",
            method="fft",
            verbose=False,
        )
    X *= spec.unit_factor
    return X, times
