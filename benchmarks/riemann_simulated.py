"""Riemannian pipelines on the simulated motor-imagery dataset: within- and cross-session.

``SimulatedMI`` (neurodec.datasets.simulated) subjects with several sessions; left vs
right imagery, 8-35 Hz. Within-session: 5-fold StratifiedKFold per subject-session.
Cross-session: leave one session out per subject, with and without unsupervised
per-session re-centering (``neurodec.riemann.Recentering`` after the covariance step; the
training sessions are each centred with their own mean, the test session with its own,
no test labels).

Writes ``benchmarks/results/riemann_simulated.md``.

    nice .venv/bin/python benchmarks/riemann_simulated.py
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from paired_table import paired_lines

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent
PIPELINES = [
    "TS+SVM",
    "TS+SVM-tuned",
    "TS+LR",
    "MDM",
    "FgMDM",
    "CSP+LDA",
    "ACM+TS+SVM",
    "ACM+MDM",
    "ACM-fast+TS+SVM",
    "ACM-fast+TS+SVM-tuned",
    "ACM-AMI-FNN+TS+SVM",
]


def main(argv=None):
    import pandas as pd
    from moabb.pipelines.utils import parse_pipelines_from_directory
    from sklearn.base import clone
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import StratifiedKFold

    from neurodec.datasets import get_dataset
    from neurodec.paradigms import LeftRightImagery
    from neurodec.riemann import Recentering

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="unused (generated data)")
    parser.add_argument("--subjects", type=int, default=2)
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--trials", type=int, default=20, help="per class per run")
    parser.add_argument("--channels", type=int, default=32, choices=[32, 64])
    parser.add_argument("--pipelines", nargs="+", default=PIPELINES)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default=str(RESULTS / "riemann_simulated.md"))
    parser.add_argument(
        "--save-rows", default=None, help="also write the per-subject rows as JSON (not committed)"
    )
    parser.add_argument(
        "--from-rows", default=None, help="rewrite the tables from --save-rows output instead of running"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.from_rows:
        saved = json.loads(Path(args.from_rows).read_text())
        write(out, saved["command"], saved["data"], pd.DataFrame(saved["rows"]))
        return
    command = (
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} nice .venv/bin/python "
        + " ".join(shlex.quote(a) for a in sys.argv)
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    warnings.filterwarnings("ignore")
    import mne

    mne.set_log_level("ERROR")
    ds = get_dataset(
        "SimulatedMI",
        n_subjects=args.subjects,
        n_sessions=args.sessions,
        n_runs=1,
        n_trials=args.trials,
        n_eeg_channels=args.channels,
        seed=args.seed,
    )
    X, y, meta = LeftRightImagery(fmin=8, fmax=35).get_data(ds, list(range(1, args.subjects + 1)))
    data = (
        f"SimulatedMI({args.subjects} subjects, {args.sessions} sessions, 1 run, {args.trials} trials/class, "
        f"{args.channels} EEG channels, seed {args.seed}); X {X.shape}"
    )
    specs = {p["name"]: p["pipeline"] for p in parse_pipelines_from_directory(str(REPO / "pipelines"))}
    scorer = get_scorer("roc_auc")
    rows = []

    def with_recentering(pipe):
        pipe = clone(pipe)
        pipe.steps.insert(1, ("recentering", Recentering(metric="riemann")))
        return pipe

    for name in args.pipelines:
        for subject in range(1, args.subjects + 1):
            sub = (meta.subject == subject).values
            sessions = np.unique(meta.session[sub])
            c0 = time.process_time()
            within = []
            for session in sessions:
                ix = np.flatnonzero(sub & (meta.session == session).values)
                for tr, te in StratifiedKFold(5, shuffle=True, random_state=args.seed).split(X[ix], y[ix]):
                    model = clone(specs[name]).fit(X[ix][tr], y[ix][tr])
                    within.append(scorer(model, X[ix][te], y[ix][te]))
            rows.append(
                dict(
                    pipeline=name,
                    evaluation="within-session",
                    subject=subject,
                    score=np.mean(within),
                    cpu=time.process_time() - c0,
                )
            )
            for variant in ("", "+Recentering"):
                c0 = time.process_time()
                cross = []
                for session in sessions:
                    test = sub & (meta.session == session).values
                    train = sub & ~test
                    if variant:
                        model = with_recentering(specs[name])
                        model.fit(X[train], y[train], recentering__domains=meta.session.values[train])
                    else:
                        model = clone(specs[name]).fit(X[train], y[train])
                    cross.append(scorer(model, X[test], y[test]))  # test session = one domain
                rows.append(
                    dict(
                        pipeline=name + variant,
                        evaluation="cross-session",
                        subject=subject,
                        score=np.mean(cross),
                        cpu=time.process_time() - c0,
                    )
                )
            logging.info("%s subject %d done", name, subject)
    if args.save_rows:
        Path(args.save_rows).write_text(
            json.dumps(dict(command=command, data=data, rows=rows), default=float)
        )
    write(out, command, data, pd.DataFrame(rows))


def write(out: Path, command: str, data: str, df) -> None:
    import pyriemann
    import sklearn

    agg = df.groupby(["evaluation", "pipeline"], sort=False).agg(
        mean=("score", "mean"), std=("score", "std"), cpu=("cpu", "sum")
    )
    lines = [
        "# Riemannian pipelines on SimulatedMI (left vs right imagery, 8-35 Hz)",
        "",
        f"- Command: `{command}`",
        f"- Machine: {platform.platform()}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}",
        f"- Versions: numpy {np.__version__}, scikit-learn {sklearn.__version__}, pyriemann {pyriemann.__version__}",
        f"- Data: {data}",
        "- Within-session: 5-fold StratifiedKFold per subject-session; cross-session: leave one session out per subject",
        "",
        "| evaluation | pipeline | ROC-AUC mean ± std over subjects | CPU s |",
        "| --- | --- | --- | ---: |",
    ]
    for (ev, name), r in agg.iterrows():
        lines.append(f"| {ev} | {name} | {r['mean']:.3f} ± {r['std']:.3f} | {r['cpu']:.1f} |")
    subjects = sorted(df.subject.unique())
    lines += [
        "",
        "Per subject:",
        "",
        "| evaluation | pipeline | " + " | ".join(f"S{s}" for s in subjects) + " |",
        "| --- | --- |" + " ---: |" * len(subjects),
    ]
    for (ev, name), part in df.groupby(["evaluation", "pipeline"], sort=False):
        sub = part.set_index("subject")["score"]
        lines.append(
            f"| {ev} | {name} | " + " | ".join(f"{sub.get(s, float('nan')):.3f}" for s in subjects) + " |"
        )
    lines += paired_lines(
        df[["evaluation", "pipeline", "subject", "score"]], "SimulatedMI", variants=("+Recentering",)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    logging.info("wrote %s", out)


if __name__ == "__main__":
    main()
