"""Cross-subject left/right imagery on PhysionetMI: Riemannian, braindecode and foundation-model rows.

Two protocols on subjects 1-20 (left vs right fist imagery, 8-35 Hz, ROC-AUC):

* a fixed split: train on subjects 1-15, test on 16-20 (each test subject scored on its
  own, as the engine does), with 10 %, 30 % and 100 % of the training subjects' labels
  (that share of each training subject's trials, stratified by class, drawn with the seed);
* the evaluation engine's ``CrossSubjectEvaluation`` over the same 20 subjects with all
  labels (``--cv-splits``: ``GroupKFold`` over subjects; ``0``: leave one subject out).

Rows: TS+SVM and FgMDM (``pipelines/``), braindecode's EEGNet, ShallowFBCSPNet and LUNA
(``pipelines/``, trained from scratch: braindecode ships no pretrained weights and
nothing is downloaded here), and, only when ``neurodec.models.FoundationClassifier``
imports and ``--fm-checkpoint`` is given, the foundation model pretrained + fine-tuned,
the same architecture from scratch, and a frozen backbone with a probe. Each row's fit
and predict seconds per fold are reported beside its score.

Writes ``benchmarks/results/fm_cross_subject.md``.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/fm_cross_subject.py \\
        --epochs EEGNet=3 ShallowFBCSPNet=2 LUNA=1
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shlex
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parent.parent

#: bundled pipeline rows: name -> file in pipelines/
PIPELINE_ROWS = {
    "TS+SVM": "ts_svm.yml",
    "FgMDM": "fgmdm.yml",
    "EEGNet": "deep/eegnet.yml",
    "ShallowFBCSPNet": "deep/shallow_fbcsp_net.yml",
    "LUNA": "deep/luna.yml",
}
#: foundation-model rows (need --fm-checkpoint and neurodec.models.FoundationClassifier)
FM_ROWS = ("FM pretrained+fine-tuned", "FM from scratch", "FM frozen probe")
DEEP_ROWS = ("EEGNet", "ShallowFBCSPNet", "LUNA", *FM_ROWS)
TRAIN_SUBJECTS = list(range(1, 16))
TEST_SUBJECTS = list(range(16, 21))

log = logging.getLogger("fm_cross_subject")


def _versions() -> str:
    import braindecode
    import mne
    import moabb
    import pyriemann
    import sklearn
    import torch

    return (
        f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, pyriemann {pyriemann.__version__}, "
        f"moabb {moabb.__version__}, mne {mne.__version__}, torch {torch.__version__}, "
        f"braindecode {braindecode.__version__}"
    )


def _machine() -> str:
    return f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def _fm_available() -> tuple[type | None, str]:
    try:
        from neurodec.models import FoundationClassifier
    except ImportError as exc:  # neurodec.models without it, or without torch
        return None, f"neurodec.models.FoundationClassifier does not import ({exc})"
    return FoundationClassifier, ""


def build_rows(names, epochs, args, info):
    """``{row: estimator}``: the bundled pipelines (deep ones with ``epochs``) and FM rows."""
    from sklearn.pipeline import make_pipeline

    from neurodec.evaluation.pipelines import load_pipelines

    rows, notes = {}, []
    for name in names:
        if name in PIPELINE_ROWS:
            pipe = load_pipelines(REPO / "pipelines" / PIPELINE_ROWS[name])[name]
            if name in epochs:
                pipe.set_params(**{f"{pipe.steps[-1][0]}__max_epochs": epochs[name]})
            rows[name] = pipe
    wanted = [n for n in names if n in FM_ROWS]
    if wanted:
        cls, why = _fm_available()
        if cls is None or not args.fm_checkpoint:
            notes.append(
                "Foundation-model rows not run: "
                + (why if cls is None else "no --fm-checkpoint given")
                + ". Run again with `--fm-checkpoint PATH` once `neurodec.models.FoundationClassifier` exists."
            )
        else:
            common = dict(
                size=args.fm_size, max_epochs=epochs.get("FM", 10), info=info, random_state=args.seed
            )
            settings = {
                "FM pretrained+fine-tuned": dict(checkpoint=args.fm_checkpoint),
                # the checkpoint's architecture, untrained; with --fm-tokenizer, on the same token grid
                "FM from scratch": dict(
                    checkpoint=None,
                    model_options=_checkpoint_architecture(args.fm_checkpoint),
                    **({"tokenizer": args.fm_tokenizer} if args.fm_tokenizer else {}),
                ),
                "FM frozen probe": dict(checkpoint=args.fm_checkpoint, freeze_backbone=True),
            }
            for name in wanted:
                rows[name] = make_pipeline(cls(**settings[name], **common))
    return rows, notes


def _checkpoint_architecture(path) -> dict:
    """The pretrained backbone's ModelConfig fields, so the from-scratch row is the same model."""
    from neurodec.models.pretrain_backbone import load_foundation

    backbone, _ = load_foundation(path)
    return {k: v for k, v in backbone.config.to_dict().items() if k != "name"}


