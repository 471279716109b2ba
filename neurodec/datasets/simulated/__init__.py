"""A physically grounded simulator of multi-session motor-imagery recordings.

The embedded default dataset of neurodec (no download, deterministic by seed):

- :mod:`~neurodec.datasets.simulated.head`: spherical head fitted to a 10-05 montage.
- :mod:`~neurodec.datasets.simulated.arrays`: EEG cap, MEG helmet, sEEG shafts (``mne.Info``).
- :mod:`~neurodec.datasets.simulated.forward`: lead fields (MNE sphere forward; sEEG in a
  homogeneous medium), cached per process.
- :mod:`~neurodec.datasets.simulated.sources`: subjects' dipoles and their time courses
  (mu/beta ERD, alpha, blinks, 1/f background).
- :mod:`~neurodec.datasets.simulated.sessions`: what changes from session to session.
- :mod:`~neurodec.datasets.simulated.dataset`: :class:`SimulatedMI`, a MOABB dataset.
"""

from neurodec.datasets.simulated.dataset import MODALITIES, SIMULATOR_VERSION, SimulatedMI

__all__ = ["SimulatedMI", "MODALITIES", "SIMULATOR_VERSION"]
