"""A fixed-size buffer of the newest samples of a multichannel stream.

Storage is mirrored (every sample is written at ``i`` and ``i + capacity``), so
any run of the newest samples is one contiguous slice: reading a window is a
view, never a concatenation.
"""

from __future__ import annotations

import numpy as np

from neurodec.errors import InvalidInputError

__all__ = ["RingBuffer"]


class RingBuffer:
    """The newest ``capacity`` samples of ``n_channels`` channels.

    Parameters
    ----------
    n_channels : int
    capacity : int
        Samples kept.
    dtype : numpy dtype
    """

    def __init__(self, n_channels: int, capacity: int, dtype=np.float64) -> None:
        if int(n_channels) < 1 or int(capacity) < 1:
            raise InvalidInputError(f"n_channels and capacity must be >= 1, got {n_channels}, {capacity}")
        self.n_channels = int(n_channels)
        self.capacity = int(capacity)
        self._data = np.zeros((self.n_channels, 2 * self.capacity), dtype=dtype)
        self._pos = 0  # next slot to write, in [0, capacity)
        self.n_written = 0  # samples written since creation

    def write(self, x: np.ndarray) -> None:
        """Append samples ``x`` (n_channels, n); only the newest ``capacity`` are kept."""
        n_total = x.shape[1]
        cap = self.capacity
        if n_total > cap:
            x = x[:, -cap:]
        n = x.shape[1]
        pos = self._pos
        first = min(n, cap - pos)
        d = self._data
        d[:, pos : pos + first] = x[:, :first]
        d[:, pos + cap : pos + cap + first] = x[:, :first]
        rest = n - first
        if rest:
            d[:, :rest] = x[:, first:]
            d[:, cap : cap + rest] = x[:, first:]
        self._pos = (pos + n) % cap
        self.n_written += n_total

    def window(self, n: int, lag: int = 0) -> np.ndarray:
        """View of ``n`` consecutive samples ending ``lag`` samples before the newest.

        ``window(n)`` is the newest ``n`` samples, oldest first. The view is
        overwritten by later writes; copy it to keep it.
        """
        if n + lag > self.capacity or n < 1 or lag < 0:
            raise InvalidInputError(
                f"a window of {n} samples {lag} samples back does not fit in a buffer of {self.capacity}"
            )
        if n + lag > self.n_written:
            raise InvalidInputError(f"only {self.n_written} samples written, asked for {n} + {lag}")
        stop = self._pos + self.capacity - lag
        return self._data[:, stop - n : stop]
