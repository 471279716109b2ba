"""The simulated head: a sphere fitted to a standard 10-05 EEG montage.

Everything here is geometry in MNE's *head* frame (metres; x to the right
pre-auricular point, y to the nasion, z up). The head is a set of concentric
spheres (brain, CSF, skull, scalp; :func:`mne.make_sphere_model` defaults) whose
centre and outer radius are fitted, by least squares, to the electrode positions
of MNE's template 10-05 montage. Subjects differ by a head-size factor that
scales the sphere (and the electrodes on it) about its centre.
"""

from __future__ import annotations

import functools
import logging
import warnings
from dataclasses import dataclass

import mne
import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "EEG_CHANNELS",
    "HeadGeometry",
    "template_head",
    "fit_sphere",
    "project_to_sphere",
    "sphere_model",
    "direction_of",
]

#: EEG channel sets (10-10 names present in MNE's 10-05 template), by size.
EEG_CHANNELS: dict[int, tuple[str, ...]] = {
    32: (
        "Fp1",
        "Fp2",
        "F7",
        "F3",
        "Fz",
        "F4",
        "F8",
        "FC5",
        "FC3",
        "FC1",
        "FC2",
        "FC4",
        "FC6",
        "T7",
        "C3",
        "C1",
        "Cz",
        "C2",
        "C4",
        "T8",
        "CP5",
        "CP1",
        "CP2",
        "CP6",
        "P7",
        "P3",
        "Pz",
        "P4",
        "P8",
        "O1",
        "Oz",
        "O2",
    ),
    64: (
        "Fp1",
        "Fpz",
        "Fp2",
        "AF7",
        "AF3",
        "AFz",
        "AF4",
        "AF8",
        "F7",
        "F5",
        "F3",
        "F1",
        "Fz",
        "F2",
        "F4",
        "F6",
        "F8",
        "FT7",
        "FC5",
        "FC3",
        "FC1",
        "FCz",
        "FC2",
        "FC4",
        "FC6",
        "FT8",
        "T7",
        "C5",
        "C3",
        "C1",
        "Cz",
        "C2",
        "C4",
        "C6",
        "T8",
        "TP7",
        "CP5",
        "CP3",
        "CP1",
        "CPz",
        "CP2",
        "CP4",
        "CP6",
        "TP8",
        "P7",
        "P5",
        "P3",
        "P1",
        "Pz",
        "P2",
        "P4",
        "P6",
        "P8",
        "PO7",
        "PO3",
        "POz",
        "PO4",
        "PO8",
        "O1",
        "Oz",
        "O2",
        "Iz",
        "T9",
        "T10",
    ),
}


@dataclass(frozen=True)
class HeadGeometry:
    """A spherical head in the head frame.

    Attributes
    ----------
    center : numpy.ndarray, shape (3,)
        Sphere centre (m).
    radius : float
        Outer (scalp) radius (m). The brain is the inner 90 % (MNE's default
        relative radii 0.90, 0.92, 0.97, 1.0).
    electrodes : dict of str to numpy.ndarray
        Template 10-05 electrode positions projected on the scalp sphere (m).
    fiducials : dict of str to numpy.ndarray
        ``nasion``, ``lpa``, ``rpa`` (m), kept so that montages built from this
        head carry fiducials like a digitised one.
    """

    center: np.ndarray
    radius: float
    electrodes: dict
    fiducials: dict

    @property
    def brain_radius(self) -> float:
        """Radius of the innermost (brain) sphere."""
        return 0.90 * self.radius

    def scaled(self, factor: float) -> HeadGeometry:
        """The same head scaled by ``factor`` about its centre."""
        c = self.center

        def sc(p: np.ndarray) -> np.ndarray:
            return c + factor * (np.asarray(p) - c)

        return HeadGeometry(
            center=c.copy(),
            radius=float(self.radius * factor),
            electrodes={k: sc(v) for k, v in self.electrodes.items()},
            fiducials={k: sc(v) for k, v in self.fiducials.items()},
        )


def fit_sphere(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares sphere through ``points`` (n, 3): returns (centre, radius)."""
    points = np.asarray(points, dtype=float)
    a = np.c_[2.0 * points, np.ones(len(points))]
    b = (points**2).sum(axis=1)
    sol = np.linalg.lstsq(a, b, rcond=None)[0]
    center = sol[:3]
    radius = float(np.sqrt(sol[3] + center @ center))
    return center, radius


def project_to_sphere(points: np.ndarray, center: np.ndarray, radius: float) -> np.ndarray:
    """Radially project ``points`` (n, 3) onto the sphere (centre, radius)."""
    d = np.asarray(points, dtype=float) - center
    return center + radius * d / np.linalg.norm(d, axis=-1, keepdims=True)


def direction_of(geometry: HeadGeometry, names: list[str] | tuple[str, ...]) -> np.ndarray:
    """Unit vector from the head centre towards the mean of the named electrodes."""
    p = np.mean([geometry.electrodes[n] for n in names], axis=0) - geometry.center
    return p / np.linalg.norm(p)


def _template_montage() -> mne.channels.DigMontage:
    builtin = mne.channels.get_builtin_montages()
    name = "colin27_1005" if "colin27_1005" in builtin else "standard_1005"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mne.channels.make_standard_montage(name)


@functools.lru_cache(maxsize=1)
def template_head() -> HeadGeometry:
    """The template head: sphere fitted to the 10-05 template, electrodes projected on it.

    Computed once per process.
    """
    montage = _template_montage()
    names = sorted(set(EEG_CHANNELS[32]) | set(EEG_CHANNELS[64]))
    info = mne.create_info(names, 100.0, "eeg")
    info.set_montage(montage, verbose=False)  # transforms to the head frame
    pos = np.array([ch["loc"][:3] for ch in info["chs"]])
    # Fit on the electrodes above the ears (the sphere is a poor fit low on the neck).
    fit_on = [i for i, n in enumerate(names) if n not in ("T9", "T10", "Iz")]
    center, radius = fit_sphere(pos[fit_on])
    projected = project_to_sphere(pos, center, radius)
    fid = {}
    kinds = {1: "lpa", 2: "nasion", 3: "rpa"}
    for d in info["dig"]:
        if d["kind"] == mne.io.constants.FIFF.FIFFV_POINT_CARDINAL:
            fid[kinds[int(d["ident"])]] = np.array(d["r"], dtype=float)
    logger.debug("template head: centre %s, radius %.4f m", center, radius)
    return HeadGeometry(
        center=center,
        radius=radius,
        electrodes=dict(zip(names, projected)),
        fiducials=fid,
    )


def sphere_model(geometry: HeadGeometry) -> mne.bem.ConductorModel:
    """MNE's four-shell sphere conductor for ``geometry`` (default conductivities)."""
    return mne.make_sphere_model(
        r0=tuple(float(v) for v in geometry.center),
        head_radius=float(geometry.radius),
        verbose=False,
    )
