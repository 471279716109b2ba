"""Cross-session left/right imagery on SimulatedMI, EEG, MEG and sEEG: one pretrained backbone for all three.

1. A pretraining corpus of simulated subjects of the three modalities (every session of
   ``--pretrain-subjects``; no labels are read), built with :func:`neurodec.corpus.build_corpus`.
2. One small backbone pretrained on it (:func:`neurodec.models.pretrain_backbone`) on the
   tokens of a frozen tokenizer (``--tokenizer``: a checkpoint trained before, never here).
3. The engine's ``CrossSessionEvaluation`` (leave one session out per subject) on
   ``SimulatedMI(modality=...)`` of the evaluation subjects ``--subjects`` (none of them in
   the corpus), left vs right, 8-35 Hz, ROC-AUC, for each modality with the rows:
   the foundation model pretrained + fine-tuned (the same checkpoint for every modality),
   the same architecture from scratch (same tokenizer), TS+SVM and FgMDM (``pipelines/``).
   Fit and predict seconds per fold are reported beside each score.

Writes ``benchmarks/results/fm_cross_session.md``.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/fm_cross_session.py \\
        --tokenizer /tmp/fmsession/tokenizer.pt --work /tmp/fmsession/run
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from fm_cross_subject import (
    _fold_times,
    _load_average,
    _machine,
    _skip_note,
    _versions,
    build_rows,
    merge_saved,
)

RESULTS = Path(__file__).resolve().parent / "results"
MODALITIES = ("eeg", "meg", "seeg")
FM_ROWS = ("FM pretrained+fine-tuned", "FM from scratch")
REFERENCE_ROWS = ("TS+SVM", "FgMDM")
#: rows of one table line: a modality's pipeline
ROW_KEY = ("modality", "pipeline")

log = logging.getLogger("fm_cross_session")


def simulated(modality: str, args, subjects) -> object:
    """``SimulatedMI`` of ``modality`` with the run's settings, reading only ``subjects``."""
    from neurodec.datasets import get_dataset

    ds = get_dataset(
        "SimulatedMI",
        n_subjects=max(subjects),
        n_sessions=args.sessions,
        n_runs=args.runs,
        n_trials=args.trials,
        modality=modality,
        seed=args.sim_seed,
        n_eeg_channels=args.eeg_channels,
        meg_sensors=args.meg_sensors,
    )
    ds.subject_list = list(subjects)
    return ds


def build_pretraining_corpus(args, folder: Path):
    """The corpus of ``--pretrain-subjects`` of every modality (all their sessions)."""
    from neurodec.corpus import build_corpus

    sources = [simulated(m, args, args.pretrain_subjects) for m in args.modalities]
    return build_corpus(folder, sources, progress=False)


