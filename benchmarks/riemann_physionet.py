"""Within-session ROC-AUC of the motor-imagery pipelines on PhysionetMI, with MOABB references.

Left vs right hand imagery, 8-35 Hz, 5-fold stratified CV per subject-session with the
same folds as MOABB's ``WithinSessionEvaluation`` (``StratifiedKFold(5, shuffle=True,
random_state)``). neurodec rows run the YAML pipelines in ``pipelines/``; reference rows
run MOABB's ``WithinSessionEvaluation`` on the same data with MOABB's own
``AugmentedDataset`` ACM pipeline and pyRiemann's TS+SVM, TS+LR, MDM and CSP+LDA. A second table times the
paper's nested grid search against the fast selector on one outer fold.

Writes ``benchmarks/results/riemann_physionet.md``.

    nice .venv/bin/python benchmarks/riemann_physionet.py --subjects 1 2 3 4
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
DEFAULT_PIPELINES = [
    "TS+SVM",
    "TS+SVM-tuned",
    "TS+LR",
    "MDM",
    "FgMDM",
    "CSP+LDA",
    "ACM+TS+SVM",
    "ACM-fast+TS+SVM",
    "ACM-fast+TS+SVM-tuned",
    "ACM-AMI-FNN+TS+SVM",
]


def _versions() -> str:
    import mne
    import moabb
    import pyriemann
    import sklearn

    return (
        f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, pyriemann "
        f"{pyriemann.__version__}, moabb {moabb.__version__}, mne {mne.__version__}"
    )


def _machine() -> str:
    return f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def _load(data_root, subjects):
    from neurodec.datasets import get_dataset
    from neurodec.paradigms import LeftRightImagery

    dataset = get_dataset("PhysionetMI", data_root=data_root)
    X, y, meta = LeftRightImagery(fmin=8, fmax=35).get_data(dataset, subjects)
    return X, y, meta


def _cv(seed):
    from sklearn.model_selection import StratifiedKFold

    return StratifiedKFold(5, shuffle=True, random_state=seed)


def run_neurodec(X, y, meta, names, seed):
    """Per (pipeline, subject): mean fold AUC, CPU and wall seconds; selected embeddings."""
    from moabb.pipelines.utils import parse_pipelines_from_directory
    from sklearn.base import clone
    from sklearn.metrics import get_scorer

    scorer = get_scorer("roc_auc")
    specs = {p["name"]: p["pipeline"] for p in parse_pipelines_from_directory(str(REPO / "pipelines"))}
    rows = []
    for name in names:
        for subject in np.unique(meta.subject):
            for session in np.unique(meta.session[meta.subject == subject]):
                ix = np.flatnonzero((meta.subject == subject).values & (meta.session == session).values)
                Xs, ys = X[ix], y[ix]
                scores, chosen = [], []
                c0, w0 = time.process_time(), time.perf_counter()
                for train, test in _cv(seed).split(Xs, ys):
                    model = clone(specs[name]).fit(Xs[train], ys[train])
                    scores.append(scorer(model, Xs[test], ys[test]))
                    first = model.steps[0][1]
                    if hasattr(first, "order_") and first.selection_ is not None:
                        chosen.append((first.order_, first.lag_))
                rows.append(
                    dict(
                        pipeline=name,
                        subject=int(subject),
                        score=float(np.mean(scores)),
                        cpu=time.process_time() - c0,
                        wall=time.perf_counter() - w0,
                        chosen=chosen,
                    )
                )
                logging.info(
                    "%s subject %s: %.3f (%.1fs)", name, subject, rows[-1]["score"], rows[-1]["wall"]
                )
    return rows


def run_moabb(data_root, subjects, seed, acm_subjects):
    """MOABB's WithinSessionEvaluation with MOABB's ACM and pyRiemann's pipelines."""
    os.environ["MOABB_DOWNLOAD_PROVIDER"] = "upstream"
    os.environ["MNE_DATA"] = str(Path(data_root) / "PhysionetMI")
    from moabb.datasets import PhysionetMI
    from moabb.evaluations import WithinSessionEvaluation
    from moabb.paradigms import LeftRightImagery
    from moabb.pipelines.features import AugmentedDataset
    from pyriemann.classification import MDM
    from pyriemann.estimation import Covariances
    from pyriemann.spatialfilters import CSP
    from pyriemann.tangentspace import TangentSpace
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    def dataset_for(subs):
        dataset = PhysionetMI(imagined=True, executed=False)
        dataset.feet_runs = []
        dataset.subject_list = list(subs)
        return dataset

    pipelines = {
        "MOABB ACM(4,5)+TS+SVM [AugmentedDataset, cov]": make_pipeline(
            AugmentedDataset(order=4, lag=5),
            Covariances("cov"),
            TangentSpace(metric="riemann"),
            SVC(kernel="rbf"),
        ),
        "pyRiemann TS+SVM": make_pipeline(
            Covariances("oas"), TangentSpace(metric="riemann"), SVC(kernel="rbf")
        ),
        "pyRiemann TS+SVM, C/kernel by GridSearchCV": GridSearchCV(
            make_pipeline(Covariances("oas"), TangentSpace(metric="riemann"), SVC()),
            {"svc__C": [0.5, 1.0, 1.5], "svc__kernel": ["rbf", "linear"]},
            cv=3,
            scoring="roc_auc",
        ),
        "pyRiemann TS+LR": make_pipeline(
            Covariances("oas"), TangentSpace(metric="riemann"), LogisticRegression(C=1.0, max_iter=1000)
        ),
        "pyRiemann MDM": make_pipeline(Covariances("oas"), MDM(metric="riemann")),
        "pyRiemann CSP+LDA": make_pipeline(
            Covariances("oas"), CSP(nfilter=6), LinearDiscriminantAnalysis(solver="svd")
        ),
    }
    rows = []
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name, pipe in pipelines.items():
            subs = acm_subjects if name.startswith("MOABB ACM") else subjects
            evaluation = WithinSessionEvaluation(
                paradigm=LeftRightImagery(fmin=8, fmax=35),
                datasets=[dataset_for(subs)],
                random_state=seed,
                overwrite=True,
                hdf5_path=tmp,
                save_model=False,
                n_jobs=1,
            )
            c0, w0 = time.process_time(), time.perf_counter()
            res = evaluation.process({name: pipe})
            cpu, wall = time.process_time() - c0, time.perf_counter() - w0
            for _, r in res.iterrows():
                rows.append(
                    dict(
                        pipeline=name,
                        subject=int(r["subject"]),
                        score=float(r["score"]),
                        cpu=cpu / len(res),
                        wall=wall / len(res),
                        chosen=[],
                    )
                )
    return rows


