"""Amplifier saturation ("clipping"): where it is, and which epochs it touches.

The rule neurodec applies to the Muse P300 data (see ``docs/p300_muse.md``):

    An epoch is **rejected** when any sample of its window ``[tmin, tmax]`` (both
    ends included) is at or beyond the amplifier's rail on any EEG channel.

The Muse 2016 ADC gives ``0.48828125 * (raw - 2048)`` µV, so it saturates at
-1000.000 and +999.512 µV; ``|x| >= 999.5 µV`` catches both rails and nothing
else. In the evaluation the rule is applied before epoching: the dataset option
``annotate_clipping=True`` of ``EEGNotebooks_VisualP300`` marks every clipped
stretch ``BAD_clipping``, and both neurodec's and MOABB's paradigms drop the
epochs that overlap a ``BAD`` annotation (``reject_by_annotation``). The functions
here compute the same thing from the raw samples, offline, so a report can say
which epochs are gone and the tests can check that both paths agree.

The pure functions (:func:`clipped_samples`, :func:`clipped_spans`,
:func:`clipped_epochs`) take arrays; :func:`clipping_report` reads a dataset.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from neurodec.errors import InvalidInputError

__all__ = [
    "MUSE_RAIL_UV",
    "clipped_samples",
    "clipped_spans",
    "clipped_epochs",
    "clipping_report",
]

log = logging.getLogger(__name__)

#: Magnitude (µV) at or beyond which a Muse sample is on a rail (-1000.000 / +999.512 µV).
MUSE_RAIL_UV = 999.5


def clipped_samples(data: np.ndarray, limit: float = MUSE_RAIL_UV) -> np.ndarray:
    """Samples where any channel is at or beyond ``±limit``.

    Parameters
    ----------
    data : ndarray, shape (n_channels, n_times)
        Signals in the unit of ``limit`` (µV for the default).
    limit : float
        Rail magnitude.

    Returns
    -------
    ndarray of bool, shape (n_times,)
    """
    data = np.asarray(data)
    if data.ndim != 2:
        raise InvalidInputError(f"expected data of shape (n_channels, n_times), got {data.shape}")
    if not limit > 0:
        raise InvalidInputError(f"limit must be a positive amplitude, got {limit!r}")
    return (np.abs(data) >= limit).any(axis=0)


def clipped_spans(mask: np.ndarray) -> np.ndarray:
    """Contiguous runs of ``True`` in a boolean mask.

    Returns
    -------
    ndarray of int, shape (n_spans, 2)
        ``[start, stop)`` sample indices of each run.
    """
    mask = np.asarray(mask, dtype=bool).ravel()
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.column_stack([np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)])


def clipped_epochs(mask: np.ndarray, event_samples: np.ndarray, first: int, last: int) -> np.ndarray:
    """Which epochs contain a clipped sample.

    Parameters
    ----------
    mask : ndarray of bool, shape (n_times,)
        Clipped samples (:func:`clipped_samples`).
    event_samples : ndarray of int, shape (n_events,)
        Event sample indices (into ``mask``).
    first, last : int
        Epoch window in samples relative to the event, both included
        (``round(tmin * sfreq)``, ``round(tmax * sfreq)``).

    Returns
    -------
    ndarray of bool, shape (n_events,)
        ``True`` for an epoch with at least one clipped sample in its window;
        the part of a window outside the recording counts as not clipped.
    """
    mask = np.asarray(mask, dtype=bool).ravel()
    events = np.asarray(event_samples, dtype=np.int64).ravel()
    if last < first:
        raise InvalidInputError(f"epoch window ends ({last}) before it starts ({first})")
    counts = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    lo = np.clip(events + first, 0, mask.size)
    hi = np.clip(events + last + 1, 0, mask.size)
    return counts[hi] - counts[lo] > 0


def _eeg_in_uv(raw: Any, unit_factor: float) -> np.ndarray:
    import mne

    picks = mne.pick_types(raw.info, eeg=True)
    return raw.get_data(picks=picks) * unit_factor


def clipping_report(
    dataset: Any,
    subjects: list[int] | None = None,
    limit: float = MUSE_RAIL_UV,
) -> pd.DataFrame:
    """Clipping of every run of ``dataset``: samples, stretches and epochs touched.

    Parameters
    ----------
    dataset : MOABB dataset
        E.g. ``get_dataset("EEGNotebooks_VisualP300")``; its ``interval`` gives
        the epoch window, its ``event_id`` the events, ``unit_factor`` the unit of
        ``limit`` (µV).
    subjects : list of int, optional
        Default: all of ``dataset.subject_list``.
    limit : float
        Rail magnitude in µV.

    Raises
    ------
    InvalidInputError
        A subject that the dataset does not have.

    Returns
    -------
    DataFrame
        One row per run: ``subject, session, run, n_events, clipped_samples``
        (samples with any EEG channel on a rail), ``clipped_spans``,
        ``clipped_s`` (seconds), ``clipped_epochs`` (events of the dataset's
        ``event_id`` whose window holds a clipped sample: the epochs that the
        rule rejects), and ``channels`` (names of the clipped EEG channels).
    """
    import mne

    from neurodec.datasets.base import check_subjects

    subjects = check_subjects(dataset, subjects)
    codes = np.array(sorted({int(c) for v in dataset.event_id.values() for c in np.atleast_1d(v)}))
    unit = float(getattr(dataset, "unit_factor", 1e6))
    rows = []
    data = dataset.get_data(subjects=subjects)
    for subject in subjects:
        for session, runs in data[subject].items():
            for run, raw in runs.items():
                sfreq = float(raw.info["sfreq"])
                eeg = _eeg_in_uv(raw, unit)
                per_channel = (np.abs(eeg) >= limit).any(axis=1)
                mask = clipped_samples(eeg, limit)
                events = mne.find_events(raw, shortest_event=0, verbose=False)
                events = events[np.isin(events[:, 2], codes)]
                first = int(round(dataset.interval[0] * sfreq))
                last = int(round(dataset.interval[1] * sfreq))
                hit = clipped_epochs(mask, events[:, 0] - raw.first_samp, first, last)
                if mask.any():
                    log.info(
                        "subject %s session %s run %s: %d clipped samples, %d epoch(s) touched",
                        subject,
                        session,
                        run,
                        int(mask.sum()),
                        int(hit.sum()),
                    )
                names = [raw.ch_names[i] for i in mne.pick_types(raw.info, eeg=True)]
                rows.append(
                    {
                        "subject": int(subject),
                        "session": str(session),
                        "run": str(run),
                        "n_events": int(len(events)),
                        "clipped_samples": int(mask.sum()),
                        "clipped_spans": int(len(clipped_spans(mask))),
                        "clipped_s": float(mask.sum() / sfreq),
                        "clipped_epochs": int(hit.sum()),
                        "channels": ",".join(n for n, c in zip(names, per_channel) if c),
                    }
                )
    return pd.DataFrame(rows)
