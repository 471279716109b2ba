"""Online re-centering while streaming: how much of the cross-session drop it recovers live.

For each (subject, training session, test session):

* the decoder is fitted on the training session's epochs, filtered causally as the stream
  filters them (``neurodec.online.causal``); the last run of the training session is held out;
* **within**: the held-out run of the training session is streamed;
* **cross**: every run of the test session is streamed through one decoder (runs one after
  the other, 5 s apart: a gap, so the filter restarts and the running mean carries on).

Streams go through the plain numpy path of the StreamingDecoder (sliding windows, step 0.1 s,
each trial scored with the first window ending at or after its epoch) or the EventLockedDecoder
(one decision per marker, markers 40 ms behind the signal). Decoders:

* ``plain``: the pipeline without re-centering;
* ``fixed``: with re-centering, every window whitened by the training session's mean (no adaptation);
* ``online``: with re-centering by the running Riemannian mean of the decoded windows
  (``OnlineRecentering``, defaults: no prior, no forgetting);
* ``online-prior``: the same starting from the training mean counted as 20 windows;
* ``batch``: offline re-centering of the whole test session at once (uses its future: an upper
  bound for what re-centering can do, not an online figure).

recovered = (cross online - cross fixed) / (within fixed - cross fixed), from the means.

Usage::

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/online_recentering.py --out benchmarks/results/online_recentering.md
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from functools import partial
from importlib.metadata import version

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

log = logging.getLogger("online_recentering")

GAP = 5.0  # seconds between two runs of a streamed session


def _pipelines(kind: str, recenter: bool):
    from pyriemann.estimation import Covariances, XdawnCovariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from neurodec.riemann import Recentering

    cov = (
        Covariances("oas")
        if kind == "mi"
        else XdawnCovariances(nfilter=2, estimator="oas", xdawn_estimator="scm")
    )
    steps = [cov] + ([Recentering(metric="riemann")] if recenter else [])
    return make_pipeline(*steps, TangentSpace(metric="riemann"), LogisticRegression(max_iter=1000))


def _session_runs(dataset, subject: int, spec):
    """{session: [(data, onsets, labels), ...]} in run order, data in the dataset's unit."""
    from neurodec.online.causal import run_events

    factor = float(getattr(dataset, "unit_factor", 1e6))
    out = {}
    meta = None
    for session, runs in dataset.get_data(subjects=[subject])[subject].items():
        out[str(session)] = []
        for run in sorted(runs, key=str):
            data, onsets, labels, ch_names, sfreq, n_times = run_events(runs[run], spec)
            out[str(session)].append((data * factor, onsets, labels))
            meta = (ch_names, sfreq, n_times)
    return out, meta


def _epochs(runs, spec, sfreq, n_times):
    from neurodec.online.causal import causal_filter

    first = int(round(spec.tmin * sfreq))
    Xs, ys = [], []
    for data, onsets, labels in runs:
        filtered = causal_filter(data, sfreq, spec.fmin, spec.fmax)
        Xs.append(np.stack([filtered[:, o + first : o + first + n_times] for o in onsets]))
        ys.append(labels)
    return np.concatenate(Xs), np.concatenate(ys)


def _stream(decoder, runs, mode: str, spec, n_times: int, positive: str, chunk: int):
    """Per-trial (label, positive-class probability or NaN when flagged) of a streamed session."""
    from neurodec.online.events import replay_events

    labels, probs = [], []
    t0, offset = 0.0, 0
    first = int(round(spec.tmin * decoder.sfreq))
    for data, onsets, labs in runs:
        if mode == "events":
            out = replay_events(decoder, data, onsets, labs, chunk_size=chunk, delay=0.04, t0=t0)
            by_onset = {d.onset - offset: d for d in out}
            picked = [by_onset.get(int(o)) for o in onsets]
        else:
            out = []
            n = data.shape[1]
            for s in range(0, n, chunk):
                e = min(n, s + chunk)
                out += decoder.push(data[:, s:e], t0 + np.arange(s, e) / decoder.sfreq)
            ends = np.array([d.sample for d in out])
            idx = np.searchsorted(ends, offset + onsets + first + n_times, side="left")
            picked = [out[i] if i < len(out) else None for i in idx]
        cls = list(decoder.classes_)
        for d, lab in zip(picked, labs):
            labels.append(lab)
            probs.append(d.probabilities[cls.index(positive)] if d is not None and d.ok else np.nan)
        t0 += data.shape[1] / decoder.sfreq + GAP
        offset += data.shape[1]
    return np.array(labels), np.array(probs)


