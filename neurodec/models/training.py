"""What every neurodec training run shares (tokenizer and backbone pretraining).

* :func:`load_yaml_config`: a YAML file -> a config dataclass (unknown/missing keys refused);
* :func:`lr_factor` and :func:`optimizer_and_schedule`: AdamW, linear warm-up then cosine decay;
* :func:`resume_run`: load ``out/checkpoint.pt`` (model, optimiser, scheduler, RNG states)
  after checking that it was written by the same model and settings, or start over;
* :class:`MetricsLog`: ``metrics.csv``, appended row by row, rows past a resumed step dropped;
* :func:`device_of`, :func:`autocast_for` (bf16 autocast on CUDA only), :func:`write_run_config`.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar

import pandas as pd
import torch
import yaml

from neurodec.atomic import atomic_write
from neurodec.errors import ConfigError, DataNotFoundError
from neurodec.models.checkpoint import check_model_config, load_checkpoint, set_rng_state

__all__ = [
    "TrainingConfig",
    "load_yaml_config",
    "lr_factor",
    "optimizer_and_schedule",
    "resume_run",
    "MetricsLog",
    "device_of",
    "autocast_dtype",
    "autocast_for",
    "write_run_config",
]

logger = logging.getLogger(__name__)


C = TypeVar("C")


class TrainingConfig(Generic[C]):
    """What the pretraining config dataclasses share (a mixin with no fields of its own).

    A subclass is a frozen dataclass with the fields ``model``, ``steps``, ``batch_size``,
    ``lr``, ``weight_decay``, ``warmup_steps``, ``min_lr_ratio``, ``grad_clip``,
    ``checkpoint_every``, ``log_every`` and ``deterministic``, and sets ``model_class`` to
    the model config class that ``model`` names.
    """

    model_class: ClassVar[type]

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "checkpoint_every", "log_every"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ConfigError(f"pretraining config: {name} must be a positive integer, got {value!r}")
        if not (
            self.lr > 0 and 0 <= self.min_lr_ratio <= 1 and self.warmup_steps >= 0 and self.grad_clip > 0
        ):
            raise ConfigError(
                "pretraining config: need lr > 0, 0 <= min_lr_ratio <= 1, warmup_steps >= 0, grad_clip > 0"
            )

    def model_config(self) -> C:
        """The model config (``model_class.from_size``) that ``model`` names: a size name or a mapping."""
        if isinstance(self.model, str):
            return self.model_class.from_size(self.model)
        if isinstance(self.model, dict):
            spec = dict(self.model)
            return self.model_class.from_size(spec.pop("size", "tiny"), **spec)
        raise ConfigError(f"pretraining config: model must be a size name or a mapping, got {self.model!r}")

    def use_determinism(self) -> None:
        """With ``deterministic``: ``torch.use_deterministic_algorithms`` (and cuBLAS's workspace)."""
        if self.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)

    def optimizer(
        self, params: Iterable[torch.nn.Parameter]
    ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
        """:func:`optimizer_and_schedule` with this config's settings."""
        return optimizer_and_schedule(
            params,
            lr=self.lr,
            weight_decay=self.weight_decay,
            warmup_steps=self.warmup_steps,
            steps=self.steps,
            min_lr_ratio=self.min_lr_ratio,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)


def load_yaml_config(path: str | os.PathLike, cls: type, required: Iterable[str], **overrides: Any) -> Any:
    """Read a YAML file of ``cls``'s fields (``overrides`` that are not None win)."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"pretraining config {path} does not exist")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(values, dict):
        raise ConfigError(f"{path} must hold a mapping of settings, got {type(values).__name__}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {unknown}; known: {sorted(known)}")
    missing = sorted(set(required) - set(values))
    if missing:
        raise ConfigError(f"{path}: missing setting(s) {missing}")
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def lr_factor(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """Learning-rate multiplier: linear warm-up to 1, then cosine decay to ``min_ratio`` at ``total``."""
    if warmup and step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def optimizer_and_schedule(
    params: Iterable[torch.nn.Parameter],
    *,
    lr: float,
    weight_decay: float,
    warmup_steps: int,
    steps: int,
    min_lr_ratio: float,
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW and its warm-up + cosine schedule (:func:`lr_factor`), stepped once per step."""
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, warmup_steps, steps, min_lr_ratio)
    )
    return optimizer, scheduler


def resume_run(
    out: Path,
    config: Any,
    model_config: Any,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    generator: torch.Generator | None,
    resume: bool,
    kind: str,
    resumable_changes: Iterable[str],
    device: torch.device,
) -> tuple[int, float]:
    """Continue from ``out/checkpoint.pt`` (or start over); returns ``(step, elapsed_s)``.

    A checkpoint of another model config, or of other settings than ``config`` (except
    ``resumable_changes``), is refused with the differing fields named. ``resume=False``
    deletes the old checkpoint and metrics.
    """
    ckpt_path = out / "checkpoint.pt"
    if resume and ckpt_path.is_file():
        ckpt = load_checkpoint(ckpt_path, map_location=device, kind=kind)
        check_model_config(ckpt, model_config, ckpt_path)
        saved, now = ckpt.get("train_config", {}), config.to_dict()
        allowed = set(resumable_changes)
        diff = {
            k: (now.get(k), saved.get(k))
            for k in set(now) | set(saved)
            if k not in allowed and now.get(k) != saved.get(k)
        }
        if diff:
            shown = ", ".join(f"{k}: now {a!r}, checkpoint {b!r}" for k, (a, b) in sorted(diff.items()))
            raise ConfigError(
                f"{ckpt_path} was written by a run with other settings ({shown}); "
                "use another out folder, or resume=False to start this one over"
            )
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        set_rng_state(ckpt["rng"], generator)
        logger.info("resumed %s at step %d", ckpt_path, int(ckpt["step"]))
        return int(ckpt["step"]), float(ckpt.get("elapsed_s", 0.0))
    if ckpt_path.is_file():
        logger.warning("starting %s over (resume=False)", out)
        for stale in (ckpt_path, out / "metrics.csv"):
            stale.unlink(missing_ok=True)
    return 0, 0.0


def write_run_config(out: Path, config: Any) -> None:
    """``out/config.yml``: the run's settings."""
    atomic_write(
        out / "config.yml", lambda p: p.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
    )


class MetricsLog:
    """metrics.csv: appended row by row; rows past a resumed step are dropped first."""

    def __init__(self, path: Path, resume_step: int) -> None:
        self.path = path
        if path.is_file():
            table = pd.read_csv(path)
            table = table[table["step"] <= resume_step]
            atomic_write(path, lambda p: table.to_csv(p, index=False))

    def write(self, row: dict[str, Any]) -> None:
        new = not self.path.is_file()
        with open(self.path, "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)

    def read(self) -> pd.DataFrame:
        return pd.read_csv(self.path) if self.path.is_file() else pd.DataFrame()


def device_of(name: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; other names as torch reads them."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def autocast_dtype(device: torch.device | str) -> torch.dtype | None:
    """Mixed-precision dtype of training on ``device``: bf16 on CUDA, None (float32) elsewhere."""
    return torch.bfloat16 if torch.device(device).type == "cuda" else None


def autocast_for(device: torch.device | str) -> torch.autocast:
    """Autocast context of a training step on ``device`` (off where :func:`autocast_dtype` is None)."""
    device = torch.device(device)
    dtype = autocast_dtype(device)
    if dtype is None:
        return torch.autocast(device_type=device.type, enabled=False)
    return torch.autocast(device_type=device.type, dtype=dtype)
