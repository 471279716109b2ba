"""Per-channel model input from the sensor table: a 6-vector and a sensor-type index.

The tokenizer (:mod:`neurodec.models`) sees every channel through its sensor, never
through its index or name, so any montage of any modality maps to the same model:

* ``features[:, :3]``: the position centred and scaled per modality (``xn, yn, zn`` of
  :func:`neurodec.sensors.sensor_table`: EEG scalp and MEG helmet on a fitted unit
  sphere, intracranial contacts around the head-frame origin over a 0.095 m radius);
* ``features[:, 3:]``: the coil orientation: the coil normal for magnetometers (and KIT
  axial gradiometers, which MNE types ``mag``), the direction of the measured gradient
  for planar gradiometers (the two gradiometers at one location differ only by it),
  zeros for electrodes (EEG, sEEG, ECoG);
* ``type_ids``: the index in :data:`SENSOR_TYPES`.

Pure numpy/pandas, no torch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from neurodec.errors import InvalidInputError

__all__ = ["SENSOR_TYPES", "ELECTRODE_TYPE_IDS", "model_channels", "sensor_features"]

#: Sensor types the models know, in the order of their learned embeddings.
SENSOR_TYPES = ("eeg", "mag", "grad", "seeg", "ecog")
#: Indices (in :data:`SENSOR_TYPES`) of electrodes, which are re-referenced to their common average.
ELECTRODE_TYPE_IDS = (0, 3, 4)

_NEEDED = ("name", "type", "xn", "yn", "zn", "nx", "ny", "nz", "gx", "gy", "gz")


def _check(table: pd.DataFrame) -> None:
    missing = [c for c in _NEEDED if c not in table.columns]
    if missing:
        raise InvalidInputError(
            f"sensor table lacks columns {missing}; build it with neurodec.sensors.sensor_table(info)"
        )


def model_channels(table: pd.DataFrame, *, include_bads: bool = False) -> np.ndarray:
    """Which rows of a sensor table a model can use.

    A channel is usable when its type is in :data:`SENSOR_TYPES` and it has a normalised
    position; bad channels (``bad`` column) are left out unless ``include_bads``.

    Parameters
    ----------
    table : pandas.DataFrame
        A sensor table (:func:`neurodec.sensors.sensor_table`).
    include_bads : bool
        Keep channels marked bad (to reconstruct them).

    Returns
    -------
    mask : ndarray of bool, shape (n_rows,)
    """
    _check(table)
    usable = table["type"].astype(str).isin(SENSOR_TYPES).to_numpy().copy()
    usable &= np.isfinite(table[["xn", "yn", "zn"]].to_numpy(dtype=float)).all(axis=1)
    if not include_bads and "bad" in table.columns:
        usable &= ~table["bad"].to_numpy(dtype=bool)
    return usable


def sensor_features(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The 6-vector and sensor-type index of every row of a sensor table.

    Parameters
    ----------
    table : pandas.DataFrame
        A sensor table whose rows are all usable (see :func:`model_channels`).

    Returns
    -------
    features : ndarray of float32, shape (n_channels, 6)
        Normalised position, then coil orientation (see the module docstring).
    type_ids : ndarray of int64, shape (n_channels,)
        Index into :data:`SENSOR_TYPES`.
    """
    _check(table)
    types = table["type"].astype(str).to_numpy()
    unknown = sorted(set(types) - set(SENSOR_TYPES))
    if unknown:
        raise InvalidInputError(
            f"sensor types {unknown} have no model embedding (known: {list(SENSOR_TYPES)}); "
            "select channels with neurodec.sensors.model_channels(table)"
        )
    pos = table[["xn", "yn", "zn"]].to_numpy(dtype=np.float64)
    if not np.isfinite(pos).all():
        names = table["name"].to_numpy()[~np.isfinite(pos).all(axis=1)].tolist()
        raise InvalidInputError(
            f"{len(names)} channel(s) have no position: {names[:10]}; give them positions "
            "(neurodec.sensors.fill_positions) or leave them out (neurodec.sensors.model_channels)"
        )
    orient = table[["nx", "ny", "nz"]].to_numpy(dtype=np.float64).copy()
    is_grad = types == "grad"
    orient[is_grad] = table.loc[is_grad, ["gx", "gy", "gz"]].to_numpy(dtype=np.float64)
    orient[np.isin(types, ("eeg", "seeg", "ecog"))] = 0.0
    features = np.concatenate([pos, orient], axis=1).astype(np.float32)
    type_ids = np.array([SENSOR_TYPES.index(t) for t in types], dtype=np.int64)
    return features, type_ids