def _auc(labels, probs, positive):
    from sklearn.metrics import roc_auc_score

    ok = np.isfinite(probs)
    y = labels[ok] == positive
    return float(roc_auc_score(y, probs[ok])) if 0 < y.sum() < y.size else float("nan")


def evaluate(dataset, paradigm, subjects, kind, mode, positive, chunk, pairs="all"):
    from threadpoolctl import threadpool_limits

    from neurodec.online import StreamingDecoder
    from neurodec.online.events import EventLockedDecoder

    spec = paradigm.epoching_spec(dataset)
    rows = []
    for subject in subjects:
        t_start = time.perf_counter()
        sessions, (ch_names, sfreq, n_times) = _session_runs(dataset, subject, spec)
        names = sorted(sessions)
        combos = [(a, b) for a in names for b in names if a != b]
        if pairs == "first":
            combos = [(names[0], b) for b in names[1:]]
        for a, b in combos:
            train_runs, held = sessions[a][:-1], sessions[a][-1:]
            X, y = _epochs(train_runs, spec, sfreq, n_times)
            with threadpool_limits(limits=1):
                plain = _pipelines(kind, False).fit(X, y)
                rec = _pipelines(kind, True).fit(X, y)
                Xb, yb = _epochs(sessions[b], spec, sfreq, n_times)
                batch = _auc(yb, rec.predict_proba(Xb)[:, list(rec.classes_).index(positive)], positive)

            kw = dict(sfreq=sfreq, ch_names=ch_names, fmin=spec.fmin, fmax=spec.fmax, window=n_times / sfreq)
            if mode == "events":
                make = partial(EventLockedDecoder, tmin=spec.tmin, max_delay=1.0, **kw)
            else:
                make = partial(StreamingDecoder, step=0.1, **kw)

            row = {"subject": subject, "train": a, "test": b, "n_test": int(len(yb))}
            for name, est, adapt, runs in [
                ("within plain", plain, False, held),
                ("within fixed", rec, False, held),
                ("cross plain", plain, False, sessions[b]),
                ("cross fixed", rec, False, sessions[b]),
                ("cross online", rec, "auto", sessions[b]),
                ("cross online-prior", rec, {"prior_weight": 20}, sessions[b]),
            ]:
                dec = make(est, adapt=adapt)
                labels, probs = _stream(dec, runs, mode, spec, n_times, positive, chunk)
                row[name] = _auc(labels, probs, positive)
                if name == "cross online":
                    row["n_flagged"] = int(np.isnan(probs).sum())
                    row["windows_in_mean"] = int(dec.adapter.n_seen_)
            row["cross batch (offline)"] = batch
            rows.append(row)
            log.info("%s", {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()})
        log.info("subject %s done in %.0f s", subject, time.perf_counter() - t_start)
    return pd.DataFrame(rows)


SCORES = [
    "within plain",
    "within fixed",
    "cross plain",
    "cross fixed",
    "cross online",
    "cross online-prior",
    "cross batch (offline)",
]


