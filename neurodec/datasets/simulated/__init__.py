"""A physically grounded simulator of multi-session motor-imagery (and SSVEP) recordings.

The embedded default dataset of neurodec (no download, deterministic by seed):

- :mod:`~neurodec.datasets.simulated.head`: spherical head fitted to a 10-05 montage.
- :mod:`~neurodec.datasets.simulated.arrays`: EEG cap, MEG helmet, sEEG shafts (``mne.Info``).
- :mod:`~neurodec.datasets.simulated.forward`: lead fields (MNE sphere forward; sEEG in a
  homogeneous medium), cached per process.
- :mod:`~neurodec.datasets.simulated.sources`: subjects' dipoles and their time courses
  (mu/beta ERD, alpha, blinks, 1/f background).
- :mod:`~neurodec.datasets.simulated.sessions`: what changes from session to session.
- :mod:`~neurodec.datasets.simulated.dataset`: :class:`SimulatedMI`, a MOABB dataset.
- :mod:`~neurodec.datasets.simulated.ssvep`: :class:`SimulatedSSVEP`, steady-state visual
  responses at the flicker frequencies and harmonics from occipital generators.
"""

from neurodec.datasets.simulated.dataset import MODALITIES, SIMULATOR_VERSION, SimulatedMI
from neurodec.datasets.simulated.ssvep import SimulatedSSVEP

__all__ = ["SimulatedMI", "SimulatedSSVEP", "MODALITIES", "SIMULATOR_VERSION"]