def grid_vs_fast(X, y, meta, subject, seed, orders, lags):
    """Time the nested grid search and the fast selector (+ final fit) on one outer fold."""
    from pyriemann.tangentspace import TangentSpace
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    from neurodec.riemann import AugmentedCovariances
    from neurodec.riemann.selection import select_fast, select_grid

    ix = np.flatnonzero((meta.subject == subject).values)
    Xs, ys = X[ix], y[ix]
    train, test = next(_cv(seed).split(Xs, ys))
    out = {}

    def final(order, lag, C=1.0, kernel="rbf"):
        model = make_pipeline(
            AugmentedCovariances(order, lag, "oas"), TangentSpace(), SVC(C=C, kernel=kernel)
        )
        model.fit(Xs[train], ys[train])
        return roc_auc_score(ys[test] == model.classes_[1], model.decision_function(Xs[test]))

    c0 = time.process_time()
    g = select_grid(
        Xs[train],
        ys[train],
        orders=orders,
        lags=lags,
        Cs=(1.0,),
        kernels=("rbf",),
        estimator="oas",
        random_state=seed,
    )
    auc = final(g.order, g.lag, g.details["svc__C"], g.details["svc__kernel"])
    out["grid"] = dict(
        cpu=time.process_time() - c0,
        order=g.order,
        lag=g.lag,
        auc=auc,
        n_fits=len(orders) * len(lags) * 3 + 1,
    )
    for label, kw in (
        ("fast (same candidates)", dict(orders=orders, lags=lags)),
        ("fast (orders 1-10, lags 1-10)", {}),
    ):
        c0 = time.process_time()
        f = select_fast(Xs[train], ys[train], random_state=seed, **kw)
        auc = final(f.order, f.lag)
        out[label] = dict(
            cpu=time.process_time() - c0, order=f.order, lag=f.lag, auc=auc, n_candidates=len(f.scores)
        )
    return out