def label_subset(meta, y, subjects, fraction, seed):
    """Positions of ``fraction`` of each subject's trials, stratified by class (>= 1 per class)."""
    rng = np.random.default_rng(seed)
    keep = []
    for s in subjects:
        for label in np.unique(y):
            pos = np.flatnonzero((meta.subject.to_numpy() == s) & (y == label))
            if len(pos) == 0:
                continue
            n = max(1, int(round(fraction * len(pos))))
            keep.append(np.sort(rng.choice(pos, size=n, replace=False)))
    return np.sort(np.concatenate(keep))


def run_fixed(X, y, meta, info, rows, fractions, seed, deadline=float("inf"), skipped=None):
    """Fit each row on (a share of) subjects 1-15, score each of 16-20; what would start
    after ``deadline`` (a ``perf_counter`` time) is listed in ``skipped`` instead."""
    from sklearn.base import clone
    from sklearn.preprocessing import LabelEncoder

    from neurodec.evaluation.engine import info_steps
    from neurodec.evaluation.metrics import get_metric

    scorer = get_metric("roc_auc")
    subj = meta.subject.to_numpy()
    test = {s: np.flatnonzero(subj == s) for s in TEST_SUBJECTS}
    out = []
    for fraction in fractions:
        train = label_subset(meta, y, TRAIN_SUBJECTS, fraction, seed)
        le = LabelEncoder().fit(y[train])
        for name, pipe in rows.items():
            if time.perf_counter() > deadline:
                skipped.append(f"fixed split {round(100 * fraction)} % {name}")
                continue
            model = clone(pipe)
            fit_params = {("info" if n is None else f"{n}__info"): info for n in info_steps(model)}
            t0 = time.perf_counter()
            model.fit(X[train], le.transform(y[train]), **fit_params)
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            scores = {s: float(scorer(model, X[pos], le.transform(y[pos]))) for s, pos in test.items()}
            predict_s = time.perf_counter() - t0
            for s, score in scores.items():
                out.append(
                    dict(
                        protocol="fixed",
                        fraction=fraction,
                        pipeline=name,
                        subject=s,
                        score=score,
                        fit_s=fit_s,
                        predict_s=predict_s,
                        n_train=len(train),
                    )
                )
            log.info(
                "fixed %3d%% %s: %.3f (fit %.1fs, %d trials)",
                round(100 * fraction),
                name,
                np.mean(list(scores.values())),
                fit_s,
                len(train),
            )
    return out


def run_cv(dataset, paradigm, rows, n_splits, seed, results, deadline=float("inf"), skipped=None):
    """The engine's CrossSubjectEvaluation over the dataset's subjects, all labels."""
    from neurodec.evaluation import CrossSubjectEvaluation

    ev = CrossSubjectEvaluation(
        paradigm, [dataset], n_splits=n_splits or None, random_state=seed, results=results, progress=False
    )
    out = []
    for name, pipe in rows.items():  # one at a time: a log line (and stored folds) per row
        if time.perf_counter() > deadline:
            skipped.append(f"engine cross-subject {name}")
            continue
        folds = ev.process_folds({name: pipe})
        for _, r in folds.iterrows():
            out.append(
                dict(
                    protocol="cv",
                    fraction=1.0,
                    pipeline=name,
                    subject=int(r["subject"]),
                    score=float(r["score"]),
                    fit_s=float(r["time"]),
                    predict_s=float(r["predict_time"]),
                    fold=int(r["fold"]),
                    n_train=int(r["n_train"]),
                )
            )
        log.info("cv %s: %.3f (%d folds)", name, folds.score.mean(), folds.fold.nunique())
    return out


