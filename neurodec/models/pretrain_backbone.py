"""Pretraining the backbone: ``pretrain_backbone(config)`` and ``neurodec pretrain --config FILE``.

The tokenizer (a checkpoint path) is frozen: the corpus is tokenized once and cached
beside it (:func:`neurodec.models.tokens.tokenize_corpus`); the backbone learns to
predict the 4 RVQ levels of masked positions of 30-s segments (:mod:`.backbone`).

One run lives in one folder (``out``)::

    checkpoint.pt   latest full checkpoint (model, optimiser, scheduler, RNG states, step), atomic
    foundation.pt   at the end: the backbone, its tokenizer and the preprocessing (one file to share)
    metrics.csv     one row every ``log_every`` steps: loss, loss and masked-token accuracy per
                    level, learning rate, gradient norm, segments/s, tokens/s, wall time
    config.yml      the run's configuration

Training is shared with the tokenizer's (:mod:`neurodec.models.training`): AdamW,
linear warm-up then cosine decay, gradient clipping, bf16 autocast on CUDA only,
checkpoints resumable bit-exactly (batches and masks are pure functions of
``(seed, step)``). Several processes (``torchrun``, :mod:`neurodec.models.distributed`)
train one model with ``DistributedDataParallel``: ``batch_size`` is the global batch, each
of the N processes takes every N-th segment of it (the split of ``DistributedSampler``,
:class:`neurodec.models.data.StepBatchSampler`) and its share of the same masks, so the
loss curve is that of one process with the same global batch.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from neurodec.corpus import Corpus
from neurodec.errors import ConfigError
from neurodec.models.backbone import FoundationModel, mask_inputs, masked_token_loss, random_mask
from neurodec.models.checkpoint import (
    load_checkpoint,
    load_model,
    rng_state,
    save_checkpoint,
    tokenizer_entries,
    tokenizer_from_entries,
)
from neurodec.models.config import ModelConfig
from neurodec.models.data import StepBatchSampler
from neurodec.models.distributed import DistInfo, all_mean, barrier, process_group
from neurodec.models.tokenizer import BrainTokenizer
from neurodec.models.tokens import SegmentDataset, tokenize_corpus
from neurodec.models.training import (
    MetricsLog,
    TrainingConfig,
    autocast_for,
    device_of,
    load_yaml_config,
    resume_run,
    write_run_config,
)

__all__ = [
    "BackbonePretrainConfig",
    "BackboneResult",
    "load_backbone_config",
    "pretrain_backbone",
    "load_foundation",
    "segments_of",
    "masked_accuracy",
]

logger = logging.getLogger(__name__)

#: Settings that may change when a run is resumed (they do not change what is computed).
RESUMABLE_CHANGES = ("steps", "checkpoint_every", "log_every", "progress", "token_cache", "compile")


@dataclass(frozen=True)
class BackbonePretrainConfig(TrainingConfig[ModelConfig]):
    """Everything a backbone pretraining run needs (a YAML file has the same keys).

    Parameters
    ----------
    corpus : str
        Corpus folder (:func:`neurodec.corpus.build_corpus`).
    out : str
        Run folder.
    tokenizer : str
        Tokenizer checkpoint (``tokenizer.pt`` of ``neurodec pretrain-tokenizer``), frozen.
    token_cache : str | None
        Parent folder of token caches (default ``<corpus>/tokens``).
    model : str | dict
        A backbone size (``"test"``, ``"tiny"``, ``"base"``) or ``{"size": ..., <ModelConfig
        fields>}``; the token grid (codebook size, levels, sources, frames) comes from the
        tokenizer.
    subjects, corpus_sources, modalities : list | None
        Which corpus recordings to train on (:meth:`neurodec.corpus.Corpus.select`).
    steps, batch_size, lr, weight_decay, warmup_steps, min_lr_ratio, grad_clip
        Optimisation; ``batch_size`` segments per step over all processes.
    seed : int
        Seeds the initialisation, batch order and masks.
    checkpoint_every, log_every : int
    device : str
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``.
    deterministic : bool
        ``torch.use_deterministic_algorithms`` (bit-exact resumes on CUDA).
    compile : bool
        ``torch.compile`` the model (CUDA; optional).
    """

    corpus: str
    out: str
    tokenizer: str
    token_cache: str | None = None
    model: Any = "tiny"
    subjects: list | None = None
    corpus_sources: list | None = None
    modalities: list | None = None
    steps: int = 1000
    batch_size: int = 16
    lr: float = 5e-4
    weight_decay: float = 0.05
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    seed: int = 0
    checkpoint_every: int = 200
    log_every: int = 10
    device: str = "auto"
    deterministic: bool = False
    compile: bool = False
    progress: bool = field(default=True, compare=False)

    model_class = ModelConfig


def load_backbone_config(path: str | os.PathLike, **overrides: Any) -> BackbonePretrainConfig:
    """Read a YAML backbone pretraining config (keys of :class:`BackbonePretrainConfig`)."""
    config = load_yaml_config(path, BackbonePretrainConfig, ("corpus", "out", "tokenizer"), **overrides)
    config.model_config()  # validate now
    return config


@dataclass
class BackboneResult:
    """What :func:`pretrain_backbone` returns (on every process)."""

    model: FoundationModel
    step: int
    checkpoint: Path
    metrics: pd.DataFrame


def _model_config(config: BackbonePretrainConfig, tokenizer: BrainTokenizer) -> ModelConfig:
    model_config = config.model_config()
    grid = ("codebook_size", "n_levels", "n_sources", "frames_per_window")
    if isinstance(config.model, dict) and any(k in config.model for k in grid):
        model_config.check_tokenizer(tokenizer.config)  # a grid given by hand must be the tokenizer's
    return model_config.for_tokenizer(tokenizer.config)


def segments_of(
    corpus: Corpus,
    tokenizer: BrainTokenizer,
    model_config: ModelConfig,
    *,
    subjects: Any = None,
    sources: Any = None,
    modalities: Any = None,
    token_cache: str | None = None,
    progress: bool = False,
) -> SegmentDataset:
    """The segments of the selected recordings, tokenized (once, cached) by ``tokenizer``."""
    rids = corpus.select(subjects=subjects, sources=sources, modalities=modalities)
    if not rids:
        raise ConfigError(f"no recording of {corpus.path} matches the selection")
    cache = tokenize_corpus(corpus, tokenizer, cache_dir=token_cache, recordings=rids, progress=progress)
    return SegmentDataset(cache, rids, model_config.context_windows, model_config.segment_stride)


def _step_masks(
    config: BackbonePretrainConfig, model_config: ModelConfig, step: int, batch: int, info: DistInfo
) -> tuple[torch.Tensor, torch.Generator]:
    """The masks of this process's share of the global batch of ``step`` (a function of seed and step)."""
    gen = torch.Generator().manual_seed(config.seed * 1_000_003 + step + 17)
    T, S = model_config.context_frames, model_config.n_sources
    mask = random_mask((batch * info.world_size, T, S), model_config.mask_ratio, gen)
    return mask[info.rank :: info.world_size], gen


