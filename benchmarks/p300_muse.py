"""Cross-session P300 decoding on the multi-day Muse recordings (EEGNotebooks_VisualP300).

Within-session (5-fold, all 5 subjects) and cross-session (leave one session out,
subjects 1-3) ROC-AUC per subject and pipeline, from neurodec's evaluation engine
and from MOABB's own ``WithinSessionEvaluation``/``CrossSessionEvaluation`` on the
same dataset object, in the same process; the cross-session drop and what
unsupervised per-session re-centering and per-session latency alignment recover;
wall time of the whole table;
the per-session target-minus-non-target ERP (why sessions differ); and the
clipping rule's effect.

Both engines read the same ``get_dataset("EEGNotebooks_VisualP300",
annotate_clipping=True)``: epochs overlapping an amplifier-saturation stretch are
rejected by both (see ``docs/p300_muse.md``). neurodec epochs with its own
``P300()`` (cold cache in a temporary folder), MOABB with ``moabb.paradigms.P300()``.
The latency-alignment pipelines (``LatencyAlignment`` first) need epochs with a margin
and run on ``P300(tmin=-0.1)`` epochs (-0.1 to 0.8 s), beside two controls on the same
epochs: a fixed 0-0.8 s crop (the plain pipeline) and a fixed 0-0.7 s crop (the
aligned pipelines' window length, no alignment).

Run::

    nice .venv/bin/python benchmarks/p300_muse.py --data-root ../shared/data

Writes ``benchmarks/results/p300_muse.md``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("MOABB_DOWNLOAD_PROVIDER", "upstream")

from neurodec.config import data_root as default_data_root  # noqa: E402

NAME = "EEGNotebooks_VisualP300"
MULTI_SESSION = [1, 2, 3]
#: (pipeline with re-centering, the same pipeline without)
RECENTER_PAIRS = {
    "XdawnCov+Recenter+TS+LR": "XdawnCov+TS+LR",
    "XdawnCov+Recenter+MDM": "XdawnCov+MDM",
}
#: latency-aligned pipelines and the plain pipeline they extend
LATENCY_PAIRS = {
    "LatAlign+XdawnCov+TS+LR": "XdawnCov+TS+LR",
    "LatAlign+XdawnCov+MDM": "XdawnCov+MDM",
}
#: epoch start (s) of the latency-alignment runs; 26 samples of margin at 256 Hz
MARGIN_TMIN = -0.1


def versions() -> str:
    import joblib
    import mne
    import moabb
    import pyriemann
    import sklearn

    import neurodec

    return (
        f"neurodec {neurodec.__version__}, moabb {moabb.__version__}, mne {mne.__version__}, "
        f"pyriemann {pyriemann.__version__}, scikit-learn {sklearn.__version__}, "
        f"joblib {joblib.__version__}, numpy {np.__version__}"
    )


def load_pipelines():
    from neurodec.evaluation.pipelines import load_pipelines as _load

    return _load(REPO / "pipelines", paradigm="P300")


def latency_controls(pipes):
    """Each latency-aligned pipeline and, on the same margin epochs, its plain pipeline
    behind a fixed 0-0.8 s crop ("Crop0-0.8+...") and a fixed 0-0.7 s crop
    ("Crop0-0.7+...", the aligned window's length, no alignment)."""
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    from neurodec.features import LatencyAlignment

    out = {}
    start = int(round(-MARGIN_TMIN * 256))
    for aligned, base in LATENCY_PAIRS.items():
        out[aligned] = pipes[aligned]
        length = pipes[aligned].steps[0][1].length
        for label, crop in (
            ("Crop0-0.8", LatencyAlignment(length=206, start=start, max_shift=0)),
            ("Crop0-0.7", LatencyAlignment(length=length, start=start, max_shift=0)),
        ):
            out[f"{label}+{base}"] = Pipeline(
                [("crop", crop)] + [(n, clone(s)) for n, s in pipes[base].steps]
            )
    return out


def lag_table(dataset, pipes, cache) -> pd.DataFrame:
    """The lag each test session gets in leave-one-session-out (the latency-alignment step
    fitted on the other sessions, as in the cross-session run)."""
    from sklearn.base import clone

    from neurodec.paradigms import P300

    X, _, meta = P300(tmin=MARGIN_TMIN, cache_dir=cache).get_data(dataset)
    step = pipes[next(iter(LATENCY_PAIRS))].steps[0][1]
    rows = []
    for subject, g in meta.groupby("subject"):
        sessions = g["session"].astype(str).to_numpy()
        idx = g.index.to_numpy()
        for test in sorted(set(sessions)):
            fitted = clone(step).fit(X[idx[sessions != test]], domains=sessions[sessions != test])
            lag = fitted.estimate_lags(X[idx[sessions == test]])[0]
            rows.append(
                {
                    "subject": subject,
                    "test session": test,
                    "training lags (ms)": ", ".join(
                        f"{d}: {1000 * v / 256:+.0f}" for d, v in fitted.lags_.items()
                    ),
                    "test lag (ms)": f"{1000 * lag / 256:+.0f}",
                }
            )
    return pd.DataFrame(rows)


def run_neurodec(dataset, pipelines, seed, n_jobs, results, cache, tmin=0.0):
    from neurodec.evaluation import CrossSessionEvaluation, WithinSessionEvaluation
    from neurodec.paradigms import P300

    paradigm = P300(tmin=tmin, cache_dir=cache)
    out, times = {}, {}
    for key, cls, ds in (
        ("within", WithinSessionEvaluation, dataset["all"]),
        ("cross", CrossSessionEvaluation, dataset["multi"]),
    ):
        t0, c0 = time.perf_counter(), time.process_time()
        out[key] = cls(
            paradigm, [ds], random_state=seed, n_jobs=n_jobs, results=results / key, progress=False
        ).process(pipelines)
        times[key] = time.perf_counter() - t0
        times[key + "_cpu"] = time.process_time() - c0
    return out, times


def run_moabb(dataset, pipelines, seed, n_jobs, tmp):
    from moabb.evaluations import CrossSessionEvaluation, WithinSessionEvaluation
    from moabb.paradigms import P300

    paradigm = P300()
    out, times = {}, {}
    for key, cls, ds in (
        ("within", WithinSessionEvaluation, dataset["all"]),
        ("cross", CrossSessionEvaluation, dataset["multi"]),
    ):
        t0, c0 = time.perf_counter(), time.process_time()
        out[key] = cls(
            paradigm=paradigm,
            datasets=[ds],
            random_state=seed,
            n_jobs=n_jobs,
            overwrite=True,
            hdf5_path=str(tmp / f"moabb-{key}"),
        ).process(pipelines)
        times[key] = time.perf_counter() - t0
        times[key + "_cpu"] = time.process_time() - c0
    return out, times


def _norm(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(subject=df["subject"].astype(int), session=df["session"].astype(str))[
        ["pipeline", "subject", "session", "score"]
    ]


def per_subject(df: pd.DataFrame) -> pd.DataFrame:
    """Mean over sessions: rows pipeline, columns subject."""
    return _norm(df).pivot_table(index="pipeline", columns="subject", values="score", aggfunc="mean")


def parity(nd: pd.DataFrame, mo: pd.DataFrame) -> tuple[float, int]:
    j = _norm(mo).merge(_norm(nd), on=["pipeline", "subject", "session"], suffixes=("_moabb", "_nd"))
    if len(j) != len(mo):
        raise SystemExit(f"row mismatch: moabb {len(mo)} rows, {len(j)} matched in neurodec")
    return float(np.abs(j["score_moabb"] - j["score_nd"]).max()), len(j)


def erp_table(dataset, cache) -> pd.DataFrame:
    """Target minus non-target average at TP9/TP10 per session (µV), 250-450 ms."""
    from neurodec.paradigms import P300

    X, y, meta = P300(cache_dir=cache).get_data(dataset)
    times = np.arange(X.shape[-1]) / 256.0
    win = (times >= 0.25) & (times <= 0.45)
    rows = []
    for (subject, session), g in meta.groupby(["subject", "session"]):
        idx = g.index.to_numpy()
        diff = X[idx][y[idx] == "Target"].mean(0) - X[idx][y[idx] == "NonTarget"].mean(0)
        ear = diff[[0, 3]].mean(0)  # TP9, TP10
        k = int(np.argmax(np.abs(ear[win])))
        rows.append(
            {
                "subject": subject,
                "session": session,
                "ERP (µV)": round(float(ear[win][k]), 1),
                "latency (ms)": int(round(1000 * times[win][k])),
                "n": len(idx),
            }
        )
    return pd.DataFrame(rows)


def md_table(df: pd.DataFrame, fmt: str = "{:.3f}") -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join([df.index.name or ""] + cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for idx, row in df.iterrows():
        cells = [
            fmt.format(v)
            if isinstance(v, (float, np.floating)) and not np.isnan(v)
            else ("" if isinstance(v, float) and np.isnan(v) else str(v))
            for v in row
        ]
        lines.append("| " + " | ".join([str(idx)] + cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", type=Path, default=default_data_root())
    ap.add_argument("--random-state", type=int, default=42)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument(
        "--subjects", type=int, nargs="+", default=None, help="within-session subjects (default: all 5)"
    )
    ap.add_argument(
        "--multi", type=int, nargs="+", default=MULTI_SESSION, help="cross-session subjects (default: 1 2 3)"
    )
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "p300_muse.md")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING)

    from neurodec.datasets import get_dataset
    from neurodec.quality import clipping_report

    def ds(subjects):
        return get_dataset(NAME, data_root=args.data_root, annotate_clipping=True, subjects=subjects)

    datasets = {"all": ds(args.subjects), "multi": ds(args.multi)}
    pipes = load_pipelines()
    latency = latency_controls(pipes)
    shared = {k: v for k, v in pipes.items() if k not in RECENTER_PAIRS and k not in LATENCY_PAIRS}
    recentered = {k: v for k, v in pipes.items() if k in RECENTER_PAIRS}

    with tempfile.TemporaryDirectory(prefix="p300-muse-") as tmp:
        tmp = Path(tmp)
        # the pipelines MOABB also runs, from a cold epoch cache, timed against MOABB
        nd_shared, nd_shared_t = run_neurodec(
            datasets, shared, args.random_state, args.n_jobs, tmp / "nd", tmp / "cache"
        )
        mo, mo_t = run_moabb(datasets, shared, args.random_state, args.n_jobs, tmp)
        # the re-centering pipelines (neurodec only; epochs now cached)
        nd_rc, nd_rc_t = run_neurodec(
            datasets, recentered, args.random_state, args.n_jobs, tmp / "nd", tmp / "cache"
        )
        # the latency-alignment pipelines and their controls, on epochs with a margin
        nd_lat, nd_lat_t = run_neurodec(
            datasets, latency, args.random_state, args.n_jobs, tmp / "nd-lat", tmp / "cache", tmin=MARGIN_TMIN
        )
        nd = {k: pd.concat([nd_shared[k], nd_rc[k], nd_lat[k]], ignore_index=True) for k in nd_shared}
        erp = erp_table(datasets["all"], tmp / "cache")
        lags = lag_table(datasets["multi"], pipes, tmp / "cache")
    clip = clipping_report(datasets["all"])

    diffs = {k: parity(nd[k][nd[k]["pipeline"].isin(list(shared))], mo[k]) for k in ("within", "cross")}
    within = per_subject(nd["within"])
    cross = per_subject(nd["cross"])
    within_mo, cross_mo = per_subject(mo["within"]), per_subject(mo["cross"])

    def side_by_side(a, b):
        out = pd.DataFrame(index=a.index)
        for s in a.columns:
            out[f"S{s} neurodec"] = a[s]
            out[f"S{s} MOABB"] = b[s] if s in b.columns else np.nan
        out.index.name = "pipeline"
        return out.reindex(sorted(out.index, key=lambda n: (n in RECENTER_PAIRS, n in latency, n)))

    # drop and recovery on the multi-session subjects (means over subjects 1-3)
    multi = list(args.multi)
    w = within[multi].copy()
    c = cross[multi]
    rows = []
    for p in within.index:
        row = {"pipeline": p}
        for s in multi:
            row[f"drop S{s}"] = w.loc[p, s] - c.loc[p, s]
        row["within (mean)"] = w.loc[p].mean()
        row["cross (mean)"] = c.loc[p].mean()
        row["drop (mean)"] = row["within (mean)"] - row["cross (mean)"]
        rows.append(row)
    drop = pd.DataFrame(rows).set_index("pipeline")

    def recovery(pairs) -> pd.DataFrame:
        rec_rows = []
        for rc, base in pairs:
            for s in multi + ["mean"]:
                if s == "mean":
                    d = drop.loc[base, "drop (mean)"]
                    gain = drop.loc[rc, "cross (mean)"] - drop.loc[base, "cross (mean)"]
                    wchg = drop.loc[rc, "within (mean)"] - drop.loc[base, "within (mean)"]
                else:
                    d = w.loc[base, s] - c.loc[base, s]
                    gain = c.loc[rc, s] - c.loc[base, s]
                    wchg = w.loc[rc, s] - w.loc[base, s]
                rec_rows.append(
                    {
                        "pipeline": f"{rc} vs {base}",
                        "subject": s,
                        "drop without": d,
                        "cross gain": gain,
                        "recovered": (gain / d) if d > 0.005 else np.nan,
                        "within change": wchg,
                    }
                )
        return pd.DataFrame(rec_rows).set_index("pipeline")

    rec = recovery(RECENTER_PAIRS.items())
    lat_pairs = []
    for aligned, base in LATENCY_PAIRS.items():
        lat_pairs += [(aligned, f"Crop0-0.8+{base}"), (aligned, f"Crop0-0.7+{base}"), (aligned, base)]
    rec_lat = recovery(lat_pairs)

    for t in (nd_shared_t, mo_t, nd_rc_t, nd_lat_t):
        t["total"] = t["within"] + t["cross"]
        t["total_cpu"] = t["within_cpu"] + t["cross_cpu"]

    def row(label, t):
        return (
            f"| {label} | {t['within']:.1f} s | {t['within_cpu']:.1f} s | {t['cross']:.1f} s | "
            f"{t['cross_cpu']:.1f} s | {t['total']:.1f} s | {t['total_cpu']:.1f} s |"
        )

    cmd = "nice .venv/bin/python benchmarks/p300_muse.py --data-root ../shared/data"
    clip_files = clip[clip["clipped_samples"] > 0]
    lines = [
        "# P300 across days on the Muse recordings (EEGNotebooks_VisualP300)",
        "",
        f"Command: `{cmd}` (random_state={args.random_state}, n_jobs={args.n_jobs}).",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs (shared with other jobs; run under `nice`), "
        f"Python {platform.python_version()}. Versions: {versions()}.",
        "",
        "Data: 4 Muse EEG channels (TP9, AF7, AF8, TP10; Right AUX excluded), 1-24 Hz IIR band-pass, "
        "epochs 0-0.8 s (the dataset's interval), no baseline, µV; epochs overlapping amplifier "
        "saturation rejected (`annotate_clipping=True`, same rule in both engines). "
        "Metric: ROC-AUC (Target vs NonTarget). Within-session: stratified 5-fold inside each "
        "session (all 5 subjects, mean over sessions); cross-session: leave one session out "
        "(subjects 1-3, mean over test sessions). neurodec's epochs: `neurodec.paradigms.P300()`; "
        "MOABB's: `moabb.paradigms.P300()`.",
        "",
        "## Within-session ROC-AUC (mean over each subject's sessions)",
        "",
        md_table(side_by_side(within, within_mo)),
        "",
        f"Max |neurodec - MOABB| over the {diffs['within'][1]} (subject, session, pipeline) rows of "
        f"the 4 shared pipelines: **{diffs['within'][0]:.2e}**. The re-centering and latency-alignment "
        "pipelines are neurodec-only (MOABB passes no session ids to a pipeline). `LatAlign+...` and "
        "its `Crop0-0.8+...`/`Crop0-0.7+...` controls run on epochs from -0.1 s "
        f"(`P300(tmin={MARGIN_TMIN})`, the margin the alignment needs): a few more epochs overlap "
        "a clipped stretch, so the 5 folds differ from the other rows'.",
        "",
        "## Cross-session ROC-AUC (leave one session out, mean over test sessions)",
        "",
        md_table(side_by_side(cross, cross_mo)),
        "",
        f"Max |neurodec - MOABB| over the {diffs['cross'][1]} (subject, test session, pipeline) rows: "
        f"**{diffs['cross'][0]:.2e}**.",
        "",
        "## Cross-session drop (within minus cross, subjects 1-3) and re-centering",
        "",
        md_table(drop),
        "",
        md_table(rec),
        "",
        "`recovered` = (cross AUC with re-centering - without) / (within - cross without); "
        "empty where there is no drop (cross >= within). `within change`: re-centering's effect on "
        "within-session AUC.",
        "",
        "## Per-session latency alignment (unsupervised) and what it recovers",
        "",
        "`LatencyAlignment(length=180)` on -0.1-0.8 s epochs: each session's "
        "0.7 s window starts at that session's own lag (within the margin, +/-26 samples = "
        "+/-101.6 ms), found by "
        "cross-correlating the session's grand average over all its epochs (no labels) with the "
        "training sessions' aligned grand average. Compared with the plain pipeline on the same "
        "epochs (`Crop0-0.8+...`, the main comparison), with the same 0.7 s window unaligned "
        "(`Crop0-0.7+...`: what the shorter window alone does), and with the plain pipeline's rows "
        "above (0-0.8 s epochs, other folds). Same definitions as the re-centering table.",
        "",
        md_table(rec_lat),
        "",
        "Lags found in leave-one-session-out (step fitted on the other sessions; positive: the "
        "session's response comes later than the training sessions'; +/-102 ms is the search "
        "limit):",
        "",
        md_table(lags.set_index("subject"), fmt="{}"),
        "",
        "## Why sessions differ: target minus non-target ERP at TP9/TP10 (250-450 ms, neurodec epochs)",
        "",
        md_table(erp.set_index("subject"), fmt="{}"),
        "",
        "## Wall and CPU time of the whole table (same run)",
        "",
        "CPU = this process's CPU seconds (`time.process_time`; both engines run in-process with "
        "n_jobs=1), the fairer comparison on a machine shared with other jobs, where wall time "
        "depends on their load.",
        "",
        "| | within wall | within CPU | cross wall | cross CPU | total wall | total CPU |",
        "|---|---:|---:|---:|---:|---:|---:|",
        row(f"neurodec, the {len(shared)} shared pipelines (cold epoch cache)", nd_shared_t),
        row(f"MOABB, the {len(shared)} shared pipelines", mo_t),
        "| ratio MOABB / neurodec (shared pipelines) | "
        + " | ".join(
            f"{mo_t[k] / nd_shared_t[k]:.2f}"
            for k in ("within", "within_cpu", "cross", "cross_cpu", "total", "total_cpu")
        )
        + " |",
        row(f"neurodec, the {len(recentered)} re-centering pipelines (warm epoch cache)", nd_rc_t),
        row(
            f"neurodec, the {len(latency)} latency-alignment pipelines and controls (cold epoch cache)",
            nd_lat_t,
        ),
        "",
        "## Clipping (|x| >= 999.5 µV on an EEG channel): files affected and epochs rejected",
        "",
        md_table(clip_files.set_index("subject"), fmt="{:.3f}"),
        "",
        f"Epochs rejected in all: {int(clip['clipped_epochs'].sum())} of {int(clip['n_events'].sum())} events.",
        "",
    ]
    text = "\n".join(lines)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
