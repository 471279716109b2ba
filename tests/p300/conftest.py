"""Helpers for the P300 tests: tmp data roots in the EEGNotebooks_VisualP300 layout.

Bad or modified files are made from copies of real runs (or from synthetic rows)
inside ``tmp_path``; the real data root is never written.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

NAME = "EEGNotebooks_VisualP300"
#: the smallest real run (60 s, subject 4's only session): 82 non-target + 12 target
SUBJECT4_RUN = "subject4/session1/data_2018-04-22-21.41.19.csv.gz"
#: a real run with saturation inside epochs (MANIFEST caveats; 19 clipped samples on AF7)
CLIPPED_RUN = "subject5/session1/data_2018-04-15-20.33.55.csv.gz"
HEADER = "timestamps,TP9,AF7,AF8,TP10,Right AUX,Marker0"


def place(root: Path, subject: int, session: int, name: str, text: str | bytes) -> Path:
    """Write ``text`` as a gzip run file in ``root``'s dataset layout."""
    folder = root / NAME / f"subject{subject}" / f"session{session}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data, mtime=0))
    return path


def copy_run(data_root: Path, rel: str, root: Path, subject: int, session: int) -> Path:
    """Copy one real run file into ``root`` as ``subject``/``session``."""
    folder = root / NAME / f"subject{subject}" / f"session{session}"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / Path(rel).name
    shutil.copyfile(data_root / NAME / rel, dest)
    return dest


def read_text(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode()


def synthetic_run(
    n: int = 7680, seed: int = 0, t0: float = 1000.0, erp_uv: float = 8.0, clip_at: tuple[int, ...] = ()
) -> str:
    """A muse-lsl CSV (2018 header) with a P300-like bump after targets.

    Noise 10 µV on the 0.48828125 µV grid; markers every 150 samples, every 6th a
    target with a +``erp_uv`` Gaussian bump at 350 ms on TP9/TP10; samples in
    ``clip_at`` set to the rail (-1000 µV) on AF7.
    """
    rng = np.random.default_rng(seed)
    data = rng.normal(0, 10, size=(n, 5))
    markers = np.zeros(n, dtype=int)
    onsets = np.arange(64, n - 300, 150)
    markers[onsets] = 1
    markers[onsets[::6]] = 2
    bump = erp_uv * np.exp(-0.5 * ((np.arange(205) / 256 - 0.35) / 0.05) ** 2)
    for o in onsets[::6]:
        data[o : o + 205, 0] += bump
        data[o : o + 205, 3] += bump
    data = np.round(data / 0.48828125) * 0.48828125
    for i in clip_at:
        data[i, 1] = -1000.0
    times = t0 + np.arange(n) / 256.0
    lines = [HEADER] + [
        f"{t:.3f}," + ",".join(f"{v:.3f}" for v in row) + f",{m}" for t, row, m in zip(times, data, markers)
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture()
def tmp_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data root, with the epoch cache in ``tmp_path`` too."""
    monkeypatch.setenv("NEURODEC_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "data"
    (root / NAME).mkdir(parents=True)
    return root
