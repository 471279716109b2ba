"""Write small synthetic muse-lsl CSV files for tests (no real data needed)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

HEADER_2017 = "timestamps,TP9,AF7,AF8,TP10,Right AUX,Marker"
HEADER_2018 = "timestamps,TP9,AF7,AF8,TP10,Right AUX,Marker0"


def muse_rows(n: int = 1536, *, t0: float = 1486223115.483, seed: int = 0, events_every: int = 150):
    """Timestamps, 5 data columns (µV, on the 0.48828125 µV grid) and markers."""
    rng = np.random.default_rng(seed)
    times = np.round(t0 + np.arange(n) / 256.0, 3)
    data = np.round(rng.normal(0, 20, size=(n, 5)) / 0.48828125) * 0.48828125
    markers = np.zeros(n, dtype=int)
    onsets = np.arange(100, n - 300, events_every)
    markers[onsets] = 1
    markers[onsets[::5]] = 2
    return times, data, markers


def muse_text(times, data, markers, header: str = HEADER_2017) -> str:
    lines = [header]
    for t, row, m in zip(times, data, markers):
        lines.append(f"{t:.3f}," + ",".join(f"{v:.3f}" for v in row) + f",{m}")
    return "\n".join(lines) + "\n"


def write_muse(path: Path, text: str, gz: bool | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    gz = path.name.endswith(".gz") if gz is None else gz
    if gz:
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        path.write_text(text)
    return path
