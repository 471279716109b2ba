"""Simulator figures: generation speed and a Riemannian baseline within vs across sessions.

For each modality (EEG, MEG, sEEG) of ``SimulatedMI``:

- seconds to generate one subject-session (all its runs), cold forward-model cache
  per subject;
- ROC-AUC of Covariances("oas") + TangentSpace + LogisticRegression on 8-35 Hz
  left/right imagery epochs (the dataset's [0, 4] s interval): within each session
  (5-fold stratified CV) and across sessions (train on one session, test on each
  other one), mean ± std over subjects × sessions (resp. ordered session pairs).

An EEG run with ``session_shift=0`` (sessions differ only by fresh random signals)
is the control showing that the cross-session drop comes from the simulated
session changes.

Writes ``benchmarks/results/simulator.md``. Example::

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/simulator.py
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from neurodec.config import data_root
from neurodec.datasets.simulated import SimulatedMI
from neurodec.datasets.simulated.forward import clear_cache

RESULTS = Path(__file__).resolve().parent / "results" / "simulator.md"


def _paradigm():
    try:
        from neurodec.paradigms import LeftRightImagery

        return LeftRightImagery(fmin=8, fmax=35, cache=False), "neurodec.paradigms.LeftRightImagery"
    except ImportError:  # pragma: no cover - before the paradigms layer existed
        from moabb.paradigms import LeftRightImagery

        return LeftRightImagery(fmin=8, fmax=35), "moabb.paradigms.LeftRightImagery"


def _pipeline():
    from pyriemann.estimation import Covariances
    from pyriemann.tangentspace import TangentSpace
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(Covariances("oas"), TangentSpace(), LogisticRegression(max_iter=1000))


def _scores(X, y, meta) -> tuple[list[float], list[float]]:
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    sessions = sorted(meta["session"].unique())
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    within, cross = [], []
    for train in sessions:
        k = (meta["session"] == train).to_numpy()
        within.append(float(cross_val_score(_pipeline(), X[k], y[k], cv=cv, scoring="roc_auc").mean()))
        model = _pipeline().fit(X[k], y[k])
        pos = list(model.classes_).index("right_hand")
        for test in sessions:
            if test == train:
                continue
            t = (meta["session"] == test).to_numpy()
            cross.append(float(roc_auc_score(y[t] == "right_hand", model.predict_proba(X[t])[:, pos])))
    return within, cross


def run_modality(modality: str, args, session_shift: float = 1.0) -> dict:
    ds = SimulatedMI(
        n_subjects=args.subjects,
        n_sessions=args.sessions,
        n_runs=args.runs,
        n_trials=args.trials,
        modality=modality,
        seed=args.seed,
        session_shift=session_shift,
        meg_sensors=args.meg_sensors,
    )
    paradigm, _ = _paradigm()
    gen, within, cross, n_channels, per_subject = [], [], [], 0, []
    for subject in ds.subject_list:
        clear_cache()
        t0 = time.perf_counter()
        data = ds.get_data([subject])
        gen.append((time.perf_counter() - t0) / args.sessions)
        raw = data[subject]["0"]["0"]
        rec_s = raw.n_times / raw.info["sfreq"] * args.runs
        del data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X, y, meta = paradigm.get_data(ds, subjects=[subject])
        n_channels = X.shape[1]
        w, c = _scores(X, y, meta)
        within += w
        cross += c
        per_subject.append((subject, np.mean(w), np.mean(c)))
        print(
            f"{modality} shift={session_shift} subject {subject}: gen {gen[-1]:.2f} s/session, "
            f"within {np.mean(w):.3f}, cross {np.mean(c):.3f}",
            flush=True,
        )
    return dict(
        modality=modality,
        shift=session_shift,
        n_channels=n_channels,
        gen=gen,
        rec_s=rec_s,
        within=within,
        cross=cross,
        per_subject=per_subject,
        n_trials=X.shape[0] // args.sessions,
    )


def _ms(values) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-root", default=str(data_root()), help="unused (generated data); accepted like every benchmark"
    )
    parser.add_argument("--subjects", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--trials", type=int, default=20, help="trials per class per run")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--modalities", nargs="+", default=["eeg", "meg", "seeg"])
    parser.add_argument(
        "--meg-sensors",
        default="mag",
        choices=["mag", "grad", "both"],
        help="MEG channels (default mag: 102; the Riemannian mean of 306x306 "
        "matrices is slow on a 2-core machine)",
    )
    parser.add_argument("--no-control", action="store_true", help="skip the session_shift=0 EEG run")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)

    results = [run_modality(m, args) for m in args.modalities]
    if not args.no_control and "eeg" in args.modalities:
        results.append(run_modality("eeg", args, session_shift=0.0))

    _, paradigm_name = _paradigm()
    versions = {
        p: metadata.version(p) for p in ("neurodec", "mne", "moabb", "pyriemann", "scikit-learn", "numpy")
    }
    cmd = " ".join(
        [
            "OMP_NUM_THREADS=" + os.environ.get("OMP_NUM_THREADS", "<unset>"),
            "nice .venv/bin/python benchmarks/simulator.py",
        ]
        + sys.argv[1:]
    )
    lines = [
        "# Simulator: generation speed and session shift (SimulatedMI)",
        "",
        f"Command: `{cmd}`",
        "",
        f"Machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()} "
        f"(shared with other jobs while measured). Packages: "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ".",
        "",
        f"Dataset: {args.subjects} subjects × {args.sessions} sessions × {args.runs} runs × "
        f"{args.trials} trials per class per run, seed {args.seed}, 160 Hz; EEG 64 channels, "
        f"MEG {args.meg_sensors}, sEEG 8 shafts x 8 contacts. "
        f"Epochs: {paradigm_name}(fmin=8, fmax=35), interval [0, 4] s. "
        "Pipeline: Covariances('oas') + TangentSpace + LogisticRegression. "
        "ROC-AUC within session: 5-fold stratified CV per (subject, session); cross session: "
        "train on one session, test on each other one (ordered pairs). Mean ± std over those.",
        "",
        "| modality | session_shift | channels | trials/session | recorded s/session | "
        "generation s/subject-session | AUC within session | AUC cross session | drop |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['modality']} | {r['shift']:g} | {r['n_channels']} | {r['n_trials']} | "
            f"{r['rec_s']:.0f} | {_ms(r['gen'])} | {_ms(r['within'])} | {_ms(r['cross'])} | "
            f"{np.mean(r['within']) - np.mean(r['cross']):.3f} |"
        )
    lines += [
        "",
        "Per subject (mean AUC within / cross):",
        "",
        "| modality | session_shift | "
        + " | ".join(f"subject {s}" for s, _, _ in results[0]["per_subject"])
        + " |",
        "|---|---|" + "---|" * len(results[0]["per_subject"]),
    ]
    for r in results:
        lines.append(
            f"| {r['modality']} | {r['shift']:g} | "
            + " | ".join(f"{w:.2f} / {c:.2f}" for _, w, c in r["per_subject"])
            + " |"
        )
    lines.append("")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
