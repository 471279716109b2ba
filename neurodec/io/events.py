"""Events of a recording: from its trigger (stim) channel, else from its annotations."""

from __future__ import annotations

import logging

import mne
import numpy as np

from neurodec.errors import InvalidDataError

__all__ = ["extract_events", "pick_trigger_channel"]

logger = logging.getLogger(__name__)

#: Trigger channel names preferred, in order, when a recording has several stim channels.
PREFERRED_TRIGGERS = (
    "STI101",
    "STI 101",
    "STI 014",
    "STI014",
    "Status",
    "STATUS",
    "TRIGGER",
    "Trigger",
    "stim",
    "STIM",
)


def pick_trigger_channel(raw: mne.io.BaseRaw) -> str | None:
    """The trigger channel to read events from, or None if the recording has none."""
    stim = [raw.ch_names[i] for i in mne.pick_types(raw.info, stim=True, exclude=[])]
    if not stim:
        return None
    for name in PREFERRED_TRIGGERS:
        if name in stim:
            return name
    return stim[0]


def _empty() -> tuple[np.ndarray, dict[str, int]]:
    return np.zeros((0, 3), dtype=int), {}


def extract_events(raw: mne.io.BaseRaw) -> tuple[np.ndarray, dict[str, int]]:
    """Events of ``raw`` and their names.

    From the trigger channel (:func:`pick_trigger_channel`, read with
    :func:`mne.find_events`, ``shortest_event=1``, codes named by their value) when it
    holds events; otherwise from the annotations (:func:`mne.events_from_annotations`,
    which skips ``BAD``/``EDGE`` annotations); otherwise none.

    Returns
    -------
    events : ndarray of int, shape (n_events, 3)
    event_id : dict of str to int
    """
    trigger = pick_trigger_channel(raw)
    if trigger is not None:
        try:
            events = mne.find_events(
                raw, stim_channel=trigger, shortest_event=1, initial_event=True, verbose=False
            )
        except Exception as exc:
            raise InvalidDataError(f"could not read events from trigger channel {trigger!r}: {exc}") from exc
        if len(events):
            codes = np.unique(events[:, 2])
            logger.info("%d events on %s (codes %s)", len(events), trigger, codes.tolist())
            return events.astype(int), {str(int(c)): int(c) for c in codes}
    if len(raw.annotations):
        try:
            events, event_id = mne.events_from_annotations(raw, verbose=False)
        except Exception as exc:
            raise InvalidDataError(f"could not turn the annotations into events: {exc}") from exc
        logger.info("%d events from annotations (%s)", len(events), sorted(event_id))
        return events.astype(int), {str(k): int(v) for k, v in event_id.items()}
    return _empty()