def _summary(rows):
    import pandas as pd

    df = pd.DataFrame(rows)
    agg = df.groupby("pipeline", sort=False).agg(
        mean=("score", "mean"),
        std=("score", "std"),
        n=("subject", "nunique"),
        cpu=("cpu", "sum"),
        wall=("wall", "sum"),
    )
    return df, agg


def write(path, args, rows, grid, toeplitz):
    df, agg = _summary(rows)
    lines = [
        "# Riemannian pipelines on PhysionetMI (within-session, left vs right imagery, 8-35 Hz)",
        "",
        f"- Command: `{args.command}`",
        f"- Machine: {_machine()} (shared with other jobs: wall times are noisy; CPU = process time)",
        f"- Versions: {_versions()}",
        f"- Subjects: {sorted(df.subject.unique().tolist())}; 5-fold "
        f"StratifiedKFold(shuffle=True, random_state={args.seed}) per subject, as MOABB's WithinSessionEvaluation",
        "",
        "| pipeline | ROC-AUC mean ± std over subjects | subjects | CPU s (all folds) | wall s |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for name, r in agg.iterrows():
        lines.append(
            f"| {name} | {r['mean']:.3f} ± {r['std']:.3f} | {int(r['n'])} | {r['cpu']:.1f} | {r['wall']:.1f} |"
        )
    lines += [
        "",
        "Per subject:",
        "",
        "| pipeline | " + " | ".join(f"S{s}" for s in sorted(df.subject.unique())) + " |",
        "| --- |" + " ---: |" * df.subject.nunique(),
    ]
    for name in agg.index:
        sub = df[df.pipeline == name].set_index("subject")["score"]
        lines.append(
            f"| {name} | "
            + " | ".join(f"{sub.get(s, float('nan')):.3f}" for s in sorted(df.subject.unique()))
            + " |"
        )
    lines += paired_lines(df, "PhysionetMI")
    chosen = df[df.chosen.map(len) > 0]
    if len(chosen):
        lines += ["", "Embeddings selected inside each training fold (order, lag):", ""]
        for _, r in chosen.iterrows():
            lines.append(f"- {r['pipeline']}, subject {r['subject']}: {[tuple(c) for c in r['chosen']]}")
    if grid:
        g = grid["grid"]
        lines += [
            "",
            f"## Nested grid search vs fast selector (subject {args.grid_subject}, outer fold 1 of 5)",
            "",
            f"Reduced grid (the full 10x10 orders x lags x 3 C x 2 kernels is hours per fold on 64 channels): "
            f"orders {args.grid_orders}, lags {args.grid_lags}, C=1, rbf, inner 3-fold; same candidates for the fast selector.",
            "",
            "| selector | order | lag | outer-fold AUC | CPU s (selection + final fit) | ratio vs grid |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for label, r in grid.items():
            lines.append(
                f"| {label} | {r['order']} | {r['lag']} | {r['auc']:.3f} | {r['cpu']:.1f} | {g['cpu'] / r['cpu']:.1f}x |"
            )
        full = 600 / (len(args.grid_orders) * len(args.grid_lags)) * g["cpu"]
        lines += [
            "",
            f"Extrapolated full grid (600 candidates, linear in candidates; high orders cost more, so this "
            f"is a lower bound): {full:.0f} CPU s per fold, "
            f"{full / grid['fast (orders 1-10, lags 1-10)']['cpu']:.0f}x the fast selector on its full default grid.",
        ]
    if toeplitz:
        lines += [
            "",
            "## Block-Toeplitz approximation vs exact ACM (OAS, training trials of subject 1)",
            "",
            "| order | lag | median relative Frobenius error | median AIRM distance to exact | median AIRM distance between trials |",
            "| ---: | ---: | ---: | ---: | ---: |",
        ]
        for (m, t), e in toeplitz.items():
            lines.append(
                f"| {m} | {t} | {e['relative_frobenius']:.4f} | {e['riemann_distance']:.3f} | {e['riemann_between_trials']:.3f} |"
            )
    path.write_text("\n".join(lines) + "\n")


def main(argv=None):
    from neurodec.config import data_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(data_root()))
    parser.add_argument("--subjects", type=int, nargs="+", default=list(range(1, 21)))
    parser.add_argument("--pipelines", nargs="+", default=DEFAULT_PIPELINES)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-moabb", action="store_true")
    parser.add_argument(
        "--moabb-acm-subjects",
        type=int,
        nargs="+",
        default=None,
        help="subjects for MOABB's ACM reference row (it is slow: ~5 CPU min/subject)",
    )
    parser.add_argument("--grid-subject", type=int, default=1)
    parser.add_argument("--grid-orders", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--grid-lags", type=int, nargs="+", default=[3, 6])
    parser.add_argument("--no-grid", action="store_true")
    parser.add_argument("--out", default=str(RESULTS / "riemann_physionet.md"))
    parser.add_argument(
        "--save-rows",
        default=None,
        help="also write the per-(pipeline, subject) rows as JSON to this path (not committed)",
    )
    parser.add_argument(
        "--from-rows",
        default=None,
        help="rewrite the tables from rows saved by --save-rows instead of running",
    )
    args = parser.parse_args(argv)
    args.command = (
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} nice .venv/bin/python "
        + " ".join(shlex.quote(a) for a in sys.argv)
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    warnings.filterwarnings("ignore")
    import mne

    mne.set_log_level("ERROR")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.from_rows:
        saved = json.loads(Path(args.from_rows).read_text())
        args.command = saved["command"]
        toeplitz = {tuple(map(int, k.split(","))): v for k, v in saved["toeplitz"].items()}
        write(out, args, saved["rows"], saved["grid"], toeplitz)
        logging.info("wrote %s from %s", out, args.from_rows)
        return
    X, y, meta = _load(args.data_root, args.subjects)
    rows = run_neurodec(X, y, meta, args.pipelines, args.seed)
    if not args.no_moabb:
        rows += run_moabb(args.data_root, args.subjects, args.seed, args.moabb_acm_subjects or args.subjects)
    grid = (
        None
        if args.no_grid
        else grid_vs_fast(X, y, meta, args.grid_subject, args.seed, args.grid_orders, args.grid_lags)
    )
    from neurodec.riemann.selection import toeplitz_error

    ix = np.flatnonzero((meta.subject == args.subjects[0]).values)
    train, _ = next(_cv(args.seed).split(X[ix], y[ix]))
    toeplitz = {(m, t): toeplitz_error(X[ix][train], m, t) for m, t in ((2, 4), (3, 6), (4, 5))}
    if args.save_rows:
        saved = dict(
            command=args.command,
            rows=rows,
            grid=grid,
            toeplitz={f"{m},{t}": v for (m, t), v in toeplitz.items()},
        )
        Path(args.save_rows).write_text(json.dumps(saved, default=float))
    write(out, args, rows, grid, toeplitz)
    logging.info("wrote %s", out)


if __name__ == "__main__":
    main()
