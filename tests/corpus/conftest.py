"""Small simulated sources and a corpus built from them (once per session)."""

from __future__ import annotations

import pytest

from neurodec.corpus import build_corpus
from neurodec.datasets import get_dataset

SMALL = {"n_sessions": 1, "n_runs": 1, "n_trials": 2}  # one 30-s run per subject


def simulated(modality: str, n_subjects: int = 1, **options):
    return get_dataset("SimulatedMI", n_subjects=n_subjects, modality=modality, **{**SMALL, **options})


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    """EEG (2 subjects, 32 channels), MEG (1 subject, mag + grad) and sEEG (1 subject)."""
    out = tmp_path_factory.mktemp("corpus") / "c"
    sources = [
        simulated("eeg", 2, n_eeg_channels=32),
        simulated("meg", meg_sensors="both"),
        simulated("seeg"),
    ]
    return build_corpus(out, sources, progress=False)