def pretrain_backbone(
    config: BackbonePretrainConfig, *, resume: bool = True, stop_after: int | None = None
) -> BackboneResult:
    """Train a :class:`FoundationModel` on a tokenized corpus (see the module docstring).

    Parameters
    ----------
    config : BackbonePretrainConfig
    resume : bool
        Continue from ``out/checkpoint.pt`` if it exists (same settings); False starts over.
    stop_after : int | None
        Return right after this step (and its checkpoint, if one is due), as if killed there.

    Returns
    -------
    BackboneResult
    """
    config.use_determinism()
    with process_group(device_of(config.device)) as (info, device):
        return _train(config, info, device, resume, stop_after)


def _train(
    config: BackbonePretrainConfig, info: DistInfo, device: torch.device, resume: bool, stop_after: int | None
) -> BackboneResult:
    if config.batch_size % info.world_size:
        raise ConfigError(
            f"batch_size ({config.batch_size}) must be a multiple of the number of processes "
            f"({info.world_size})"
        )
    local_batch = config.batch_size // info.world_size
    tokenizer = load_model(config.tokenizer, map_location=device)  # tokenizes the corpus on the device
    model_config = _model_config(config, tokenizer)
    corpus = Corpus(config.corpus)
    select = dict(subjects=config.subjects, sources=config.corpus_sources, modalities=config.modalities)
    if info.is_main:  # one process tokenizes, the others read its cache
        segments_of(
            corpus,
            tokenizer,
            model_config,
            token_cache=config.token_cache,
            progress=config.progress,
            **select,
        )
    barrier(info)
    dataset = segments_of(corpus, tokenizer, model_config, token_cache=config.token_cache, **select)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"

    torch.manual_seed(config.seed)
    model = FoundationModel(model_config).to(device)
    optimizer, scheduler = config.optimizer(model.parameters())
    step, elapsed_before = resume_run(
        out,
        config,
        model_config,
        model=model,
        optimizer=optimizer,
        scheduler=scheduler,
        generator=None,
        resume=resume,
        kind="backbone",
        resumable_changes=RESUMABLE_CHANGES,
        device=device,
    )
    barrier(info)  # nobody starts over a checkpoint another process is still reading
    if info.is_main:
        write_run_config(out, config)
    log = MetricsLog(out / "metrics.csv", step) if info.is_main else None
    net: torch.nn.Module = DistributedDataParallel(model) if info.distributed else model
    if config.compile:
        net = torch.compile(net)

    def save() -> None:
        if info.is_main:
            save_checkpoint(
                ckpt_path,
                model,
                kind="backbone",
                step=step,
                train_config=config.to_dict(),
                optimizer=optimizer.state_dict(),
                scheduler=scheduler.state_dict(),
                rng=rng_state(),
                elapsed_s=elapsed_before + time.perf_counter() - started,
            )

    sampler = StepBatchSampler(
        len(dataset),
        local_batch,
        seed=config.seed,
        start_step=step,
        rank=info.rank,
        world_size=info.world_size,
    )
    autocast = autocast_for(device)
    model.train()
    bar = tqdm(
        total=config.steps,
        initial=step,
        desc="pretrain",
        unit="step",
        disable=not (config.progress and info.is_main),
    )
    started, segments_seen = time.perf_counter(), 0
    tokens_per_segment = model_config.context_frames * model_config.n_sources
    while step < config.steps:
        codes = torch.stack([dataset[i] for i in sampler.batch(step)]).flatten(1, 2)  # (b, T, S, L)
        mask, gen = _step_masks(config, model_config, step, local_batch, info)
        inputs, input_mask = mask_inputs(codes, mask, model_config, gen)
        codes, mask, inputs = codes.to(device), mask.to(device), inputs.to(device)
        input_mask = None if input_mask is None else input_mask.to(device)
        with autocast:
            logits = net(inputs, input_mask)
            losses = masked_token_loss(logits, codes, mask)
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        step += 1
        segments_seen += config.batch_size
        bar.update(1)
        if step % config.log_every == 0 or step == config.steps:
            names = list(losses)
            values = all_mean(torch.stack([losses[k].detach().float() for k in names]), info).cpu()
            if log is not None:
                wall = time.perf_counter() - started
                row = {
                    "step": step,
                    "epoch": (step - 1) // sampler.batches_per_epoch,
                    "lr": scheduler.get_last_lr()[0],
                    **{k: float(v) for k, v in zip(names, values)},
                    "grad_norm": float(grad_norm),
                    "segments_per_s": segments_seen / wall,
                    "tokens_per_s": segments_seen * tokens_per_segment / wall,
                    "elapsed_s": elapsed_before + wall,
                }
                log.write(row)
                bar.set_postfix(loss=f"{row['loss']:.3f}", acc_0=f"{row['acc_0']:.3f}")
        if step % config.checkpoint_every == 0 or step == config.steps:
            save()
        if stop_after is not None and step >= stop_after:
            break
    bar.close()
    final = ckpt_path
    if step >= config.steps:
        final = out / "foundation.pt"
        if info.is_main:
            save_checkpoint(
                final,
                model,
                kind="backbone",
                step=step,
                tokenizer=tokenizer_entries(tokenizer.cpu()),
                preprocess=tokenizer.preprocess,
            )
    barrier(info)
    metrics = MetricsLog(out / "metrics.csv", step).read() if info.is_main else pd.DataFrame()
    return BackboneResult(model.eval(), step, final, metrics)


