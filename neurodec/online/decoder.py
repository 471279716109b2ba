"""The streaming decoder: chunks of samples in, decisions out, no transport.

:class:`StreamingDecoder` keeps the newest samples in a ring buffer, band-passes
them causally with the filter state carried across chunks, cuts a window of the
trained length every ``step`` and hands the completed windows of a chunk to the
estimator in one call. Every window is checked first: timestamps that do not
increase (duplicates, backward jumps), gaps and non-finite samples reset the
filter and flag the windows they touch; flagged windows are reported but never
decoded.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import signal
from sklearn.pipeline import Pipeline

from neurodec.errors import InvalidInputError
from neurodec.online.filters import causal_bandpass_sos, initial_state, settling_samples
from neurodec.online.ringbuffer import RingBuffer
from neurodec.online.threads import OneThread

__all__ = ["Decision", "StreamingDecoder", "QUALITY_OK"]

log = logging.getLogger(__name__)

#: Quality of a window that was decoded.
QUALITY_OK = "ok"


@dataclass(frozen=True)
class Decision:
    """One window's outcome.

    Attributes
    ----------
    timestamp : float
        Source timestamp of the newest sample of the window.
    prediction : object
        The estimator's ``predict`` for the window; ``None`` when the window was
        flagged (not decoded).
    probabilities : ndarray, shape (n_classes,) | None
        ``predict_proba`` in the order of :attr:`StreamingDecoder.classes_`;
        ``None`` when flagged or when the estimator has no ``predict_proba``.
    quality : str
        ``"ok"`` for a decoded window, else the comma-separated reasons it was
        not decoded: ``settling`` (the filter's start-up transient), ``gap``
        (missing samples), ``duplicate``/``backward`` (timestamps not increasing;
        those samples are dropped), ``nan`` (non-finite samples), ``clock_reset``.
    sample : int
        Samples accepted so far at the end of the window (the window is samples
        ``sample - n_window`` to ``sample - 1``).
    scores : ndarray | None
        ``decision_function`` when the estimator has one (``None`` otherwise).
    """

    timestamp: float
    prediction: Any
    probabilities: np.ndarray | None
    quality: str
    sample: int
    scores: np.ndarray | None = None

    @property
    def ok(self) -> bool:
        """Whether the window was decoded."""
        return self.quality == QUALITY_OK


def _positive(value: Any, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a positive number, got {value!r}") from None
    if not np.isfinite(out) or out <= 0:
        raise InvalidInputError(f"{name} must be a positive number, got {value!r}")
    return out


class StreamingDecoder:
    """Decode a multichannel stream chunk by chunk with a fitted estimator.

    Parameters
    ----------
    estimator : fitted scikit-learn estimator
        Takes ``X`` of shape (n_windows, n_channels, n_times), as the offline
        pipelines do (e.g. a pipeline from ``pipelines/`` or :func:`load_decoder`).
    window : float
        Window length in seconds (the trained epoch length:
        ``n_times / sfreq``); rounded to whole samples.
    step : float
        Seconds between two decisions; rounded to whole samples (at least one).
    sfreq : float
        Sampling rate of the stream in Hz.
    ch_names : list of str
        Channel names, in the order the estimator expects them.
    fmin, fmax : float | None
        Band of the paradigm the estimator was trained with; the stream is
        band-passed causally with the same Butterworth sections applied twice
        forward (the offline zero-phase filter's magnitude). Both ``None``: no
        filter.
    scale : float
        Factor applied to incoming samples (e.g. ``1e6`` for a stream in volts
        and an estimator trained in microvolts, as neurodec's paradigms give).
    max_jitter : float
        Seconds a timestamp step may exceed ``1 / sfreq`` before it counts as a
        gap, or go back before it counts as a replay of old samples (LSL
        timestamps of chunked devices jitter both ways).
    settle : float | None
        Seconds after a start or a reset before windows count as clean
        (default: until the filter's impulse response has shed 99.9 % of its
        energy; 0 without a filter).
    unit : str | None
        Unit the estimator was trained in (``"uV"`` for neurodec's paradigms).
        :meth:`run` then converts a stream that declares another unit (sets
        :attr:`scale`); ``None``: samples are used as they come, times ``scale``.
    adapt : "auto" | bool | dict | OnlineRecentering | None
        Unsupervised adaptation of a decoder trained with re-centering (a
        :class:`~neurodec.riemann.Recentering` step): ``"auto"`` (default) re-centres
        the stream by the running mean of its decoded windows; a dict gives the
        :class:`~neurodec.online.OnlineRecentering` options (``memory``,
        ``prior_weight``, ``metric``); ``False``: whiten by the fixed mean of the
        training sessions. See :func:`neurodec.online.adapt.bind_adaptation`.

    Attributes
    ----------
    n_window, n_step, n_settle : int
        Window, step and settling lengths in samples.
    classes_ : ndarray | None
        The estimator's classes (order of ``Decision.probabilities``).
    n_received, n_accepted, n_dropped, n_missing : int
        Samples pushed, accepted, dropped (non-increasing timestamps) and
        estimated missing in gaps.
    n_decoded, n_flagged : int
        Windows decoded and windows flagged.
    adapter : OnlineRecentering | None
        The re-centering step of an adapted decoder (its running ``mean_``).

    Notes
    -----
    Every call into the estimator runs with one BLAS/OpenMP thread (the limit
    is applied around :meth:`push` only, to the libraries loaded at that time),
    so a decoder never competes with the acquisition for cores.
    """

    def __init__(
        self,
        estimator: Any,
        window: float = 1.0,
        step: float = 0.1,
        sfreq: float | None = None,
        ch_names: Sequence[str] | None = None,
        fmin: float | None = None,
        fmax: float | None = None,
        *,
        scale: float = 1.0,
        max_jitter: float = 0.05,
        settle: float | None = None,
        unit: str | None = None,
        adapt: Any = "auto",
    ) -> None:
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        if sfreq is None:
            raise InvalidInputError("sfreq is required: the stream's sampling rate in Hz")
        if ch_names is None or isinstance(ch_names, str) or len(ch_names) == 0:
            raise InvalidInputError("ch_names is required: the channel names the estimator was trained on")
        self.sfreq = _positive(sfreq, "sfreq")
        self.ch_names = [str(c) for c in ch_names]
        if len(set(self.ch_names)) != len(self.ch_names):
            raise InvalidInputError("ch_names holds duplicates; every channel needs a unique name")
        self.window = _positive(window, "window")
        self.step = _positive(step, "step")
        self.scale = _positive(scale, "scale")
        self.max_jitter = float(max_jitter)
        if not np.isfinite(self.max_jitter) or self.max_jitter < 0:
            raise InvalidInputError(f"max_jitter must be >= 0 seconds, got {max_jitter!r}")
        self.fmin, self.fmax = fmin, fmax
        self.unit = unit
        if not hasattr(estimator, "predict"):
            raise InvalidInputError(f"estimator must have a predict method, got {type(estimator).__name__}")
        try:
            check_is_fitted(estimator)
        except NotFittedError:
            raise InvalidInputError(
                f"the {type(estimator).__name__} is not fitted; fit it first or load a decoder file "
                "(neurodec.online.load_decoder)"
            ) from None
        except TypeError:  # not a scikit-learn estimator: trust it
            pass
        from neurodec.online.adapt import bind_adaptation

        self.estimator = estimator
        # what is decoded: the estimator, with a Recentering step made online
        self._model, self.adapter = bind_adaptation(estimator, adapt)
        self.classes_ = getattr(estimator, "classes_", None)
        self.n_window = int(round(self.window * self.sfreq))
        self.n_step = max(1, int(round(self.step * self.sfreq)))
        if self.n_window < 2:
            raise InvalidInputError(f"window={window} s is under two samples at {self.sfreq:g} Hz")
        self._sos = causal_bandpass_sos(fmin, fmax, self.sfreq)
        if settle is None:
            self.n_settle = settling_samples(self._sos, self.sfreq)
        else:
            self.n_settle = int(round(_positive(settle, "settle") * self.sfreq)) if settle else 0
        # Pieces written to the ring at once; windows ending inside a piece are read back from it.
        self._piece = max(self.n_step, int(self.sfreq))
        # Samples back from the newest whose faults are remembered (a window's reach).
        self._history = self.n_window
        self._threads = OneThread()
        self.monitor = None  # a StreamMonitor while run() decodes a stream
        self.reset()

    # -- state ------------------------------------------------------------------
    @property
    def n_channels(self) -> int:
        return len(self.ch_names)

    def reset(self) -> None:
        """Forget every sample: empty buffer, fresh filter, counters to zero, the
        running re-centering mean back to its start."""
        self._ring = RingBuffer(self.n_channels, self.n_window + self._piece)
        self._zi: np.ndarray | None = None
        self._last_ts = -np.inf
        self._pending: str | None = None  # reason carried to the next accepted sample
        self._prev_bad = False
        self._backward_run = 0
        self._drop_until: float | None = None  # old samples are being replayed up to this time
        self._reset_pos = np.zeros(0, dtype=np.int64)
        self._reset_why: list[str] = []
        self._next_end = self.n_window
        self.n_received = 0
        self.n_accepted = 0
        self.n_dropped = 0
        self.n_missing = 0
        self.n_decoded = 0
        self.n_flagged = 0
        if self.adapter is not None:
            self.adapter.reset()

    @property
    def samples_to_next_decision(self) -> int:
        """Samples still needed before the next window completes (at least 1)."""
        return max(1, self._next_end - self.n_accepted)

    # -- input checks -----------------------------------------------------------
    def _check_chunk(self, chunk: Any) -> np.ndarray:
        x = np.asarray(chunk)
        if x.ndim != 2 or x.shape[0] != self.n_channels:
            hint = ""
            if x.ndim == 2 and x.shape[1] == self.n_channels:
                hint = " (it looks transposed: give (n_channels, n_samples), e.g. chunk.T)"
            raise InvalidInputError(
                f"chunk must have shape (n_channels={self.n_channels}, n_samples), got {x.shape}{hint}"
            )
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise InvalidInputError(f"chunk must hold numbers, got dtype {x.dtype}")
        out = np.array(x, dtype=np.float64, order="C", copy=True)  # ours: callers may reuse their buffer
        if self.scale != 1.0:
            out *= self.scale
        return out

    def _check_timestamps(self, timestamps: Any, n: int) -> np.ndarray:
        if timestamps is None:
            start = 0.0 if not np.isfinite(self._last_ts) else self._last_ts + 1.0 / self.sfreq
            return start + np.arange(n) / self.sfreq
        ts = np.asarray(timestamps, dtype=np.float64)
        if ts.ndim == 0 and n == 1:
            ts = ts.reshape(1)
        if ts.shape != (n,):
            raise InvalidInputError(f"timestamps must have shape (n_samples={n},), got {ts.shape}")
        return ts.copy()

    # -- main entry point -------------------------------------------------------
    def push(self, chunk: Any, timestamps: Any = None) -> list[Decision]:
        """Add samples; return the decisions of the windows they complete.

        Parameters
        ----------
        chunk : array, shape (n_channels, n_samples)
            New samples, channels in :attr:`ch_names` order. Copied.
        timestamps : array, shape (n_samples,) | None
            Source timestamps in seconds (``None``: regular, from ``1 / sfreq``).

        Returns
        -------
        list of Decision
            Possibly empty; in time order.
        """
        x = self._check_chunk(chunk)
        n = x.shape[1]
        if n == 0:
            return []
        ts = self._check_timestamps(timestamps, n)
        self.n_received += n
        with self._threads:
            return self._push(x, ts)

    def _accept(self, x: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str]]]:
        """Drop repeated samples; positions where a reset is due.

        A timestamp equal to the previous one is a duplicate. A step back of more
        than ``max_jitter`` starts a replay of old samples: they are dropped until
        the timestamps pass the newest one seen before the step (this also removes
        PlayerLSL's duplicated loops). A smaller step back is clock jitter (LSL
        back-extrapolates chunk timestamps from push times) and the samples are kept.
        """
        n = ts.size
        prev = np.concatenate(([self._last_ts], ts[:-1]))
        code = np.zeros(n, dtype=np.int8)  # 0 kept, 1 duplicate, 2 backward
        code[(ts == prev) | ~np.isfinite(ts)] = 1
        covered = 0
        if self._drop_until is not None:  # a replay of old samples continues from the last chunk
            later = np.flatnonzero(ts > self._drop_until)
            covered = int(later[0]) if later.size else n
            code[:covered] = 2
            if covered < n:
                self._drop_until = None
        for b in np.flatnonzero(ts - prev < -self.max_jitter):
            if b < covered:
                continue
            newest = float(np.fmax.reduce(np.concatenate(([self._last_ts], ts[:b]))))
            later = np.flatnonzero(ts[b:] > newest)
            covered = b + int(later[0]) if later.size else n
            code[b:covered] = 2
            if not later.size:
                self._drop_until = newest
        if not code.any():
            self._backward_run = 0
            return x, ts, []
        keep = code == 0
        if not keep.any():
            self._backward_run += n
            if self._drop_until is not None and self._backward_run > self.n_window and np.isfinite(ts).all():
                # Timestamps went back for longer than a window: the source's clock restarted.
                log.warning("stream timestamps restarted (clock reset): continuing on the new clock")
                self._backward_run = 0
                self._drop_until = None
                self._last_ts = -np.inf
                x, ts, resets = self._accept(x, ts)
                return x, ts, [(0, "clock_reset"), *resets]
            self.n_dropped += n
            self._pending = "backward" if (code == 2).any() else "duplicate"
            log.debug("dropped a chunk of %d samples: timestamps %s", n, self._pending)
            return x[:, :0], ts[:0], []
        self._backward_run = 0
        kept = np.flatnonzero(keep)
        resets = []
        for k in np.flatnonzero(np.diff(np.concatenate(([-1], kept))) > 1):
            lost = code[(kept[k - 1] + 1 if k else 0) : kept[k]]
            resets.append((int(k), "backward" if (lost == 2).any() else "duplicate"))
        if not keep[-1]:
            self._pending = "backward" if (code[kept[-1] + 1 :] == 2).any() else "duplicate"
        self.n_dropped += int(n - kept.size)
        return x[:, keep], ts[keep], resets

    def _push(self, x: np.ndarray, ts: np.ndarray) -> list[Decision]:
        pending = self._pending
        self._pending = None
        x, ts, resets = self._accept(x, ts)
        n = ts.size
        if n == 0:
            if pending is not None and self._pending is None:
                self._pending = pending
            return []
        if pending is not None:
            resets.append((0, pending))
        if self._zi is None and self.n_accepted == 0:
            resets.append((0, "settling"))
        # gaps between accepted samples
        if np.isfinite(self._last_ts):
            dt = np.diff(np.concatenate(([self._last_ts], ts)))
        else:
            dt = np.concatenate(([1.0 / self.sfreq], np.diff(ts)))
        gap = np.flatnonzero(dt > 1.0 / self.sfreq + self.max_jitter)
        if gap.size:
            self.n_missing += int(np.maximum(np.round(dt[gap] * self.sfreq) - 1, 0).sum())
            resets.extend((int(p), "gap") for p in gap)
        # non-finite samples: zeroed, and a reset where each run starts and ends
        bad = ~np.isfinite(x).all(axis=0)
        if bad.any() or self._prev_bad:
            x[:, bad] = 0.0
            prev = np.concatenate(([self._prev_bad], bad[:-1]))
            edges = np.flatnonzero(bad != prev)
            resets.extend((int(p), "nan") for p in edges)
        self._prev_bad = bool(bad[-1])
        y = self._filter(x, sorted({p for p, _ in resets}))
        t0 = self.n_accepted
        if resets:
            resets.sort()
            self._reset_pos = np.concatenate([self._reset_pos, t0 + np.array([p for p, _ in resets])])
            self._reset_why.extend(w for _, w in resets)
        decisions = self._windows(y, ts, t0)
        self._last_ts = float(ts[-1])
        self.n_accepted += n
        keep_from = self.n_accepted - self._history - self.n_settle
        first = int(np.searchsorted(self._reset_pos, keep_from, side="right"))
        if first:
            self._reset_pos = self._reset_pos[first:]
            self._reset_why = self._reset_why[first:]
        return decisions

    def _filter(self, x: np.ndarray, reset_at: list[int]) -> np.ndarray:
        """Causal band-pass, state carried; restarted at the first and last reset.

        Samples between the first and the last reset of a chunk only reach
        windows that are flagged, so three ``sosfilt`` calls at most per chunk.
        """
        if self._sos is None:
            return x
        sos = self._sos
        n = x.shape[1]
        cuts = [0]
        if reset_at:
            cuts += [p for p in (reset_at[0], reset_at[-1]) if p > cuts[-1]]
        cuts.append(n)
        y = np.empty_like(x)
        for a, b in zip(cuts[:-1], cuts[1:]):
            if a >= b:
                continue
            zi = self._zi if (a == 0 and a not in reset_at and self._zi is not None) else None
            if zi is None:
                zi = initial_state(sos, x[:, a])
            y[:, a:b], self._zi = signal.sosfilt(sos, x[:, a:b], axis=-1, zi=zi)
        return y

    def _windows(self, y: np.ndarray, ts: np.ndarray, t0: int) -> list[Decision]:
        n = y.shape[1]
        ends = np.arange(self._next_end, t0 + n + 1, self.n_step)
        if ends.size == 0:
            self._ring.write(y)
            return []
        self._next_end = int(ends[-1]) + self.n_step
        lo = np.searchsorted(self._reset_pos, ends - self.n_window - self.n_settle, side="right")
        hi = np.searchsorted(self._reset_pos, ends, side="left")
        flagged = hi > lo
        good = np.flatnonzero(~flagged)
        X = np.empty((good.size, self.n_channels, self.n_window)) if good.size else None
        row = {int(i): k for k, i in enumerate(good)}
        start = 0
        while start < n:  # one piece per second of samples: loops per chunk, not per sample
            stop = min(n, start + self._piece)
            self._ring.write(y[:, start:stop])
            for i in np.flatnonzero((ends > t0 + start) & (ends <= t0 + stop)):
                if not flagged[i]:
                    X[row[int(i)]] = self._ring.window(self.n_window, lag=t0 + stop - int(ends[i]))
            start = stop
        out_pred, out_proba, out_scores = self._decode(X) if X is not None else (None, None, None)
        decisions = []
        for i, e in enumerate(ends.tolist()):
            stamp = float(ts[e - 1 - t0])
            if flagged[i]:
                why = ",".join(sorted(set(self._reset_why[lo[i] : hi[i]])))
                decisions.append(Decision(stamp, None, None, why, e))
                self.n_flagged += 1
            else:
                k = row[i]
                decisions.append(
                    Decision(
                        stamp,
                        out_pred[k],
                        None if out_proba is None else out_proba[k],
                        QUALITY_OK,
                        e,
                        None if out_scores is None else np.atleast_1d(out_scores[k]),
                    )
                )
                self.n_decoded += 1
        return decisions

    def _decode(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``predict`` (and ``predict_proba``/``decision_function`` when available), with
        the pipeline's transforms computed once for all three."""
        est = self._model
        if isinstance(est, Pipeline) and len(est.steps) > 1:
            Xt = est[:-1].transform(X)
            final = est.steps[-1][1]
        else:
            Xt, final = X, est
        pred = np.asarray(final.predict(Xt))
        proba = np.asarray(final.predict_proba(Xt), dtype=float) if hasattr(final, "predict_proba") else None
        scores = (
            np.asarray(final.decision_function(Xt), dtype=float)
            if hasattr(final, "decision_function")
            else None
        )
        return pred, proba, scores

    # -- streams --------------------------------------------------------------
    def run(
        self,
        stream: Any,
        *,
        outlet: Any = None,
        monitor: Any = None,
        duration: float | None = None,
    ) -> Iterator[Decision]:
        """Decode a live stream: yield each decision as its window completes.

        Parameters
        ----------
        stream : source
            An opened stream (:func:`neurodec.online.open_stream`, a
            :class:`neurodec.online.BrainFlowSource`): anything with ``ch_names``,
            ``sfreq``, ``scale_to(unit)`` and ``read(max_samples, timeout)``. Its
            channels are checked against :attr:`ch_names` (reordered when only the
            order differs) before anything is decoded.
        outlet : DecisionOutlet | None
            Where decisions are published (stamped with the source timestamp).
        monitor : StreamMonitor | None
            Collects latency / drop / deadline figures (a fresh one when ``None``;
            available as :attr:`monitor`).
        duration : float | None
            Stop after this many seconds (``None``: until the stream ends or is lost).

        Yields
        ------
        Decision
        """
        from neurodec.online.source import run_stream

        yield from run_stream(self, stream, outlet=outlet, monitor=monitor, duration=duration)
