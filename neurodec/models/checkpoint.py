"""Model checkpoints (tokenizer and backbone): written atomically, checked on load.

A checkpoint is a ``torch.save`` dict (read back with ``weights_only=True``)::

    format ("neurodec-tokenizer" / "neurodec-backbone"), format_version, neurodec_version,
    step, model_config (the model's config .to_dict()), preprocess (PreprocessOptions of
    the corpus), model (state_dict), and for resuming a run: train_config, optimizer,
    scheduler, rng. A backbone checkpoint also holds its tokenizer (``tokenizer``: a
    tokenizer checkpoint's model entries), so one file is all a user needs.

Loading refuses other formats and versions with a message that says what was found and
what this neurodec reads; resuming refuses a checkpoint whose model or training settings
differ from the requested ones, naming the fields.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neurodec import __version__
from neurodec.atomic import atomic_write
from neurodec.errors import ConfigError, DataNotFoundError
from neurodec.models.config import TokenizerConfig
from neurodec.models.tokenizer import BrainTokenizer

__all__ = [
    "CHECKPOINT_FORMAT",
    "CHECKPOINT_VERSION",
    "save_checkpoint",
    "load_checkpoint",
    "load_model",
    "check_model_config",
    "tokenizer_entries",
    "tokenizer_from_entries",
    "rng_state",
    "set_rng_state",
    "saved_config",
]

CHECKPOINT_FORMAT = "neurodec-tokenizer"
#: Bumped when the checkpoint layout or the meaning of the weights changes.
CHECKPOINT_VERSION = 1
#: Format version of each kind of checkpoint (``format`` is ``"neurodec-<kind>"``).
CHECKPOINT_VERSIONS = {"tokenizer": CHECKPOINT_VERSION, "backbone": 1}


def rng_state(generator: torch.Generator | None = None) -> dict[str, Any]:
    """Every random state a training step uses (torch CPU/CUDA, numpy, random, a generator)."""
    np_state = np.random.get_state()  # noqa: NPY002 (the global state other code may draw from)
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(np_state[1].astype(np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    if generator is not None:
        state["generator"] = generator.get_state()
    return state


def set_rng_state(state: dict[str, Any], generator: torch.Generator | None = None) -> None:
    """Restore what :func:`rng_state` saved."""
    torch.set_rng_state(state["torch"])
    np_state = state["numpy"]
    np.random.set_state(  # noqa: NPY002
        (
            "MT19937",
            np_state["keys"].numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["cached_gaussian"],
        )
    )
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if generator is not None and "generator" in state:
        generator.set_state(state["generator"])


def save_checkpoint(path: str | os.PathLike, model: Any, *, kind: str = "tokenizer", **extra: Any) -> Path:
    """Write a checkpoint of ``model`` (and ``extra`` entries: step, optimizer, ...) atomically.

    ``model`` has a ``config`` with ``to_dict()``; ``kind`` is ``"tokenizer"`` or ``"backbone"``.
    """
    payload = {
        "format": f"neurodec-{kind}",
        "format_version": CHECKPOINT_VERSIONS[kind],
        "neurodec_version": __version__,
        "model_config": model.config.to_dict(),
        "model": model.state_dict(),
        **extra,
    }
    return atomic_write(path, lambda p: torch.save(payload, p))


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu", *, kind: str = "tokenizer"
) -> dict[str, Any]:
    """Read and check a checkpoint of a ``kind`` (``"tokenizer"``, ``"backbone"``): format and version.

    Raises
    ------
    DataNotFoundError
        No such file.
    ConfigError
        Not a neurodec checkpoint of this kind, or one of another format version.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"checkpoint {path} does not exist")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle / zip errors of a foreign or truncated file
        raise ConfigError(
            f"{path} is not a readable neurodec {kind} checkpoint ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != f"neurodec-{kind}":
        found = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise ConfigError(f"{path} is not a neurodec {kind} checkpoint (format {found!r})")
    version = CHECKPOINT_VERSIONS[kind]
    if ckpt.get("format_version") != version:
        raise ConfigError(
            f"{path} was written by neurodec {ckpt.get('neurodec_version')} in checkpoint format "
            f"v{ckpt.get('format_version')}; this neurodec ({__version__}) reads v{version}. "
            "Use the neurodec version that wrote it, or train again"
        )
    return ckpt


#: Tokenizer config fields added after checkpoints were first written, with the value every
#: earlier checkpoint was trained with (not today's default): a run trained before the field
#: existed is then never resumed, nor described, as if it had been trained with the new value.
LEGACY_FIELDS: dict[str, Any] = {
    "phase_weighting": "uniform",
    "standardize_loss": False,
    "frame_encoder": "conv",
    "spatial_mixing": "attention",
    "basis_ridge": 1e-2,
}


def saved_config(ckpt: dict[str, Any], cls: type = TokenizerConfig) -> Any:
    """The config (of class ``cls``) stored in a checkpoint; tokenizer configs get :data:`LEGACY_FIELDS`."""
    values = ckpt["model_config"]
    if cls is TokenizerConfig:
        values = {**LEGACY_FIELDS, **values}
    return cls.from_dict(values)


def check_model_config(ckpt: dict[str, Any], config: Any, path: Any = "the checkpoint") -> None:
    """Raise :class:`ConfigError` if ``ckpt`` holds a model of another config (of ``config``'s class)."""
    saved = saved_config(ckpt, type(config))
    diff = config.differences(saved)
    if diff:
        shown = ", ".join(f"{k}: wanted {a!r}, checkpoint has {b!r}" for k, (a, b) in diff.items())
        raise ConfigError(f"{path} holds a {config._label} of another configuration ({shown})")


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> BrainTokenizer:
    """The tokenizer stored in a checkpoint, in eval mode.

    ``model.preprocess`` holds the corpus preprocessing options it was trained with (or
    None), used by :meth:`BrainTokenizer.encode` and :meth:`BrainTokenizer.reconstruct`.
    """
    return tokenizer_from_entries(load_checkpoint(path, map_location), path)


def tokenizer_from_entries(ckpt: dict[str, Any], path: Any = "the checkpoint") -> BrainTokenizer:
    """A tokenizer (eval mode) from the ``model_config``, ``model`` and ``preprocess`` entries of a dict."""
    model = BrainTokenizer(saved_config(ckpt))
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as exc:
        raise ConfigError(f"{path}: weights do not fit the stored configuration: {exc}") from exc
    model.preprocess = ckpt.get("preprocess")
    return model.eval()


def tokenizer_entries(model: BrainTokenizer) -> dict[str, Any]:
    """What :func:`tokenizer_from_entries` reads back: config, weights and preprocessing of a tokenizer."""
    return {
        "model_config": model.config.to_dict(),
        "model": model.state_dict(),
        "preprocess": getattr(model, "preprocess", None),
    }