def _summary(df: pd.DataFrame, label: str) -> tuple[str, dict]:
    m = df[SCORES].mean()
    drop = m["within fixed"] - m["cross fixed"]
    rec = (m["cross online"] - m["cross fixed"]) / drop if drop > 0 else float("nan")
    rec_p = (m["cross online-prior"] - m["cross fixed"]) / drop if drop > 0 else float("nan")
    rec_b = (m["cross batch (offline)"] - m["cross fixed"]) / drop if drop > 0 else float("nan")
    cells = (
        [label, str(len(df))]
        + [f"{m[c]:.3f}" for c in SCORES]
        + [f"{drop:.3f}", f"{rec:.2f}", f"{rec_p:.2f}", f"{rec_b:.2f}"]
    )
    return "| " + " | ".join(cells) + " |", {"drop": drop, "recovered": rec}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/online_recentering.md")
    parser.add_argument("--mi-subjects", type=int, default=5)
    parser.add_argument("--mi-shift", type=float, nargs="+", default=[1.0, 3.0])
    parser.add_argument("--p300-subjects", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--skip-p300", action="store_true")
    parser.add_argument("--skip-mi", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("neurodec").setLevel(logging.WARNING)

    import neurodec
    from neurodec.datasets.simulated import SimulatedMI
    from neurodec.paradigms import P300, LeftRightImagery

    t_all = time.perf_counter()
    parts = []
    detail = []
    for shift in [] if args.skip_mi else args.mi_shift:
        ds = SimulatedMI(
            n_subjects=args.mi_subjects,
            n_sessions=2,
            n_runs=2,
            n_trials=20,
            n_eeg_channels=32,
            sfreq=128.0,
            session_shift=shift,
        )
        for mode in ("sliding", "events"):
            label = f"SimulatedMI shift {shift:g}, {mode}"
            df = evaluate(
                ds,
                LeftRightImagery(),
                list(range(1, args.mi_subjects + 1)),
                "mi",
                mode,
                "right_hand",
                64,
                pairs="first",
            )
            parts.append(_summary(df, label)[0])
            detail.append((label, df))
    if not args.skip_p300:
        from neurodec.datasets import get_dataset

        ds = get_dataset("EEGNotebooks_VisualP300")
        label = "Muse P300 (EEGNotebooks), events"
        df = evaluate(ds, P300(), args.p300_subjects, "p300", "events", "Target", 12)
        parts.append(_summary(df, label)[0])
        detail.append((label, df))
    elapsed = time.perf_counter() - t_all

    head = [
        "data, mode",
        "pairs",
        *SCORES,
        "drop (within-cross fixed)",
        "recovered online",
        "recovered online-prior",
        "recovered batch",
    ]
    versions = ", ".join(f"{p} {version(p)}" for p in ("numpy", "scipy", "scikit-learn", "pyriemann", "mne"))
    out = [
        "# Online re-centering while streaming: the cross-session drop recovered live",
        "",
        f"Command: `OMP_NUM_THREADS=1 nice -n 10 python benchmarks/online_recentering.py` ({elapsed / 60:.1f} min).",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs shared with other jobs (run under `nice`, one BLAS "
        f"thread), Python {platform.python_version()}; neurodec {neurodec.__version__}, {versions}.",
        "",
        "Protocol (see the script's docstring): decoders fitted on the training session's causally filtered "
        "epochs (last run held out), streamed through the numpy path of the StreamingDecoder (`sliding`: "
        "windows of the epoch length every 0.1 s, pushed in chunks of 64 samples (MI) or 12 (Muse), a trial scored by the first window ending at or after its "
        "epoch) or the EventLockedDecoder (`events`: one decision per marker, markers 40 ms late). ROC-AUC, "
        "mean over (subject, train session, test session) pairs; flagged windows (filter settling after each "
        "run start) count as missing. `fixed`: re-centering pipeline whitened by the training mean (no "
        "adaptation); `online`: running Riemannian mean of the decoded windows; `online-prior`: starting from "
        "the training mean worth 20 windows; `batch`: offline re-centering of the whole test session (uses "
        "the future; an upper bound, not online). recovered = (cross X - cross fixed) / (within fixed - cross fixed).",
        "",
        "SimulatedMI: 32-channel EEG, 128 Hz, 2 sessions x 2 runs x 40 trials, `session_shift` 1 (default) and 3; "
        "train on session 0 run 0, within = session 0 run 1, cross = session 1 (both runs); pipelines "
        "Cov(oas)[+Recentering]+TS+LR, LeftRightImagery 8-32 Hz, 0-4 s. Muse P300: subjects 1-3 (2-3 sessions), "
        "every ordered pair of sessions; XdawnCov(2 filters)[+Recentering]+TS+LR, P300 1-24 Hz, 0-0.8 s.",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *parts,
        "",
    ]
    for label, df in detail:
        out += [f"## {label}", "", df.round(3).to_markdown(index=False), ""]
    with open(args.out, "w") as fh:
        fh.write("\n".join(out))
    print("\n".join(out))


if __name__ == "__main__":
    main()
