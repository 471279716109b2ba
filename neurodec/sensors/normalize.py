"""Sensor positions centred and scaled for model input (pure computation).

How positions are normalised, per modality:

* ``eeg`` (EEG and any other positioned channel that is not MEG or iEEG) and ``meg``
  (magnetometers and gradiometers; reference magnetometers use the MEG parameters but do
  not take part in the fit): a sphere is fitted by linear least squares to the positioned
  sensors of that modality (scalp for EEG, helmet for MEG); positions are centred on the
  sphere's centre and divided by its radius, so the sensors lie near the unit sphere.
* ``ieeg`` (sEEG, ECoG, DBS contacts lie inside or on the brain, where a sphere fit is
  ill-posed): the frame's origin (head/MNI frames are brain-centred) and a fixed reference
  head radius of 0.095 m.
* When a fit is not possible (fewer than :data:`MIN_FIT_POINTS` sensors, or a radius
  outside 0.03-0.30 m) the same fixed origin/radius is used and a debug message is logged.

Channels without a position get NaN. The result is deterministic (no randomness).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from neurodec.errors import InvalidInputError

__all__ = ["normalized_positions", "fit_sphere", "REFERENCE_HEAD_RADIUS", "MIN_FIT_POINTS"]

logger = logging.getLogger(__name__)

#: Radius (m) used where no sphere can be fitted (a typical adult head).
REFERENCE_HEAD_RADIUS = 0.095
#: Fewest positioned sensors for a sphere fit.
MIN_FIT_POINTS = 8
_FIT_TYPES = {"eeg": ("eeg",), "meg": ("mag", "grad")}
_IEEG_TYPES = ("seeg", "ecog", "dbs")
_MEG_TYPES = ("mag", "grad", "ref_meg")


def fit_sphere(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares sphere through 3-D points.

    Solves ``|p|^2 = 2 p.c + d`` for the centre ``c`` and ``d = r^2 - |c|^2``.

    Parameters
    ----------
    points : ndarray, shape (n_points, 3)
        At least 4 points not all on one plane.

    Returns
    -------
    center : ndarray, shape (3,)
    radius : float
        NaN when the points do not define a sphere.
    """
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) < 4:
        raise InvalidInputError(f"fit_sphere needs an (n >= 4, 3) array, got shape {points.shape}")
    design = np.column_stack([2 * points, np.ones(len(points))])
    target = (points**2).sum(axis=1)
    sol, *_ = np.linalg.lstsq(design, target, rcond=None)
    center = sol[:3]
    r2 = sol[3] + center @ center
    radius = float(np.sqrt(r2)) if r2 > 0 else float("nan")
    return center, radius


def _modality(types: pd.Series) -> np.ndarray:
    types = types.to_numpy(dtype=object)
    out = np.full(len(types), "eeg", dtype=object)
    out[np.isin(types, _MEG_TYPES)] = "meg"
    out[np.isin(types, _IEEG_TYPES)] = "ieeg"
    return out


def normalized_positions(table: pd.DataFrame) -> pd.DataFrame:
    """Positions of a sensor table centred and scaled per modality, for model input.

    Parameters
    ----------
    table : pandas.DataFrame
        A sensor table (:func:`neurodec.sensors.sensor_table`): needs ``type, x, y, z``.

    Returns
    -------
    norm : pandas.DataFrame
        Columns ``xn, yn, zn`` with the table's index; NaN where the table has no
        position. ``norm.attrs['normalization']`` maps each modality present to
        ``{'center': [x, y, z], 'radius': r, 'method': 'sphere_fit' | 'fixed'}``.
    """
    missing = {"type", "x", "y", "z"} - set(table.columns)
    if missing:
        raise InvalidInputError(
            f"sensor table lacks columns {sorted(missing)}; build it with sensor_table(info)"
        )
    pos = table[["x", "y", "z"]].to_numpy(dtype=float)
    types = table["type"].astype(str)
    modality = _modality(types)
    positioned = np.isfinite(pos).all(axis=1)
    out = np.full_like(pos, np.nan)
    params: dict[str, dict] = {}
    for mod in ("eeg", "meg", "ieeg"):
        rows = (modality == mod) & positioned
        if not rows.any():
            continue
        center, radius, method = np.zeros(3), REFERENCE_HEAD_RADIUS, "fixed"
        if mod in _FIT_TYPES:
            fit_rows = rows & types.isin(_FIT_TYPES[mod]).to_numpy()
            if fit_rows.sum() >= MIN_FIT_POINTS:
                c, r = fit_sphere(pos[fit_rows])
                if np.isfinite(r) and 0.03 <= r <= 0.30:
                    center, radius, method = c, r, "sphere_fit"
                else:
                    logger.debug("sphere fit for %s gave radius %.3f m; using fixed scale", mod, r)
        out[rows] = (pos[rows] - center) / radius
        params[mod] = {"center": [float(v) for v in center], "radius": float(radius), "method": method}
    norm = pd.DataFrame(out, columns=["xn", "yn", "zn"], index=table.index)
    norm.attrs["normalization"] = params
    return norm
