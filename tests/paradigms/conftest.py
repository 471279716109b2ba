"""Small in-memory datasets for the paradigm tests (seconds, no files)."""

from __future__ import annotations

import mne
import numpy as np
import pytest
from moabb.datasets.base import BaseDataset
from moabb.datasets.fake import FakeDataset


def fake(
    paradigm: str = "imagery",
    stim: bool = True,
    n_subjects: int = 3,
    seed: int = 7,
    events=("left_hand", "right_hand"),
    duration: float = 30,
    n_events: int = 8,
    channels=("C3", "Cz", "C4", "Pz"),
) -> FakeDataset:
    """MOABB's FakeDataset, deterministic and small (2 sessions x 2 runs)."""
    return FakeDataset(
        event_list=events,
        n_subjects=n_subjects,
        paradigm=paradigm,
        seed=seed,
        duration=duration,
        n_events=n_events,
        channels=channels,
        stim=stim,
        annotations=not stim,
        sfreq=128,
    )


class ArrayDataset(BaseDataset):
    """One run per subject, from a given array or seeded noise (thread-safe)."""

    def __init__(
        self,
        data: np.ndarray | None = None,
        sfreq: float = 100.0,
        paradigm: str = "imagery",
        event_id=None,
        n_subjects: int = 1,
    ):
        self._array = data
        self._sfreq = sfreq
        super().__init__(
            subjects=list(range(1, n_subjects + 1)),
            sessions_per_subject=1,
            events=event_id or {"left_hand": 1, "right_hand": 2},
            code="ArrayDataset",
            interval=[0, 1],
            paradigm=paradigm,
        )

    def _get_single_subject_data(self, subject):
        array = self._array
        if array is None:
            array = np.random.default_rng(subject).standard_normal((3, 2000)) * 1e-5
        n_ch, n_times = array.shape
        info = mne.create_info(
            [f"E{i}" for i in range(n_ch)] + ["STI"], self._sfreq, ["eeg"] * n_ch + ["stim"]
        )
        stim = np.zeros((1, n_times))
        stim[0, 50::200] = np.tile([1, 2], n_times // 400 + 1)[: len(range(50, n_times, 200))]
        raw = mne.io.RawArray(np.vstack([array, stim]), info, verbose=False)
        return {"0": {"0": raw}}

    def data_path(self, subject, path=None, force_update=False, update_path=None, verbose=None):
        return []


@pytest.fixture()
def fake_mi() -> FakeDataset:
    return fake()


@pytest.fixture()
def array_dataset():
    return ArrayDataset