def pretrain(args, work: Path):
    """Pretrain one backbone on the corpus; returns (foundation.pt, BackboneResult, corpus)."""
    from neurodec.models.pretrain_backbone import BackbonePretrainConfig, pretrain_backbone

    corpus = build_pretraining_corpus(args, work / "corpus")
    model = {"size": args.size, **dict(args.model_options)}
    config = BackbonePretrainConfig(
        corpus=str(corpus.path),
        out=str(work / "pretrain"),
        tokenizer=str(args.tokenizer),
        token_cache=str(work / "tokens"),
        model=model,
        steps=args.steps,
        batch_size=args.batch,
        lr=args.lr,
        warmup_steps=max(1, args.steps // 20),
        checkpoint_every=max(1, args.steps // 4),
        log_every=max(1, min(10, args.steps // 10)),
        seed=args.seed,
        device="cpu",
        progress=False,
    )
    result = pretrain_backbone(config)
    return result.checkpoint, result, corpus


def evaluate(args, rows, datasets, results_dir, deadline=float("inf"), skipped=None) -> list[dict]:
    """``CrossSessionEvaluation`` of each row on each modality's dataset: one dict per fold."""
    from neurodec.evaluation import CrossSessionEvaluation
    from neurodec.paradigms import LeftRightImagery

    paradigm = LeftRightImagery(fmin=8, fmax=35)
    out = []
    for modality, dataset in datasets.items():
        ev = CrossSessionEvaluation(
            paradigm, [dataset], random_state=args.seed, results=results_dir, progress=False
        )
        for name, pipe in rows.items():
            if f"{name}:{modality}" in args.skip:
                continue
            if time.perf_counter() > deadline:
                skipped.append(f"{modality} {name}")
                continue
            folds = ev.process_folds({name: pipe})
            for _, r in folds.iterrows():
                out.append(
                    dict(
                        modality=modality,
                        pipeline=name,
                        subject=int(r["subject"]),
                        session=str(r["session"]),
                        score=float(r["score"]),
                        fit_s=float(r["time"]),
                        predict_s=float(r["predict_time"]),
                        fold=int(r["fold"]),
                        n_train=int(r["n_train"]),
                        n_channels=int(r["n_channels"]),
                    )
                )
            log.info("%s %s: %.3f (%d folds)", modality, name, folds.score.mean(), len(folds))
    return out


def pretraining_summary(result, corpus, checkpoint, args) -> dict:
    """What the results file says about the pretraining run."""
    from neurodec.models.pretrain_backbone import load_foundation

    backbone, tokenizer = load_foundation(checkpoint)
    recs = corpus.recordings
    metrics = result.metrics
    last = metrics.iloc[-1] if len(metrics) else None
    return dict(
        checkpoint=str(checkpoint),
        tokenizer=str(args.tokenizer),
        tokenizer_size=f"{tokenizer.config.name}, {tokenizer.config.n_levels} levels x "
        f"{tokenizer.config.codebook_size} codes",
        backbone=(
            f"d={backbone.config.d_model}, {backbone.config.n_heads} heads, {backbone.config.n_layers} layers, "
            f"{backbone.n_parameters():,} parameters, context {backbone.config.context_windows} windows "
            f"({2 * backbone.config.context_windows} s)"
        ),
        steps=int(result.step),
        batch=args.batch,
        lr=args.lr,
        recordings={m: int((recs.modality == m).sum()) for m in sorted(recs.modality.unique())},
        hours=float(recs.duration_s.sum() / 3600),
        windows=int(corpus.n_windows),
        wall_s=float(last["elapsed_s"]) if last is not None else None,
        first_loss=float(metrics["loss"].iloc[0]) if len(metrics) else None,
        last_loss=float(last["loss"]) if last is not None else None,
        last_acc=[float(last[f"acc_{i}"]) for i in range(tokenizer.config.n_levels)]
        if last is not None
        else [],
    )


def _subject_scores(df):
    """Mean score of each subject over its folds (test sessions)."""
    return df.groupby("subject").score.mean()


def table_lines(df, modalities) -> list[str]:
    """One line per pipeline, per modality: ROC-AUC mean ± std over subjects, fit/predict s per fold."""
    names = list(dict.fromkeys(df.pipeline))
    lines = [
        "| pipeline | "
        + " | ".join(f"{m.upper()} ROC-AUC | fit s / fold | predict s / fold" for m in modalities)
        + " |",
        "| --- |" + " ---: | ---: | ---: |" * len(modalities),
    ]
    for name in names:
        cells = []
        for m in modalities:
            part = df[(df.pipeline == name) & (df.modality == m)]
            if not len(part):
                cells += ["not run", "", ""]
                continue
            subj = _subject_scores(part)
            fit_s, pred_s = _fold_times(part, key=["subject", "fold"])  # folds are numbered per subject
            std = f"{subj.std():.3f}" if len(subj) > 1 else "–"
            cells += [f"{subj.mean():.3f} ± {std}", f"{fit_s:.1f}", f"{pred_s:.1f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def reading_lines(df, modalities) -> list[str]:
    """Comparisons read from the rows (pretrained vs from scratch vs TS+SVM, per modality)."""
    out = []
    ft = "FM pretrained+fine-tuned"
    for m in modalities:
        means = df[df.modality == m].groupby("pipeline").score.mean()
        if ft not in means:
            continue
        parts = [
            f"{'above' if means[ft] > means[o] else 'not above'} {o} {means[o]:.3f}"
            for o in ("FM from scratch", "TS+SVM", "FgMDM")
            if o in means
        ]
        out.append(f"- {m.upper()}: {ft} {means[ft]:.3f} is " + "; ".join(parts) + ".")
    return out


def write(path: Path, saved: dict) -> None:
    import pandas as pd

    df = pd.DataFrame(saved["rows"])
    setup, pre = saved["setup"], saved.get("pretraining")
    modalities = [m for m in setup["modalities"] if len(df) and (df.modality == m).any()]
    lines = [
        "# Cross-session left/right imagery on SimulatedMI (EEG, MEG, sEEG): one pretrained backbone for all three",
        "",
        f"- Command: `{saved['command']}`",
        f"- Machine: {saved['machine']}; torch threads: {setup['threads']}; the 2 cores were shared with "
        f"other jobs (load average {saved.get('load') or 'not recorded'}), so the seconds are noisy and high",
        f"- Versions: {saved['versions']}",
        f"- Data: `SimulatedMI(n_sessions={setup['sessions']}, n_runs={setup['runs']}, "
        f"n_trials={setup['trials']}, seed={setup['sim_seed']}, n_eeg_channels={setup['eeg_channels']}, "
        f"meg_sensors={setup['meg_sensors']!r}, modality=...)`, sfreq 160 Hz; the same simulated sources "
        "seen by EEG electrodes, MEG sensors or sEEG contacts; sessions differ in sensor placement / head "
        "position, gains, noise and brain state. `LeftRightImagery(fmin=8, fmax=35)`: 0-4 s; "
        f"{2 * setup['trials'] * setup['runs']} trials per session. Channels: "
        + ", ".join(
            f"{m.upper()} {int(df[df.modality == m].n_channels.iloc[0])}"
            for m in modalities
            if "n_channels" in df
        ),
        f"- Evaluation subjects {setup['subjects']}; pretraining subjects {setup['pretrain_subjects']} of "
        "every modality (disjoint; the tokenizer's simulated MEG/sEEG subjects were 1-4)",
        "- Protocol: `neurodec.evaluation.CrossSessionEvaluation` (leave one session out per subject: "
        f"{setup['sessions']} folds per subject). Score: ROC-AUC of each test session, averaged per subject; "
        "mean ± std over subjects. Seconds per fold: fit on the training session(s), predict on the test one.",
        f"- Foundation-model rows: `FoundationClassifier(max_epochs={setup['epochs']}, random_state="
        f"{setup['seed']})`, fine-tuned end to end through the frozen tokenizer's tokens; 'pretrained' is the "
        "one checkpoint below for all three modalities, 'from scratch' the same architecture untrained on "
        "the same tokenizer",
        f"- Whole run: {saved['elapsed'] / 60:.1f} min wall",
    ]
    if pre:
        recs = ", ".join(f"{k} {v}" for k, v in pre["recordings"].items())
        hours = f"{pre['hours']:.2f} h, " if pre.get("hours") else ""
        lines += [
            f"- Pretraining: backbone {pre['backbone']}; {pre['steps']} steps of {pre['batch']} 30-s segments "
            f"(lr {pre['lr']}, AdamW, cosine, mask ratio 0.5) on a corpus of {hours}{pre['windows']:,} "
            f"2-s windows (recordings: {recs}); training wall time "
            f"{(pre['wall_s'] or 0) / 60:.1f} min; masked-token loss {pre['first_loss']:.3f} -> "
            f"{pre['last_loss']:.3f} (ln 512 = 6.238), last batch accuracy per RVQ level "
            + ", ".join(f"{a:.4f}" for a in pre["last_acc"])
            + f" (chance 0.0020). Tokenizer (frozen): `{pre['tokenizer']}` ({pre['tokenizer_size']})",
        ]
    for note in saved["notes"]:
        lines.append(f"- {note}")
    if len(df):
        lines += ["", "## Scores and seconds per fold", ""] + table_lines(df, modalities)
        lines += ["", "Per subject (mean over its test sessions):", ""]
        subjects = sorted(df.subject.unique())
        lines += [
            "| modality | pipeline | " + " | ".join(f"S{s}" for s in subjects) + " |",
            "| --- | --- |" + " ---: |" * len(subjects),
        ]
        for m in modalities:
            for name in dict.fromkeys(df.pipeline):
                part = df[(df.modality == m) & (df.pipeline == name)]
                if len(part):
                    sub = _subject_scores(part)
                    lines.append(
                        f"| {m.upper()} | {name} | "
                        + " | ".join(f"{sub.get(s, float('nan')):.3f}" for s in subjects)
                        + " |"
                    )
    lines += (
        ["", "## Reading it", ""] + reading_lines(df, modalities) if len(df) else ["", "## Reading it", ""]
    )
    corpus = (
        f"{pre['hours']:.1f} h of simulated signal ({len(setup['pretrain_subjects'])} subjects per modality)"
        if pre and pre.get("hours")
        else "a few hours at most of simulated signal"
    )
    lines += [
        "- The simulator: each subject's sources (sensorimotor mu/beta with a lateralised ERD, occipital "
        "alpha, blinks, 1/f background) reach every sensor array linearly; band power in 8-35 Hz separates "
        "the classes by design, which is what covariance pipelines (TS+SVM, FgMDM) model, and the sessions "
        "differ in sensor placement / head position, gains, noise and brain state. High Riemannian scores "
        "here say the task is linear-spatial, not how a learned model compares on real recordings.",
        f"- The corpus: {corpus}, against BrainOmni's ~2,650 h; the backbone is small and trained for few "
        "steps on one shared core (see Pretraining), and the frozen tokenizer's codes carry much noise "
        "(held-out reconstruction r ~0.64, `tokenizer.md`). The pretrained vs from-scratch gap can show "
        "whether one checkpoint transfers across sensor types at all, not what the design reaches at scale.",
        "- Fine-tuning is short (the epochs above, two batches of 32 per epoch on a session's trials), and "
        "the sensor positions a fine-tuned model is given are those of the training epochs' info (the "
        "engine reads one `mne.Info` per dataset; for MEG, the first session's head position, also for "
        "the test session).",
        "- In-domain pretraining: the corpus comes from the same simulator (other subjects, the same "
        "sensor arrays and source types) and the tokenizer saw simulated MEG/sEEG subjects 1-4; on real "
        "recordings the gap between pretraining and target data is wider than here.",
        f"- {len(setup['subjects'])} evaluation subjects (a CPU budget): the std over subjects is wide and "
        "single subjects swing a mean (see the per-subject table); a gap smaller than that spread is not a "
        "finding. Read the rows as a cost-bounded check, with the seconds per fold beside each score.",
    ]
    path.write_text("\n".join(lines) + "\n")


def _model_options(items) -> list[tuple[str, int | float | str]]:
    out = []
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--model takes FIELD=VALUE, got {item!r}")
        for cast in (int, float, str):
            try:
                out.append((key, cast(value)))
                break
            except ValueError:
                continue
    return out


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer", default=None, help="frozen tokenizer checkpoint (trained elsewhere)")
    parser.add_argument(
        "--work", default=None, help="corpus, tokens and pretraining run (default: temporary)"
    )
    parser.add_argument(
        "--checkpoint", default=None, help="a pretrained foundation.pt: skip the corpus and pretraining"
    )
    parser.add_argument("--modalities", nargs="+", default=list(MODALITIES), choices=MODALITIES)
    parser.add_argument("--subjects", type=int, nargs="+", default=[8, 9, 10], help="evaluation subjects")
    parser.add_argument("--pretrain-subjects", type=int, nargs="+", default=[5, 6, 7])
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--trials", type=int, default=30, help="per class per run")
    parser.add_argument("--eeg-channels", type=int, default=64, choices=[32, 64])
    parser.add_argument("--meg-sensors", default="both", choices=["both", "mag", "grad"])
    parser.add_argument("--sim-seed", type=int, default=42, help="SimulatedMI seed")
    parser.add_argument("--rows", nargs="+", default=[*FM_ROWS, *REFERENCE_ROWS])
    parser.add_argument(
        "--skip",
        nargs="*",
        default=["FgMDM:meg"],
        help="ROW:MODALITY pairs not run (default: FgMDM on the 306 MEG channels, minutes per fold)",
    )
    parser.add_argument("--size", default="tiny", help="backbone size under --model's fields")
    parser.add_argument(
        "--model",
        nargs="*",
        default=["d_model=96", "n_layers=3", "n_heads=4"],
        help="ModelConfig fields FIELD=VALUE over --size",
    )
    parser.add_argument("--steps", type=int, default=300, help="pretraining steps")
    parser.add_argument("--batch", type=int, default=8, help="pretraining segments per step")
    parser.add_argument("--lr", type=float, default=2e-3, help="pretraining peak learning rate")
    parser.add_argument("--epochs", type=int, default=10, help="max_epochs of the foundation-model rows")
    parser.add_argument("--threads", type=int, default=1, help="torch (and BLAS) threads")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--budget-min",
        type=float,
        default=30.0,
        help="rows that would start after this many minutes are skipped",
    )
    parser.add_argument("--out", default=str(RESULTS / "fm_cross_session.md"))
    parser.add_argument("--save-rows", default=None, help="also write the rows as JSON (not committed)")
    parser.add_argument(
        "--load-rows",
        nargs="+",
        default=None,
        help="rewrite the table from --save-rows files (a later file wins)",
    )
    args = parser.parse_args(argv)
    args.model_options = _model_options(args.model)
    unknown = set(args.rows) - {*FM_ROWS, *REFERENCE_ROWS}
    if unknown:
        parser.error(f"unknown rows {sorted(unknown)}; choose from {', '.join((*FM_ROWS, *REFERENCE_ROWS))}")
    if set(args.subjects) & set(args.pretrain_subjects):
        parser.error("--subjects and --pretrain-subjects must be disjoint")
    if set(FM_ROWS) & set(args.rows) and not (args.tokenizer or args.checkpoint or args.load_rows):
        parser.error("the foundation-model rows need --tokenizer (or --checkpoint)")
    return args


def run(args, command: str) -> dict:
    """Pretrain (unless ``--checkpoint``), evaluate every row; the ``--save-rows`` record."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()
    deadline = t_start + 60 * args.budget_min
    skipped: list[str] = []
    notes: list[str] = []
    pre = None
    with tempfile.TemporaryDirectory(prefix="fm_cross_session_") as tmp, threadpool_limits(args.threads):
        work = Path(args.work or tmp)
        checkpoint = args.checkpoint
        if checkpoint is None and set(FM_ROWS) & set(args.rows):
            checkpoint, result, corpus = pretrain(args, work)
            checkpoint = str(checkpoint)
            pre = pretraining_summary(result, corpus, checkpoint, args)
        if checkpoint and not args.tokenizer:
            args.tokenizer = _stored_tokenizer(checkpoint)
        ns = argparse.Namespace(
            fm_checkpoint=checkpoint, fm_tokenizer=args.tokenizer, fm_size=args.size, seed=args.seed
        )
        names = [n for n in (*FM_ROWS, *REFERENCE_ROWS) if n in args.rows]
        rows, row_notes = build_rows(names, {"FM": args.epochs}, ns, None)
        notes += row_notes
        skip = [p.split(":") for p in args.skip if p.split(":")[0] in args.rows]
        if skip:
            notes.append(
                "Not run: "
                + ", ".join(f"{r} on {m.upper()}" for r, m in skip)
                + (
                    " (FgMDM's discriminant analysis in the tangent space of 306 MEG channels, 47,000 "
                    "dimensions, took 51 s per fold at 102 channels and 8 trials in a trial run)"
                    if ["FgMDM", "meg"] in skip
                    else ""
                )
            )
        datasets = {m: simulated(m, args, args.subjects) for m in args.modalities}
        results = evaluate(args, rows, datasets, str(work / "results"), deadline, skipped)
    return dict(
        command=command,
        machine=_machine(),
        versions=_versions(),
        setup={
            k: getattr(args, k)
            for k in (
                "modalities",
                "subjects",
                "pretrain_subjects",
                "sessions",
                "runs",
                "trials",
                "eeg_channels",
                "meg_sensors",
                "sim_seed",
                "epochs",
                "seed",
                "threads",
                "skip",
            )
        },
        pretraining=pre,
        rows=results,
        notes=notes + _skip_note(skipped, args.budget_min),
        epochs={"FM": args.epochs},
        elapsed=time.perf_counter() - t_start,
        load=_load_average(),
    )


def _stored_tokenizer(checkpoint) -> str | None:
    """The tokenizer a pretraining run names (``--checkpoint`` without ``--tokenizer``)."""
    config = Path(checkpoint).parent / "config.yml"
    if config.is_file():
        import yaml

        return yaml.safe_load(config.read_text()).get("tokenizer")
    return None


def main(argv=None):
    args = parse_args(argv)
    command = (
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')} nice -n 10 .venv/bin/python "
        + " ".join(shlex.quote(a) for a in sys.argv)
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    warnings.filterwarnings("ignore")
    import mne

    mne.set_log_level("ERROR")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.load_rows:
        saved = load_rows(args.load_rows)
        saved["command"] += f"` (rows saved); table written from them by `{command}"
    else:
        saved = run(args, command)
        if args.save_rows:
            Path(args.save_rows).write_text(json.dumps(saved, default=_json_default))
    write(out, saved)
    log.info("wrote %s", out)


def load_rows(paths) -> dict:
    """``--save-rows`` files merged (a later file's rows win per modality and pipeline; the
    pretraining of the last file that ran one)."""
    records = [json.loads(Path(p).read_text()) for p in paths]
    saved = merge_saved(records, key=ROW_KEY)
    saved["pretraining"] = next((r["pretraining"] for r in reversed(records) if r.get("pretraining")), None)
    return saved


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(type(obj).__name__)


if __name__ == "__main__":
    main()
