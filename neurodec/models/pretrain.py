"""Pretraining the tokenizer: ``pretrain(config)`` and ``neurodec pretrain-tokenizer --config FILE``.

One run lives in one folder (``out``)::

    checkpoint.pt   latest full checkpoint (model, optimiser, scheduler, RNG states, step), atomic
    tokenizer.pt    the trained model alone (config, weights, preprocessing), at the end
    metrics.csv     one row every ``log_every`` steps (losses, r, r on hidden channels,
                    perplexity and dead codes per level, learning rate, windows/s,
                    training wall time so far)
    config.yml      the run's configuration

AdamW with a linear warm-up then a cosine decay to ``min_lr_ratio * lr``, gradient-norm
clipping, bf16 autocast on CUDA only; the first ``vq_warmup_steps`` steps bypass the
quantiser, whose codebooks are then initialised by k-means on the learned latents.
Batches are a pure function of ``(seed, step)``
(:class:`neurodec.models.data.StepBatchSampler`) and every random state is checkpointed,
so a run killed and resumed from its last checkpoint ends with the same parameters, bit
for bit (on CPU; on CUDA set ``deterministic: true``), as a run never interrupted.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm.auto import tqdm

from neurodec.corpus import Corpus, build_corpus
from neurodec.corpus.sources import parse_source
from neurodec.errors import ConfigError
from neurodec.models.checkpoint import rng_state, save_checkpoint
from neurodec.models.config import TokenizerConfig
from neurodec.models.data import StepBatchSampler, WindowDataset, collate_windows
from neurodec.models.losses import pearson, tokenizer_loss
from neurodec.models.rvq import perplexity
from neurodec.models.tokenizer import BrainTokenizer, random_visible
from neurodec.models.training import (
    MetricsLog,
    TrainingConfig,
    autocast_for,
    device_of,
    load_yaml_config,
    lr_factor,
    resume_run,
    write_run_config,
)

__all__ = [
    "PretrainConfig",
    "PretrainResult",
    "load_pretrain_config",
    "pretrain",
    "lr_factor",
]

logger = logging.getLogger(__name__)

#: Settings that may change when a run is resumed (they do not change what is computed).
RESUMABLE_CHANGES = ("steps", "checkpoint_every", "log_every", "num_workers", "progress")


@dataclass(frozen=True)
class PretrainConfig(TrainingConfig[TokenizerConfig]):
    """Everything a pretraining run needs (a YAML file has the same keys).

    Parameters
    ----------
    corpus : str
        Corpus folder (built first from ``sources`` if given: resumed if partly built).
    out : str
        Run folder (checkpoints, metrics).
    sources : list | None
        Corpus sources (see :mod:`neurodec.corpus.sources`; strings as on the command line,
        e.g. ``"PhysionetMI:subjects=1-15"``).
    model : str | dict
        A size (``"tiny"``, ``"base"``) or ``{"size": ..., <TokenizerConfig fields>}``.
    subjects, corpus_sources, modalities : list | None
        Which corpus recordings to train on (see :meth:`neurodec.corpus.Corpus.select`).
    steps, batch_size, lr, weight_decay, warmup_steps, min_lr_ratio, grad_clip
        Optimisation.
    vq_warmup_steps : int
        The first steps train encoder and decoder without quantisation; the codebooks are
        then initialised by k-means on the latents the encoder has learned to make
        (without it, the latents of a fresh encoder hardly depend on the signal, k-means
        captures only their position structure and the decoder never learns to read content).
    max_channels : int | None
        At most this many (random, fixed per window) channels per window.
    seed : int
        Seeds the model initialisation, batch order, hidden channels and noise.
    checkpoint_every, log_every : int
        Steps between checkpoints / metric rows.
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``...
    deterministic : bool
        ``torch.use_deterministic_algorithms`` (for bit-exact resumes on CUDA).
    num_workers : int
        DataLoader workers.
    data_root : str | None
        Data root for dataset sources.
    """

    corpus: str
    out: str
    sources: list | None = None
    model: Any = "tiny"
    subjects: list | None = None
    corpus_sources: list | None = None
    modalities: list | None = None
    steps: int = 1000
    vq_warmup_steps: int = 0
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    max_channels: int | None = 128
    seed: int = 0
    checkpoint_every: int = 200
    log_every: int = 10
    device: str = "auto"
    deterministic: bool = False
    num_workers: int = 0
    data_root: str | None = None
    progress: bool = field(default=True, compare=False)

    model_class = TokenizerConfig


def load_pretrain_config(path: str | os.PathLike, **overrides: Any) -> PretrainConfig:
    """Read a YAML pretraining config (keys of :class:`PretrainConfig`); ``overrides`` win."""
    config = load_yaml_config(path, PretrainConfig, ("corpus", "out"), **overrides)
    config.model_config()  # validate now
    return config


@dataclass
class PretrainResult:
    """What :func:`pretrain` returns."""

    model: BrainTokenizer
    step: int
    checkpoint: Path
    metrics: pd.DataFrame


def _prepare_corpus(config: PretrainConfig) -> Corpus:
    if config.sources:
        sources = [parse_source(s) if isinstance(s, str) else s for s in config.sources]
        return build_corpus(config.corpus, sources, data_root=config.data_root, progress=config.progress)
    return Corpus(config.corpus)


def pretrain(config: PretrainConfig, *, resume: bool = True, stop_after: int | None = None) -> PretrainResult:
    """Train a :class:`BrainTokenizer` on a corpus (see the module docstring).

    Parameters
    ----------
    config : PretrainConfig
    resume : bool
        Continue from ``out/checkpoint.pt`` if it exists (its settings must match).
        False starts over.
    stop_after : int | None
        Return right after this step (and its checkpoint, if one is due), as if the process
        were killed there; for tests.

    Returns
    -------
    PretrainResult
    """
    config.use_determinism()
    model_config = config.model_config()
    corpus = _prepare_corpus(config)
    if (
        corpus.options.window_samples != model_config.window_samples
        or corpus.options.sfreq != model_config.sfreq
    ):
        raise ConfigError(
            f"corpus {corpus.path} has {corpus.options.window_samples}-sample windows "
            f"at {corpus.options.sfreq} Hz; "
            f"the model expects {model_config.window_samples} at {model_config.sfreq} Hz"
        )
    dataset = WindowDataset(
        corpus,
        subjects=config.subjects,
        sources=config.corpus_sources,
        modalities=config.modalities,
        max_channels=config.max_channels,
        seed=config.seed,
    )
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    device = device_of(config.device)

    torch.manual_seed(config.seed)
    model = BrainTokenizer(model_config).to(device)
    optimizer, scheduler = config.optimizer(model.parameters())
    generator = torch.Generator().manual_seed(config.seed + 1)  # hidden channels and noise
    step, elapsed_before = resume_run(
        out,
        config,
        model_config,
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        generator=generator,
        resume=resume,
        kind="tokenizer",
        resumable_changes=RESUMABLE_CHANGES,
        device=device,
    )
    write_run_config(out, config)
    log = MetricsLog(out / "metrics.csv", step)

    def save() -> None:
        save_checkpoint(
            ckpt_path,
            model,
            step=step,
            train_config=config.to_dict(),
            preprocess=corpus.options.to_dict(),
            optimizer=optimizer.state_dict(),
            scheduler=scheduler.state_dict(),
            rng=rng_state(generator),
            elapsed_s=elapsed_before + time.perf_counter() - started,
        )

    sampler = StepBatchSampler(len(dataset), config.batch_size, seed=config.seed, start_step=step)
    loader = torch.utils.data.DataLoader(
        dataset, batch_sampler=sampler, collate_fn=collate_windows, num_workers=config.num_workers
    )
    autocast = autocast_for(device)
    model.train()
    bar = tqdm(total=config.steps, initial=step, desc="pretrain", unit="step", disable=not config.progress)
    started, windows_seen = time.perf_counter(), 0
    batches = iter(loader)
    while step < config.steps:
        batch = {k: v.to(device) for k, v in next(batches).items()}
        x, valid = batch["x"], batch["valid"]
        visible = random_visible(valid.cpu(), model_config.hide_fraction, generator).to(device)
        noise = (torch.randn(x.shape, generator=generator) * model_config.noise_std).to(device)
        with autocast:
            quantize = step >= config.vq_warmup_steps
            out_ = model(x, batch["features"], batch["types"], valid, visible, noise, quantize=quantize)
            losses = tokenizer_loss(out_.reconstruction, out_.target, valid, out_.commitment, model_config)
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        step += 1
        windows_seen += len(x)
        bar.update(1)
        if step % config.log_every == 0 or step == config.steps:
            hidden = valid & ~visible
            r_hidden = pearson(out_.reconstruction.detach().float(), out_.target)[hidden].mean()
            codes = out_.codes.reshape(-1, model_config.n_levels)
            size = model_config.codebook_size
            ppl = {
                f"perplexity_{i}": float(perplexity(codes[:, i], size)) if quantize else float("nan")
                for i in range(codes.shape[1])
            }
            row = {
                "step": step,
                "epoch": (step - 1) // sampler.batches_per_epoch,
                "lr": scheduler.get_last_lr()[0],
                **{k: float(v.detach()) for k, v in losses.items()},
                "r_hidden": float(r_hidden),
                "grad_norm": float(grad_norm),
                **ppl,
                **{f"dead_{i}": n for i, n in enumerate(model.quantizer.dead_codes())},
                "windows_per_s": windows_seen / (time.perf_counter() - started),
                "elapsed_s": elapsed_before + time.perf_counter() - started,
            }
            log.write(row)
            bar.set_postfix(loss=f"{row['loss']:.3f}", r=f"{row['r']:.2f}", r_hidden=f"{row['r_hidden']:.2f}")
        if step % config.checkpoint_every == 0 or step == config.steps:
            save()
        if stop_after is not None and step >= stop_after:
            bar.close()
            return PretrainResult(model.eval(), step, ckpt_path, log.read())
    bar.close()
    final = out / "tokenizer.pt"
    save_checkpoint(final, model, step=step, preprocess=corpus.options.to_dict())
    return PretrainResult(model.eval(), step, final, log.read())