def load_foundation(
    path: str | os.PathLike, map_location: str | torch.device = "cpu"
) -> tuple[FoundationModel, BrainTokenizer]:
    """The backbone and its tokenizer from ``foundation.pt`` (or a run's ``checkpoint.pt``
    with the tokenizer of its ``train_config``), both in eval mode."""
    ckpt = load_checkpoint(path, map_location, kind="backbone")
    model = FoundationModel(ModelConfig.from_dict(ckpt["model_config"]))
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as exc:
        raise ConfigError(f"{path}: weights do not fit the stored configuration: {exc}") from exc
    if "tokenizer" in ckpt:
        tokenizer = tokenizer_from_entries(ckpt["tokenizer"], path)
    elif "train_config" in ckpt:
        tokenizer = load_model(ckpt["train_config"]["tokenizer"], map_location)
    else:
        raise ConfigError(f"{path} holds no tokenizer and names none")
    model.config.check_tokenizer(tokenizer.config)
    return model.eval(), tokenizer


@torch.no_grad()
def masked_accuracy(
    model: FoundationModel,
    dataset: SegmentDataset,
    *,
    train_counts: np.ndarray | None = None,
    batch_size: int = 8,
    seed: int = 0,
) -> pd.DataFrame:
    """Masked-token accuracy per RVQ level on ``dataset`` (fixed masks from ``seed``).

    ``train_counts`` (L, K), code counts of the training tokens
    (:meth:`SegmentDataset.level_counts`), adds the accuracy of always predicting each
    level's most frequent training code on the same masked positions.

    Returns
    -------
    DataFrame
        One row per level: ``level``, ``accuracy``, ``baseline`` (NaN without counts),
        ``loss``, ``masked`` (positions scored).
    """
    model.eval()
    cfg = model.config
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    L = cfg.n_levels
    hits, base, loss, n = np.zeros(L), np.zeros(L), np.zeros(L), 0
    top = None if train_counts is None else torch.from_numpy(np.asarray(train_counts).argmax(1))  # (L,)
    for start in range(0, len(dataset), batch_size):
        codes = torch.stack([dataset[i] for i in range(start, min(len(dataset), start + batch_size))])
        codes = codes.flatten(1, 2)  # (b, T, S, L)
        mask = random_mask(tuple(codes.shape[:3]), cfg.mask_ratio, gen)
        inputs, input_mask = mask_inputs(codes, mask, cfg, gen)
        logits = model(inputs.to(device), None if input_mask is None else input_mask.to(device)).float().cpu()
        target = codes[mask]  # (M, L)
        picked = logits[mask]  # (M, L, K)
        hits += (picked.argmax(-1) == target).sum(0).numpy()
        loss += (
            torch.nn.functional.cross_entropy(picked.transpose(1, 2), target, reduction="none").sum(0).numpy()
        )
        if top is not None:
            base += (target == top[None]).sum(0).numpy()
        n += len(target)
    return pd.DataFrame(
        {
            "level": np.arange(L),
            "accuracy": hits / n,
            "baseline": base / n if top is not None else np.nan,
            "loss": loss / n,
            "masked": n,
        }
    )
