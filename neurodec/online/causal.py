"""Training epochs filtered as a stream filters them (causally), for event-locked decoders.

A paradigm's epochs are band-passed with a zero-phase filter over the whole run; a live
stream can only be filtered causally, which delays each frequency by the filter's group
delay. Sliding-window decoders of band power barely notice; ERP decoders (P300), which
learn the waveform's timing, do. Fitting them on epochs cut from runs filtered with the
:class:`~neurodec.online.StreamingDecoder`'s own causal filter (same sections, same
start-up state) gives a decoder that sees online what it saw in training.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal

from neurodec.errors import InvalidInputError
from neurodec.online.filters import causal_bandpass_sos, initial_state

__all__ = ["causal_filter", "causal_epochs", "causal_run_epochs", "run_events"]

log = logging.getLogger(__name__)


def causal_filter(data: np.ndarray, sfreq: float, fmin: float | None, fmax: float | None) -> np.ndarray:
    """``data`` (n_channels, n_times) band-passed as a stream starting at its first sample is."""
    sos = causal_bandpass_sos(fmin, fmax, float(sfreq))
    if sos is None:
        return np.array(data, dtype=np.float64)
    data = np.asarray(data, dtype=np.float64)
    return signal.sosfilt(sos, data, axis=-1, zi=initial_state(sos, data[:, 0]))[0]


def run_events(raw: Any, spec: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], float, int]:
    """One run's continuous data and events as a paradigm epochs it.

    Returns
    -------
    data : ndarray (n_channels, n_times)
        The paradigm's channels, in the file's unit (volts for MNE).
    onsets : ndarray of int
        Sample of each kept event (from the data's first column).
    labels : ndarray of str
    ch_names : list of str
    sfreq : float
    n_times : int
        Samples per epoch; epochs start at ``onsets + round(tmin * sfreq)``.
    """
    from neurodec.paradigms import epoching
    from neurodec.paradigms.raw_to_epochs import find_run_events, pick_run_channels

    picks = pick_run_channels(raw, spec)
    data = raw.get_data(picks=picks)
    sfreq = float(raw.info["sfreq"])
    events = find_run_events(raw, spec.event_id)
    window = epoching.epoch_window(spec.tmin, spec.tmax, sfreq)
    starts = epoching.epoch_starts(events[:, 0], window, sfreq, raw.first_samp)
    keep = epoching.keep_mask(starts, window.n_samples, data.shape[1])
    labels = epoching.labels_from_codes(events[keep, 2], spec.event_id)
    return (
        data,
        starts[keep] - window.start,
        labels,
        [raw.ch_names[i] for i in picks],
        sfreq,
        window.n_samples,
    )


def causal_run_epochs(raw: Any, spec: Any, factor: float = 1e6) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One run's epochs (``spec``: a paradigm's ``epoching_spec``) from its causally filtered
    signal times ``factor``: ``X`` (n, n_channels, n_times), labels, onset samples."""
    data, onsets, labels, _, sfreq, n_times = run_events(raw, spec)
    filtered = causal_filter(data * factor, sfreq, spec.fmin, spec.fmax)
    idx = (onsets + int(round(spec.tmin * sfreq)))[:, None] + np.arange(n_times)
    return np.transpose(filtered[:, idx], (1, 0, 2)), labels, onsets


def causal_epochs(
    dataset: Any, paradigm: Any, subjects: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """``paradigm.get_data``'s epochs, but from runs filtered causally (as online).

    Each run is band-passed with the streaming decoder's causal filter (the
    paradigm's ``fmin``/``fmax``) from its first sample, scaled by the dataset's
    ``unit_factor`` and cut at the paradigm's events (``tmin``..``tmax``).

    Returns
    -------
    X : ndarray (n_trials, n_channels, n_times)
    y : ndarray of str
    metadata : DataFrame with ``subject``, ``session``, ``run``, ``onset`` (sample in its run)
    """
    if getattr(paradigm, "resample", None) is not None:
        raise InvalidInputError("causal epochs keep the recorded rate: use a paradigm without resample")
    spec = paradigm.epoching_spec(dataset)
    if spec.baseline is not None:
        raise InvalidInputError("causal epochs are plain epochs: use a paradigm without baseline")
    factor = float(getattr(dataset, "unit_factor", 1e6))
    Xs, ys, rows = [], [], []
    for subject in subjects:
        sessions = dataset.get_data(subjects=[subject])[subject]
        for session, runs in sessions.items():
            for run, raw in runs.items():
                X, labels, onsets = causal_run_epochs(raw, spec, factor)
                Xs.append(X)
                ys.append(labels)
                rows += [
                    {"subject": int(subject), "session": str(session), "run": str(run), "onset": int(o)}
                    for o in onsets
                ]
    Xs = [x for x in Xs if len(x)]
    ys = [v for v in ys if len(v)]
    if not Xs:
        raise InvalidInputError(f"{dataset.code} subjects {list(subjects)}: no events to epoch")
    return np.concatenate(Xs), np.concatenate(ys), pd.DataFrame(rows)
