"""Sensor metadata: the per-channel sensor table, normalised positions, montage filling.

Pure computation on :class:`mne.Info` (montage files are the only thing read).

>>> table = sensor_table(raw.info)          # doctest: +SKIP
>>> filled = fill_positions(raw)            # doctest: +SKIP
"""

from __future__ import annotations

from neurodec.sensors.montage import fill_positions, load_montage, standardize_channel_name
from neurodec.sensors.normalize import REFERENCE_HEAD_RADIUS, fit_sphere, normalized_positions
from neurodec.sensors.table import (
    ELECTRODE_TYPES,
    MEG_TYPES,
    SENSOR_COLUMNS,
    as_info,
    channels_without_position,
    sensor_table,
)

__all__ = [
    "sensor_table",
    "normalized_positions",
    "fill_positions",
    "load_montage",
    "standardize_channel_name",
    "fit_sphere",
    "as_info",
    "channels_without_position",
    "SENSOR_COLUMNS",
    "MEG_TYPES",
    "ELECTRODE_TYPES",
    "REFERENCE_HEAD_RADIUS",
]