def _fold_times(df, key=None):
    """Mean fit and predict seconds per fold (a fold's fit time is on each of its rows);
    ``key``: the columns naming a fold (default ``fold``, else ``fraction``)."""
    if key is None:
        key = ["fold"] if "fold" in df and df["fold"].notna().all() else ["fraction"]
    per_fold = df.groupby(key).agg(fit=("fit_s", "first"), pred=("predict_s", "sum"))
    return per_fold.fit.mean(), per_fold.pred.mean()


def write(path, args, rows, notes, epochs, elapsed, load=None):
    import pandas as pd

    df = pd.DataFrame(rows)
    if not (len(df) and df.pipeline.isin(FM_ROWS).any()):
        epochs = {k: v for k, v in epochs.items() if k != "FM"}
    names = list(dict.fromkeys(df.pipeline)) if len(df) else []
    fractions = sorted(df[df.protocol == "fixed"].fraction.unique()) if len(df) else []
    lines = [
        "# Cross-subject left/right imagery on PhysionetMI: Riemannian, braindecode and foundation-model rows",
        "",
        f"- Command: `{args.command}`",
        f"- Machine: {_machine()}; torch threads: {args.threads}; the cores were shared with other "
        f"jobs (load average {load or 'not recorded'}), so the seconds are noisy and high",
        f"- Versions: {_versions()}",
        "- Data: PhysionetMI runs 4, 8, 12 (imagined left/right fist), 64 EEG channels, 160 Hz, "
        "LeftRightImagery(fmin=8, fmax=35): 0-3 s, 481 samples, µV; 45 trials per subject",
        "- Score: ROC-AUC per test subject, mean ± std over test subjects",
        f"- Deep rows (max_epochs): {', '.join(f'{k} {v}' for k, v in epochs.items())}; batch 32, AdamW, "
        "no validation split, seeded (TorchSeed / random_state 42). **All deep models are trained from "
        "scratch on a CPU budget**: braindecode ships no pretrained weights (the model hub is unreachable "
        "here) and a few epochs on one shared core are far from their published training (hundreds of "
        "epochs on a GPU); their rows are a cost-bounded reference, not their best. braindecode's "
        "EEGClassifier drops the last incomplete batch (its default): at 10 % labels (60 trials) each "
        "EEGNet/ShallowFBCSPNet epoch sees 32 of them.",
        f"- Whole run: {elapsed / 60:.1f} min wall",
    ]
    for note in notes:
        lines.append(f"- {note}")
    fixed = df[df.protocol == "fixed"] if len(df) else df
    if len(fixed):
        lines += [
            "",
            f"## Fixed split: train subjects {TRAIN_SUBJECTS[0]}-{TRAIN_SUBJECTS[-1]}, "
            f"test {TEST_SUBJECTS[0]}-{TEST_SUBJECTS[-1]}",
            "",
            "Label efficiency: each training subject keeps that share of its trials (stratified by class, "
            f"seed {args.seed}); the test subjects are the same. Seconds: fit on the training trials, "
            "predict on the 5 test subjects (225 trials).",
            "",
            "| pipeline | "
            + " | ".join(f"{round(100 * f)} % labels: ROC-AUC | fit s | predict s" for f in fractions)
            + " |",
            "| --- |" + " ---: | ---: | ---: |" * len(fractions),
        ]
        for name in names:
            cells = []
            for f in fractions:
                part = fixed[(fixed.pipeline == name) & (fixed.fraction == f)]
                if not len(part):
                    cells += ["", "", ""]
                    continue
                cells += [
                    f"{part.score.mean():.3f} ± {part.score.std():.3f}",
                    f"{part.fit_s.iloc[0]:.1f}",
                    f"{part.predict_s.iloc[0]:.1f}",
                ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        counts = fixed.groupby("fraction").n_train.first()
        lines += ["", "Training trials: " + ", ".join(f"{round(100 * f)} %: {n}" for f, n in counts.items())]
        lines += ["", "Per test subject (100 % labels):", ""]
        full = fixed[fixed.fraction == max(fractions)]
        lines += [
            "| pipeline | " + " | ".join(f"S{s}" for s in TEST_SUBJECTS) + " |",
            "| --- |" + " ---: |" * len(TEST_SUBJECTS),
        ]
        for name in names:
            sub = full[full.pipeline == name].set_index("subject").score
            lines.append(
                f"| {name} | " + " | ".join(f"{sub.get(s, float('nan')):.3f}" for s in TEST_SUBJECTS) + " |"
            )
    cv = df[df.protocol == "cv"] if len(df) else df
    if len(cv):
        n_folds = int(cv.fold.nunique())
        split = f"GroupKFold({args.cv_splits}) over subjects" if args.cv_splits else "leave one subject out"
        lines += [
            "",
            f"## Engine: CrossSubjectEvaluation, subjects {args.cv_subjects[0]}-{args.cv_subjects[-1]}, "
            f"{split}, all labels",
            "",
            f"`neurodec.evaluation.CrossSubjectEvaluation(LeftRightImagery(fmin=8, fmax=35), [PhysionetMI], "
            f"n_splits={args.cv_splits or None})`: {n_folds} folds, each trained on the other "
            f"subjects' trials and scored per test subject. "
            + (
                "A reduced setting for the 2 shared cores: leave one subject out (MOABB's default) would "
                f"be {len(args.cv_subjects)} fits per row. "
                if args.cv_splits
                else ""
            )
            + "Seconds per fold: fit, and predict over the fold's test subjects.",
            "",
            "Folds' test subjects: "
            + "; ".join(
                f"{int(fold)}: {sorted(set(cv[cv.fold == fold].subject.astype(int)))}"
                for fold in sorted(cv.fold.unique())
            ),
            "",
            "| pipeline | ROC-AUC mean ± std over subjects | subjects | fit s / fold | predict s / fold |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for name in names:
            part = cv[cv.pipeline == name]
            if not len(part):
                continue
            fit_s, pred_s = _fold_times(part)
            lines.append(
                f"| {name} | {part.score.mean():.3f} ± {part.score.std():.3f} | {part.subject.nunique()} | "
                f"{fit_s:.1f} | {pred_s:.1f} |"
            )
    lines += [
        "",
        "## Reading it",
        "",
        "- The deep rows are bounded by the CPU budget (epochs above); with more epochs (a GPU) they "
        "are expected to rise, the Riemannian rows are not.",
    ]
    lines += goal_lines(fixed, cv)
    full = fixed[fixed.fraction == 1.0] if len(fixed) else fixed
    for label, part in (("Fixed split, 100 % labels", full), ("Engine cross-subject", cv)):
        if not len(part):
            continue
        means = part.groupby("pipeline", sort=False).score.mean()
        deep = {n: m for n, m in means.items() if n in DEEP_ROWS}
        riem = {n: m for n, m in means.items() if n not in DEEP_ROWS}
        if deep and riem:
            lines.append(
                f"- {label}: deep rows "
                + ", ".join(f"{n} {m:.3f}" for n, m in deep.items())
                + " (chance 0.5) vs "
                + ", ".join(f"{n} {m:.3f}" for n, m in riem.items())
                + "."
            )
    path.write_text("\n".join(lines) + "\n")


def goal_lines(fixed, cv) -> list[str]:
    """Issue 17's goals, read from the rows: pretrained+fine-tuned vs from scratch, EEGNet, TS+SVM."""
    ft, goals = (
        "FM pretrained+fine-tuned",
        (("FM from scratch", "goal"), ("EEGNet", "goal"), ("TS+SVM", "stretch")),
    )
    parts = [
        (f"fixed split, {round(100 * f)} % labels", fixed[fixed.fraction == f])
        for f in sorted(set(fixed.fraction))
    ]
    parts += [("engine cross-subject", cv)] if len(cv) else []
    out = []
    for label, part in parts:
        means = part.groupby("pipeline").score.mean() if len(part) else {}
        if ft not in means:
            continue
        verdicts = [
            f"{'above' if means[ft] > means[o] else 'not above'} {o} {means[o]:.3f} ({kind})"
            for o, kind in goals
            if o in means
        ]
        out.append(f"- Goals, {label}: {ft} {means[ft]:.3f} is " + "; ".join(verdicts) + ".")
    if not out:
        out.append(
            "- The goals of issue 17 (pretrained + fine-tuned foundation model above the same model from "
            "scratch and above EEGNet; stretch: TS+SVM) need the foundation-model rows, which this run "
            "does not have; the reference rows are here so that those rows land on the same split."
        )
    return out


def _load_average() -> str:
    """The 1/5/15-min load averages at the end of the run."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg()) + " (1/5/15 min, at the end of the run)"


def _skip_note(skipped, budget_min):
    if not skipped:
        return []
    return [f"Not run (would have started after the {budget_min:g}-min budget): {', '.join(skipped)}"]


def merge_saved(saved: list[dict], key=("protocol", "fraction", "pipeline")) -> dict:
    """One ``--save-rows`` record from several: the rows of every file, a later file's rows
    replacing an earlier file's with the same ``key`` (a table row: protocol, share of labels,
    pipeline); commands, notes and load averages of the files in order, the epochs of the
    files merged (later wins), elapsed times summed."""
    if not saved:
        raise SystemExit("--load-rows needs at least one file")
    rows: list[dict] = []
    for record in saved:
        new = {tuple(r.get(k) for k in key) for r in record["rows"]}
        rows = [r for r in rows if tuple(r.get(k) for k in key) not in new] + list(record["rows"])
    commands = [record["command"] for record in saved]
    loads = [record.get("load") for record in saved if record.get("load")]
    merged = dict(saved[-1])
    merged.update(
        command=commands[0] if len(commands) == 1 else "`, then `".join(commands),
        rows=rows,
        notes=list(dict.fromkeys(n for record in saved for n in record["notes"])),
        epochs={k: v for record in saved for k, v in record["epochs"].items()},
        elapsed=sum(record["elapsed"] for record in saved),
        load="; ".join(loads) if loads else None,
    )
    return merged


def load_saved(paths) -> dict:
    """:func:`merge_saved` of ``--save-rows`` JSON files, in the order given."""
    return merge_saved([json.loads(Path(p).read_text()) for p in paths])


def _parse_epochs(items):
    out = {}
    for item in items or []:
        name, _, value = item.partition("=")
        if not value.isdigit() or name not in (*PIPELINE_ROWS, "FM"):
            raise SystemExit(f"--epochs takes NAME=N with NAME one of {', '.join((*PIPELINE_ROWS, 'FM'))}")
        out[name] = int(value)
    return out


def main(argv=None):
    from neurodec.config import data_root

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="default: $NEURODEC_DATA, else ../shared/data")
    parser.add_argument("--rows", nargs="+", default=[*PIPELINE_ROWS, *FM_ROWS], help="rows to run")
    parser.add_argument(
        "--epochs",
        nargs="*",
        default=["EEGNet=3", "ShallowFBCSPNet=2", "LUNA=1", "FM=10"],
        help="max_epochs per deep row, NAME=N (FM: every foundation-model row)",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch (and BLAS) threads")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.3, 1.0])
    parser.add_argument(
        "--cv-splits", type=int, default=5, help="GroupKFold splits; 0: leave one subject out"
    )
    parser.add_argument("--cv-subjects", type=int, nargs="+", default=list(range(1, 21)))
    parser.add_argument("--no-cv", action="store_true", help="only the fixed split")
    parser.add_argument("--no-fixed", action="store_true", help="only the engine's cross-subject folds")
    parser.add_argument("--fm-checkpoint", default=None, help="pretrained foundation-model checkpoint")
    parser.add_argument(
        "--fm-size",
        default="tiny",
        help="named size under the from-scratch row (its fields: the checkpoint's)",
    )
    parser.add_argument("--fm-tokenizer", default=None, help="tokenizer checkpoint of the from-scratch row")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--budget-min",
        type=float,
        default=24.0,
        help="rows that would start after this many minutes are skipped (and listed)",
    )
    parser.add_argument(
        "--results", default=None, help="results store folder of the engine (default: temporary)"
    )
    parser.add_argument("--out", default=str(RESULTS / "fm_cross_subject.md"))
    parser.add_argument("--save-rows", default=None, help="also write the rows as JSON (not committed)")
    parser.add_argument(
        "--load-rows",
        "--from-rows",
        dest="load_rows",
        nargs="+",
        default=None,
        help="rewrite the table from --save-rows JSON files (several: merged, a later file's rows win)",
    )
    args = parser.parse_args(argv)
    args.command = (
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} nice -n 10 .venv/bin/python "
        + " ".join(shlex.quote(a) for a in sys.argv)
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    warnings.filterwarnings("ignore")
    import mne
    import torch
    from threadpoolctl import threadpool_limits

    mne.set_log_level("ERROR")
    torch.set_num_threads(args.threads)
    epochs = _parse_epochs(args.epochs)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.load_rows:
        saved = load_saved(args.load_rows)
        args.command = saved["command"]
        write(out, args, saved["rows"], saved["notes"], saved["epochs"], saved["elapsed"], saved.get("load"))
        return
    unknown = set(args.rows) - {*PIPELINE_ROWS, *FM_ROWS}
    if unknown:
        raise SystemExit(
            f"unknown rows {sorted(unknown)}; choose from {', '.join((*PIPELINE_ROWS, *FM_ROWS))}"
        )

    from neurodec.datasets import get_dataset
    from neurodec.evaluation.data import epochs_info
    from neurodec.paradigms import LeftRightImagery

    t_start = time.perf_counter()
    root = data_root(args.data_root)
    dataset = get_dataset("PhysionetMI", data_root=root)
    dataset.subject_list = list(args.cv_subjects)
    paradigm = LeftRightImagery(fmin=8, fmax=35)
    info = epochs_info(paradigm, dataset, TRAIN_SUBJECTS[0])
    shown = {
        k: v for k, v in epochs.items() if k in args.rows or (k == "FM" and set(FM_ROWS) & set(args.rows))
    }
    rows_est, notes = build_rows(args.rows, epochs, args, info)
    results: list[dict] = []
    skipped: list[str] = []
    deadline = t_start + 60 * args.budget_min

    def save():
        if args.save_rows:
            Path(args.save_rows).write_text(
                json.dumps(
                    dict(
                        command=args.command,
                        rows=results,
                        notes=notes + _skip_note(skipped, args.budget_min),
                        epochs=shown,
                        elapsed=time.perf_counter() - t_start,
                        load=_load_average(),
                    )
                )
            )

    with threadpool_limits(limits=args.threads):
        if not args.no_fixed:
            X, y, meta = paradigm.get_data(dataset, TRAIN_SUBJECTS + TEST_SUBJECTS)
            results += run_fixed(X, y, meta, info, rows_est, args.fractions, args.seed, deadline, skipped)
            save()
            del X
        if not args.no_cv:
            with tempfile.TemporaryDirectory(prefix="fm_cross_subject_") as tmp:
                results += run_cv(
                    dataset,
                    paradigm,
                    rows_est,
                    args.cv_splits,
                    args.seed,
                    args.results or tmp,
                    deadline,
                    skipped,
                )
            save()
    write(
        out,
        args,
        results,
        notes + _skip_note(skipped, args.budget_min),
        shown,
        time.perf_counter() - t_start,
        _load_average(),
    )
    log.info("wrote %s", out)


if __name__ == "__main__":
    main()
