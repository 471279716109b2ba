"""Causal band-pass filtering for streams: design, initial state, settling time.

Offline, neurodec's paradigms band-pass each run with MNE's IIR Butterworth
(order 4, second-order sections) applied forward and backward (zero phase).
A stream cannot look ahead, so online the same sections are applied twice
*forward*: the magnitude response is exactly the offline one (|H|², what
forward-backward gives), only the phase differs. The filter state is carried
from chunk to chunk with :func:`scipy.signal.sosfilt`'s ``zi``.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from neurodec.errors import InvalidInputError

__all__ = ["causal_bandpass_sos", "initial_state", "settling_samples"]


def causal_bandpass_sos(
    fmin: float | None, fmax: float | None, sfreq: float, order: int = 4
) -> np.ndarray | None:
    """Second-order sections of the causal counterpart of the paradigm's filter.

    Parameters
    ----------
    fmin, fmax : float | None
        Band edges in Hz (``None``: no high-pass / no low-pass), as the paradigm's.
    sfreq : float
        Sampling rate in Hz.
    order : int
        Butterworth order of one pass (MNE's default for ``method="iir"``: 4).

    Returns
    -------
    ndarray, shape (2 * n_sections, 6) | None
        The Butterworth sections twice (two forward passes); ``None`` when both
        edges are ``None`` (no filtering).
    """
    if fmin is None and fmax is None:
        return None
    nyq = sfreq / 2.0
    for name, value in (("fmin", fmin), ("fmax", fmax)):
        if value is not None and not 0 < float(value) < nyq:
            raise InvalidInputError(
                f"{name}={value} Hz is outside (0, {nyq:g}) Hz, the band a {sfreq:g} Hz stream can hold; "
                "give band edges below the Nyquist frequency"
            )
    if fmin is not None and fmax is not None and float(fmin) >= float(fmax):
        raise InvalidInputError(f"fmin ({fmin} Hz) must be below fmax ({fmax} Hz)")
    if fmin is not None and fmax is not None:
        sos = signal.butter(order, [float(fmin), float(fmax)], btype="bandpass", fs=sfreq, output="sos")
    elif fmin is not None:
        sos = signal.butter(order, float(fmin), btype="highpass", fs=sfreq, output="sos")
    else:
        sos = signal.butter(order, float(fmax), btype="lowpass", fs=sfreq, output="sos")
    return np.vstack([sos, sos])


def initial_state(sos: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Filter state that starts the filter in steady state for a constant input.

    Parameters
    ----------
    sos : ndarray, shape (n_sections, 6)
    first : ndarray, shape (n_channels,)
        The first sample of each channel (after a start or a reset).

    Returns
    -------
    ndarray, shape (n_sections, n_channels, 2)
        ``zi`` for ``sosfilt(sos, x, axis=-1, zi=zi)`` with ``x`` (n_channels, n).
    """
    zi = signal.sosfilt_zi(sos)  # (n_sections, 2), for a unit step
    return zi[:, None, :] * np.asarray(first, dtype=np.float64)[None, :, None]


def settling_samples(
    sos: np.ndarray | None, sfreq: float, tol: float = 1e-3, max_seconds: float = 10.0
) -> int:
    """Samples after which the filter's impulse response has shed all but ``tol``
    of its energy: windows that start earlier still carry the start-up transient.

    Parameters
    ----------
    sos : ndarray | None
    sfreq : float
        Sampling rate in Hz (bounds the response length).
    tol : float
        Fraction of the impulse response's energy allowed to remain.
    max_seconds : float
        Longest response considered (guards against near-unstable designs).

    Returns
    -------
    int
        0 when ``sos`` is ``None``.
    """
    if sos is None:
        return 0
    n = max(16, int(np.ceil(max_seconds * sfreq)))
    impulse = np.zeros(n)
    impulse[0] = 1.0
    h = signal.sosfilt(sos, impulse)
    energy = np.cumsum(h[::-1] ** 2)[::-1]  # energy remaining from sample k on
    total = energy[0]
    if total <= 0:
        return 0
    below = np.flatnonzero(energy <= tol * total)
    return int(below[0]) if below.size else n
