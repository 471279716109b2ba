"""Pretrain a small backbone on the tokenized corpus; masked-token accuracy on held-out subjects.

Train: PhysionetMI subjects 1-15 and the simulated MEG/sEEG recordings of the corpus
(as the tokenizer was trained); held out: PhysionetMI subjects 16-20. The tokenizer is
frozen (its tokens cached beside the corpus, or under --token-cache). Scored: accuracy of
each RVQ level on the masked positions (50 %, fixed masks) of every held-out 30-s segment,
beside always predicting the level's most frequent code in the training tokens.

    nice -n 10 python benchmarks/fm_pretrain.py --corpus /tmp/backbone/corpus \\
        --tokenizer /tmp/backbone/tokenizer.pt --out /tmp/backbone/fm_run --minutes 20
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import pandas as pd
import torch

from neurodec import __version__
from neurodec.corpus import Corpus
from neurodec.models.pretrain_backbone import (
    BackbonePretrainConfig,
    load_foundation,
    masked_accuracy,
    pretrain_backbone,
    segments_of,
)

TRAIN_SUBJECTS = list(range(1, 16))
TEST_SUBJECTS = list(range(16, 21))
PHYSIONET = "PhysionetMotorImagery"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--token-cache", default=None, help="folder of the token cache (default: tokens/ beside the corpus)"
    )
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results" / "fm_pretrain.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = {"size": "tiny", "d_model": args.d_model, "n_layers": args.layers, "n_heads": args.heads}
    config = BackbonePretrainConfig(
        corpus=args.corpus,
        out=args.out,
        tokenizer=args.tokenizer,
        token_cache=args.token_cache,
        model=model,
        subjects=TRAIN_SUBJECTS,
        steps=args.steps,
        batch_size=args.batch,
        lr=args.lr,
        warmup_steps=max(1, args.steps // 20),
        checkpoint_every=25,
        log_every=5,
        device="cpu",
        progress=False,
    )
    t0 = time.perf_counter()
    result = pretrain_backbone(config)
    wall = time.perf_counter() - t0
    backbone, tokenizer = load_foundation(result.checkpoint)
    corpus = Corpus(args.corpus)
    cache = args.token_cache
    train = segments_of(corpus, tokenizer, backbone.config, subjects=TRAIN_SUBJECTS, token_cache=cache)
    test = segments_of(
        corpus, tokenizer, backbone.config, subjects=TEST_SUBJECTS, sources=[PHYSIONET], token_cache=cache
    )
    counts = train.level_counts(backbone.config.codebook_size)
    held = masked_accuracy(backbone, test, train_counts=counts, seed=0)
    seen = masked_accuracy(backbone, train, train_counts=counts, seed=0)
    untrained = masked_accuracy(
        type(backbone)(backbone.config), test, train_counts=counts, seed=0
    )  # a fresh model: the floor
    metrics = result.metrics
    elapsed = float(metrics["elapsed_s"].iloc[-1]) if len(metrics) else wall
    ckpt = torch.load(Path(args.out) / "checkpoint.pt", weights_only=True)
    lines = [
        "# Foundation backbone: masked-token accuracy on held-out subjects",
        "",
        f"Command: `python benchmarks/fm_pretrain.py {' '.join(sys.argv[1:])}`",
        "",
        f"Machine: {platform.machine()}, {torch.get_num_threads()} torch thread(s), CPU, `nice -n 10`, "
        "the 2 cores shared with other jobs while measured. "
        f"Packages: neurodec {__version__}, torch {torch.__version__}, Python {platform.python_version()}.",
        "",
        f"Tokenizer (frozen): `{args.tokenizer}` ({tokenizer.config.name}, {tokenizer.config.n_levels} levels x "
        f"{tokenizer.config.codebook_size} codes). Backbone: d={backbone.config.d_model}, "
        f"{backbone.config.n_heads} heads, {backbone.config.n_layers} layers "
        f"({backbone.n_parameters():,} parameters), 30-s segments (15 windows x 8 frames x 16 sources), "
        f"segment overlap 0.25, mask ratio {backbone.config.mask_ratio} (mask token). "
        f"Trained {result.step} steps of {args.batch} segments (lr {args.lr}, AdamW, cosine) on "
        f"{len(train)} segments (PhysionetMI subjects 1-15 + simulated MEG/sEEG subjects 1-4), "
        f"training wall time {elapsed / 60:.1f} min.",
        "",
        f"Held out: PhysionetMI subjects 16-20, {len(test)} segments, {int(held['masked'].iloc[0]):,} masked "
        "positions per level (the same masks for every row).",
        "",
        "| RVQ level | backbone accuracy | most frequent code | untrained backbone | backbone cross-entropy "
        "| accuracy on training segments |",
        "|---|---|---|---|---|---|",
    ]
    for i in range(len(held)):
        lines.append(
            f"| {i} | {held['accuracy'][i]:.4f} | {held['baseline'][i]:.4f} | {untrained['accuracy'][i]:.4f} | "
            f"{held['loss'][i]:.3f} | {seen['accuracy'][i]:.4f} |"
        )
    lines += [
        "",
        f"Chance is 1/{backbone.config.codebook_size} = {1 / backbone.config.codebook_size:.4f}; "
        "ln(512) = 6.238 is the cross-entropy of a uniform guess.",
        "",
        "Learning curve (metrics.csv of the run, training batches):",
        "",
        "| step | loss | " + " | ".join(f"acc_{i}" for i in range(len(held))) + " |",
        "|---|---|" + "---|" * len(held),
    ]
    for _, row in (
        metrics.iloc[:: max(1, len(metrics) // 8)]
        .pipe(lambda t: pd.concat([t, metrics.iloc[[-1]]]).drop_duplicates("step"))
        .iterrows()
    ):
        accs = " | ".join(f"{row[f'acc_{i}']:.4f}" for i in range(len(held)))
        lines.append(f"| {int(row['step'])} | {row['loss']:.3f} | {accs} |")
    lines += ["", f"Run folder: `{args.out}` (checkpoint step {ckpt['step']})."]
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text("\n".join(lines) + "\n")
    (Path(args.out) / "heldout.json").write_text(json.dumps(held.to_dict(orient="list"), indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
