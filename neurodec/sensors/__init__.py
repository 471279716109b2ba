"""Sensor metadata: the per-channel sensor table, normalised positions, montage filling.

Pure computation on :class:`mne.Info` (montage files are the only thing read).

>>> table = sensor_table(raw.info)          # doctest: +SKIP
>>> filled = fill_positions(raw)            # doctest: +SKIP
"""

from __future__ import annotations

from neurodec.sensors.features import ELECTRODE_TYPE_IDS, SENSOR_TYPES, model_channels, sensor_features
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
    "sensor_features",
    "model_channels",
    "SENSOR_TYPES",
    "ELECTRODE_TYPE_IDS",
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
