"""The paper's full nested grid search for the ACM embedding vs neurodec's selectors.

Two measurements on real PhysionetMI folds (left vs right imagery, 8-35 Hz, outer
``StratifiedKFold(5, shuffle=True, random_state=42)`` as MOABB's WithinSessionEvaluation):

1. **Full grid, run to the end, on every outer fold** of the chosen subjects, on a
   sensorimotor montage (default 8 channels, so that order 10 is 80x80 and the grid
   finishes): the paper's 600 candidates (order 1-10 x lag 1-10 x SVC C {0.5, 1, 1.5} x
   kernel {rbf, linear}, inner 3-fold, ``GridSearchCV`` refitting embedding, OAS
   covariances, tangent space and SVC for each), against the fast selector and the
   AMI + Cao/FNN selector on the same training folds (selection + final fit), plus the
   fixed ACM(4, 5) and TS+SVM. Outer-fold ROC-AUC and CPU seconds per fold.
2. **Full grid cost on all 64 channels**, measured per order: one grid candidate
   (inner 3-fold fit + score, lag 5, C=1, rbf) timed for every order 1-10 on one real
   training fold; the full-grid cost per fold is the sum over orders x 10 lags x 6
   (C, kernel) candidates, against the fast selector's measured time on the same fold.

Writes ``benchmarks/results/riemann_grid.md``.

    OMP_NUM_THREADS=1 nice .venv/bin/python benchmarks/riemann_grid.py --subjects 1 2 7
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

RESULTS = Path(__file__).resolve().parent / "results"
MONTAGE = ["FC3", "FCz", "FC4", "C3", "Cz", "C4", "CP3", "CP4"]
SIM_MONTAGE = [
    "FC3",
    "FC1",
    "C3",
    "C1",
    "FC2",
    "FC4",
    "C2",
    "C4",
]  # around C3 and C4 on SimulatedMI's 32-channel cap
ORDERS = list(range(1, 11))
LAGS = list(range(1, 11))
CS = (0.5, 1.0, 1.5)
KERNELS = ("rbf", "linear")
LABELS = (
    "grid (600 candidates)",
    "fast",
    "fast, 1 split, best score (0.1)",
    "AMI-FNN",
    "fixed ACM(4,5)",
    "TS+SVM (order 1)",
    "fast + SVC tuned",
    "AMI-FNN + SVC tuned",
    "TS+SVM + SVC tuned",
)


def _versions() -> str:
    import pyriemann
    import sklearn

    return f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, pyriemann {pyriemann.__version__}"


def _load(data_root, subjects, channels):
    from neurodec.datasets import get_dataset
    from neurodec.paradigms import LeftRightImagery

    dataset = get_dataset("PhysionetMI", data_root=data_root)
    return LeftRightImagery(fmin=8, fmax=35, channels=channels).get_data(dataset, subjects)


def _load_simulated(subjects, channels, seed):
    from neurodec.datasets import get_dataset
    from neurodec.paradigms import LeftRightImagery

    dataset = get_dataset(
        "SimulatedMI",
        n_subjects=max(subjects),
        n_sessions=2,
        n_runs=1,
        n_trials=40,
        n_eeg_channels=32,
        seed=seed,
    )
    return LeftRightImagery(fmin=8, fmax=35, channels=channels).get_data(dataset, subjects)


def _simulated_splits(meta, y, subject, seed):
    """Within-session 5-fold in the first session, then leave-one-session-out both ways."""
    out = []
    sessions = sorted(meta.session[meta.subject == subject].unique())
    first = np.flatnonzero(((meta.subject == subject) & (meta.session == sessions[0])).values)
    for k, (train, test) in enumerate(_folds(y[first], seed), start=1):
        out.append((f"within {sessions[0]} #{k}", first[train], first[test]))
    for s_test in sessions:
        test = np.flatnonzero(((meta.subject == subject) & (meta.session == s_test)).values)
        train = np.flatnonzero(((meta.subject == subject) & (meta.session != s_test)).values)
        out.append((f"cross -> {s_test}", train, test))
    return out


def _folds(y, seed):
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(5, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def _final(Xtr, ytr, Xte, yte, order, lag, C=1.0, kernel="rbf", tuned_seed=None):
    """Fit ACM(order, lag)+TS+SVC on the outer training fold; outer AUC and the SVC setting.

    ``tuned_seed``: use :class:`neurodec.riemann.TunedSVC` (the grid's 6 C/kernel candidates
    scored on inner 3 folds of the tangent vectors) instead of a fixed SVC.
    """
    from pyriemann.tangentspace import TangentSpace
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    from neurodec.riemann import AugmentedCovariances, TunedSVC

    svc = (
        SVC(C=C, kernel=kernel)
        if tuned_seed is None
        else TunedSVC(Cs=CS, kernels=KERNELS, cv=3, random_state=tuned_seed)
    )
    model = make_pipeline(AugmentedCovariances(order, lag, "oas"), TangentSpace(metric="riemann"), svc)
    model.fit(Xtr, ytr)
    auc = float(roc_auc_score(yte == model.classes_[1], model.decision_function(Xte)))
    if tuned_seed is None:
        return auc, {}
    return auc, dict(C=float(model[-1].C_), kernel=model[-1].kernel_)


def one_fold(Xtr, ytr, Xte, yte, seed, have=None):
    """Every selector on one outer fold: chosen (order, lag), outer AUC, CPU s.

    ``have``: results already computed for this fold (kept; only missing rows are run).
    """
    from neurodec.riemann.selection import select_ami_fnn, select_fast, select_grid

    out = dict(have or {})

    def timed(label, select, tuned=False):
        if label in out:
            return
        c0 = time.process_time()
        choice, params = select()
        auc, found = _final(
            Xtr, ytr, Xte, yte, choice[0], choice[1], tuned_seed=seed if tuned else None, **params
        )
        out[label] = dict(
            order=int(choice[0]), lag=int(choice[1]), auc=auc, cpu=time.process_time() - c0, **params, **found
        )

    def by_grid():
        g = select_grid(
            Xtr,
            ytr,
            orders=ORDERS,
            lags=LAGS,
            Cs=CS,
            kernels=KERNELS,
            cv=3,
            estimator="oas",
            random_state=seed,
        )
        return (g.order, g.lag), dict(C=float(g.details["svc__C"]), kernel=g.details["svc__kernel"])

    timed("grid (600 candidates)", by_grid)

    def by_fast():
        f = select_fast(Xtr, ytr, orders=ORDERS, lags=LAGS, random_state=seed)
        return (f.order, f.lag), {}

    def by_fast_single():
        f = select_fast(Xtr, ytr, orders=ORDERS, lags=LAGS, random_state=seed, n_repeats=1, rule="best")
        return (f.order, f.lag), {}

    def by_ami():
        a = select_ami_fnn(Xtr)
        return (a.order, a.lag), {}

    timed("fast", by_fast)
    timed("fast, 1 split, best score (0.1)", by_fast_single)
    timed("AMI-FNN", by_ami)
    timed("fixed ACM(4,5)", lambda: ((4, 5), {}))
    timed("TS+SVM (order 1)", lambda: ((1, 1), {}))
    timed("fast + SVC tuned", by_fast, tuned=True)
    timed("AMI-FNN + SVC tuned", by_ami, tuned=True)
    timed("TS+SVM + SVC tuned", lambda: ((1, 1), {}), tuned=True)
    return out


def per_order_cost(Xtr, ytr, seed, orders, lag=5):
    """CPU s of one grid candidate (inner 3-fold fit + score) per order, on all channels."""
    from neurodec.riemann.selection import select_grid

    costs = {}
    for m in orders:
        c0 = time.process_time()
        select_grid(
            Xtr,
            ytr,
            orders=[m],
            lags=[lag],
            Cs=(1.0,),
            kernels=("rbf",),
            cv=3,
            estimator="oas",
            random_state=seed,
        )
        costs[m] = time.process_time() - c0
        logging.info("64-channel grid candidate order %d: %.1f CPU s", m, costs[m])
    return costs


def time_fast(Xtr, ytr, seed):
    """CPU s of the fast selector on the full default grid, and its choice."""
    from neurodec.riemann.selection import select_fast

    c0 = time.process_time()
    f = select_fast(Xtr, ytr, orders=ORDERS, lags=LAGS, random_state=seed)
    return time.process_time() - c0, (f.order, f.lag)


def _wilcoxon(diff) -> str:
    """Two-sided paired Wilcoxon signed-rank p-value of per-fold differences ('p = 1' if all zero)."""
    from scipy.stats import wilcoxon

    diff = np.asarray(diff)
    if np.all(np.abs(diff) < 1e-12):
        return "p = 1"
    return f"p = {wilcoxon(diff, zero_method='wilcox').pvalue:.2f}"


def _subject_bootstrap_ci(diff, subjects, n_boot=5000, seed=0) -> str:
    """95 % percentile interval of the mean per-fold difference, resampling whole subjects
    (folds of one subject are not independent)."""
    diff, subjects = np.asarray(diff), np.asarray(subjects)
    unique = np.unique(subjects)
    if unique.size < 2:
        return "n/a"
    rng = np.random.default_rng(seed)
    groups = [diff[subjects == u] for u in unique]
    means = [
        np.concatenate([groups[i] for i in rng.integers(0, unique.size, unique.size)]).mean()
        for _ in range(n_boot)
    ]
    lo, hi = np.percentile(means, [2.5, 97.5])
    return f"[{lo:+.3f}, {hi:+.3f}]"


def write(path, args, folds, cost):
    lines = [
        "# Nested grid search for the ACM embedding vs neurodec's selectors "
        + ("(SimulatedMI)" if args.dataset == "simulated" else "(PhysionetMI, real folds)"),
        "",
        f"- Command: `{args.command}`",
        f"- Machine: {platform.platform()}, {os.cpu_count()} CPUs (shared with other jobs), "
        f"Python {platform.python_version()}; BLAS threads: OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}",
        f"- Versions: {_versions()}",
        (
            "- SimulatedMI (2 sessions, 40 trials per class, 32-channel cap, seed "
            f"{args.seed}), left vs right imagery, 8-35 Hz, 0-4 s at 160 Hz; folds: 5-fold StratifiedKFold "
            f"(shuffle=True, random_state={args.seed}) within the first session ('within'), then train on one "
            "session and test on the other ('cross')."
            if args.dataset == "simulated"
            else "- Left vs right imagery, 8-35 Hz, 0-3 s (481 samples at 160 Hz); outer 5-fold "
            f"StratifiedKFold(shuffle=True, random_state={args.seed}) per subject, as MOABB's WithinSessionEvaluation."
        ),
        "- CPU s = process time of selection + final fit on the outer training fold (what a user waits for per fold).",
        "",
    ]
    if folds:
        labels = [lab for lab in LABELS if all(lab in f["res"] for f in folds)]
        lines += [
            f"## 1. Full 600-candidate grid on every outer fold ({len(args.channels)} channels: {', '.join(args.channels)})",
            "",
            "Grid: order 1-10 x lag 1-10 x SVC C {0.5, 1, 1.5} x kernel {rbf, linear}, inner 3-fold "
            "(`neurodec.riemann.select_grid`, sklearn `GridSearchCV` over the ACM+TS+SVC pipeline, OAS). "
            "fast: `select_fast` over the same 100 (order, lag) pairs (inner 3-fold repeated 5 times, "
            "lowest order within one standard error of the best), then ACM+TS+SVC(C=1, rbf). "
            "'fast, 1 split, best score (0.1)': the same selector as first released (one inner 3-fold, "
            "highest score). "
            "AMI-FNN: `select_ami_fnn` (unsupervised), same final fit. "
            "'+ SVC tuned': the same embedding, with `neurodec.riemann.TunedSVC` as the SVM step (the grid's "
            "6 (C, kernel) candidates scored on inner 3 folds of the tangent vectors: the grid's classifier "
            "tuning without its embedding search); 'fast + SVC tuned' is the pipeline "
            "`pipelines/acm_fast_ts_svm_tuned.yml`.",
            "",
        ]
        grid_label = "grid (600 candidates)"
        g_auc = np.array([f["res"][grid_label]["auc"] for f in folds])
        g_cpu = np.array([f["res"][grid_label]["cpu"] for f in folds])
        cross = np.array([str(f["fold"]).startswith("cross") for f in folds])
        split_cols = cross.any() and not cross.all()
        header = "| selector | mean outer AUC |"
        header += (
            f" within ({int((~cross).sum())} folds) | cross-session ({int(cross.sum())}) |"
            if split_cols
            else ""
        )
        header += (
            " folds >= grid / < grid | mean - grid's (Wilcoxon p) | 95 % CI of mean - grid's (subject bootstrap) |"
            " mean CPU s per fold | grid CPU / this CPU |"
        )
        lines += [header, "| --- |" + " ---: |" * (header.count("|") - 2)]
        for label in labels:
            auc = np.array([f["res"][label]["auc"] for f in folds])
            cpu = np.array([f["res"][label]["cpu"] for f in folds])
            row = f"| {label} | {auc.mean():.3f} |"
            if split_cols:
                row += f" {auc[~cross].mean():.3f} | {auc[cross].mean():.3f} |"
            diff = auc - g_auc
            row += f" {int((diff >= -1e-12).sum())} / {int((diff < -1e-12).sum())} |"
            subjects = [f["subject"] for f in folds]
            row += (
                f" {diff.mean():+.3f} ({_wilcoxon(diff)}) | {_subject_bootstrap_ci(diff, subjects)} |"
                if label != grid_label
                else " | |"
            )
            row += f" {cpu.mean():.1f} | {np.mean(g_cpu) / np.mean(cpu):.0f}x |"
            lines.append(row)
        lines += [
            "",
            "Per fold (chosen order, lag; outer AUC; CPU s):",
            "",
            "| subject | fold | " + " | ".join(labels) + " |",
            "| ---: | ---: |" + " --- |" * len(labels),
        ]
        for f in folds:
            cells = []
            for label in labels:
                r = f["res"][label]
                extra = f", C={r['C']}, {r['kernel']}" if "C" in r else ""
                cells.append(f"({r['order']},{r['lag']}{extra}) {r['auc']:.3f}, {r['cpu']:.1f}s")
            lines.append(f"| {f['subject']} | {f['fold']} | " + " | ".join(cells) + " |")
    if cost:
        costs = {int(k): v for k, v in cost["costs"].items()}
        per_order_total = {m: c * len(LAGS) * len(CS) * len(KERNELS) for m, c in costs.items()}
        total = sum(per_order_total.values())
        fast = cost["fast_select"] + cost["fast_fit"]
        lines += [
            "",
            f"## 2. Full grid cost on all 64 channels (subject {cost['subject']}, outer fold 1, "
            f"{cost['n_train']} training trials)",
            "",
            "One grid candidate (inner 3-fold fit + score, lag 5, C=1, rbf) timed per order; "
            "the full grid runs each order for 10 lags x 3 C x 2 kernels = 60 candidates "
            "(lag changes the cost little; C and kernel not at all, as `GridSearchCV` refits everything).",
            "",
            "| order | ACM size | CPU s per candidate | CPU s for its 60 candidates |",
            "| ---: | ---: | ---: | ---: |",
        ]
        for m in sorted(costs):
            lines.append(f"| {m} | {64 * m} | {costs[m]:.1f} | {per_order_total[m]:.0f} |")
        lines += [
            f"| **all** | | | **{total:.0f} ({total / 3600:.1f} h)** |",
            "",
            f"Fast selector on the same training fold, full default grid (orders 1-10 x lags 1-10, "
            f"candidates with < 2 samples per dimension skipped): selection {cost['fast_select']:.1f} s + "
            f"final fit {cost['fast_fit']:.1f} s = {fast:.1f} CPU s, chose {tuple(cost['fast_choice'])}. "
            f"Full grid / fast: **{total / fast:.0f}x** per fold.",
        ]
    path.write_text("\n".join(lines) + "\n")


def main(argv=None):
    from neurodec.config import data_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(data_root()))
    parser.add_argument(
        "--dataset",
        choices=["physionet", "simulated"],
        default="physionet",
        help="simulated: SimulatedMI (2 sessions, 40 trials/class, 32-channel cap), "
        "within-session folds of the first session and leave-one-session-out",
    )
    parser.add_argument("--subjects", type=int, nargs="+", default=[1, 2, 7])
    parser.add_argument(
        "--channels",
        nargs="+",
        default=None,
        help=f"montage for part 1 (default: {' '.join(MONTAGE)}; simulated: {' '.join(SIM_MONTAGE)})",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cost-subject", type=int, default=1)
    parser.add_argument("--cost-orders", type=int, nargs="+", default=ORDERS)
    parser.add_argument("--no-grid", action="store_true", help="skip part 1")
    parser.add_argument("--no-cost", action="store_true", help="skip part 2")
    parser.add_argument(
        "--state",
        default="/tmp/neurodec_riemann_grid.json",
        help="partial results, so an interrupted run resumes",
    )
    parser.add_argument("--out", default=str(RESULTS / "riemann_grid.md"))
    parser.add_argument(
        "--jobs", type=int, default=1, help="outer folds run in this many processes (CPU s is still per fold)"
    )
    parser.add_argument(
        "--recompute",
        nargs="+",
        default=[],
        metavar="LABEL",
        help="drop these selectors' stored results (e.g. after changing a selector)",
    )
    args = parser.parse_args(argv)
    if args.channels is None:
        args.channels = SIM_MONTAGE if args.dataset == "simulated" else MONTAGE
    if args.dataset == "simulated":
        args.no_cost = True
    args.command = "OMP_NUM_THREADS=1 nice .venv/bin/python " + " ".join(shlex.quote(a) for a in sys.argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    warnings.filterwarnings("ignore")
    import mne

    mne.set_log_level("ERROR")
    state_path = Path(args.state)
    state = json.loads(state_path.read_text()) if state_path.exists() else {"folds": [], "cost": None}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    if not args.no_cost and (state["cost"] is None or "fast" in args.recompute):
        X, y, meta = _load(args.data_root, [args.cost_subject], None)
        train, test = _folds(y, args.seed)[0]
        if state["cost"] is None:
            state["cost"] = dict(
                subject=args.cost_subject,
                n_train=len(train),
                costs=per_order_cost(X[train], y[train], args.seed, args.cost_orders),
            )
        fast_select, choice = time_fast(X[train], y[train], args.seed)
        c0 = time.process_time()
        _final(X[train], y[train], X[test], y[test], *choice)
        state["cost"].update(fast_select=fast_select, fast_fit=time.process_time() - c0, fast_choice=choice)
        state_path.write_text(json.dumps(state))
        write(out, args, state["folds"], state["cost"])

    if not args.no_grid:
        if args.dataset == "simulated":
            X, y, meta = _load_simulated(args.subjects, args.channels, args.seed)
            splits = [
                (s, lab, tr, te)
                for s in args.subjects
                for lab, tr, te in _simulated_splits(meta, y, s, args.seed)
            ]
        else:
            X, y, meta = _load(args.data_root, args.subjects, args.channels)
            splits = []
            for s in args.subjects:
                ix = np.flatnonzero((meta.subject == s).values)
                splits += [
                    (s, k, ix[tr], ix[te]) for k, (tr, te) in enumerate(_folds(y[ix], args.seed), start=1)
                ]
        for f in state["folds"]:
            for label in args.recompute:
                f["res"].pop(label, None)
        index = {(f["subject"], f["fold"]): f for f in state["folds"]}
        todo = [
            (subject, fold, train, test)
            for subject, fold, train, test in splits
            if not all(lab in index.get((subject, fold), {"res": {}})["res"] for lab in LABELS)
        ]

        def store(subject, fold, res):
            entry = index.get((subject, fold))
            if entry is None:
                entry = index[(subject, fold)] = dict(subject=subject, fold=fold, res=res)
                state["folds"].append(entry)
            entry["res"] = res
            state_path.write_text(json.dumps(state))
            write(out, args, state["folds"], state["cost"])
            logging.info(
                "subject %s fold %s: %s",
                subject,
                fold,
                {
                    lab: (r["order"], r["lag"], round(r["auc"], 3), round(r["cpu"], 1))
                    for lab, r in res.items()
                },
            )

        def job(item):
            subject, fold, train, test = item
            have = index.get((subject, fold), {"res": None})["res"]
            return X[train], y[train], X[test], y[test], args.seed, have

        if args.jobs > 1:
            from concurrent.futures import ProcessPoolExecutor, as_completed

            with ProcessPoolExecutor(args.jobs) as pool:
                futures = {pool.submit(one_fold, *job(item)): item for item in todo}
                for future in as_completed(futures):
                    subject, fold = futures[future][:2]
                    store(subject, fold, future.result())
        else:
            for item in todo:
                store(item[0], item[1], one_fold(*job(item)))
        order = {(s, f): i for i, (s, f, _, _) in enumerate(splits)}
        state["folds"].sort(key=lambda f: order.get((f["subject"], f["fold"]), len(order)))
    write(out, args, state["folds"], state["cost"])
    logging.info("wrote %s", out)


if __name__ == "__main__":
    main()
