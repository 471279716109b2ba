"""Reading recordings: one call for every format MNE reads, plus BIDS and muse-lsl CSV.

>>> rec = read_recording("sub-01_task-x_eeg.edf")     # doctest: +SKIP
>>> rec.raw, rec.events, rec.event_id, rec.sensors     # doctest: +SKIP
"""

from __future__ import annotations

from neurodec.io.formats import SUPPORTED_FORMATS
from neurodec.io.read import read_recording
from neurodec.io.recording import Recording

__all__ = ["read_recording", "Recording", "SUPPORTED_FORMATS"]
