"""Small synthetic recordings written to tmp_path (no real data needed)."""

from __future__ import annotations

from pathlib import Path

import mne
import numpy as np
import pytest


def make_raw(n_channels: int = 4, n_times: int = 500, sfreq: float = 100.0, seed: int = 0) -> mne.io.RawArray:
    rng = np.random.default_rng(seed)
    names = ["Fz", "Cz", "Pz", "Oz", "C3", "C4", "F3", "F4"][:n_channels]
    info = mne.create_info(names, sfreq, "eeg")
    return mne.io.RawArray(rng.normal(scale=1e-5, size=(n_channels, n_times)), info, verbose=False)


@pytest.fixture()
def write_fif(tmp_path: Path):
    """Write a RawArray (optionally edited) to a FIF file and return its path."""

    def _write(raw: mne.io.BaseRaw, name: str = "rec_raw.fif") -> Path:
        path = tmp_path / name
        raw.save(path, overwrite=True, verbose=False)
        return path

    return _write
