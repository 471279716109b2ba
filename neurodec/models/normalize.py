"""Per-window re-referencing and scaling, from the visible channels only.

The model never sees absolute units. In every window and for every sensor type:

1. electrodes (EEG, sEEG, ECoG) are re-referenced to the average of the *visible*
   electrodes of that type (MEG is left as is);
2. every channel is divided by one scale per sensor type: the root mean square over the
   visible channels of that type (1 where a type has no visible channel).

Channel means over the window are kept (the corpus signals are already high-passed at
0.1 Hz): the slow part of a window is signal the model must reconstruct too.

Hidden channels go through the same transform with the statistics of the visible ones,
so the reconstruction target of a hidden channel is its signal in the visible channels'
reference and scale: nothing about it leaks into the encoder's input, not even through a
common average computed beforehand (re-referencing to the visible average cancels any
earlier reference). :func:`denormalize` inverts the transform.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from neurodec.sensors.features import ELECTRODE_TYPE_IDS, SENSOR_TYPES

__all__ = ["WindowStats", "normalize", "denormalize"]

_N_TYPES = len(SENSOR_TYPES)


@dataclass
class WindowStats:
    """The statistics :func:`normalize` used, to invert it."""

    #: Reference subtracted per type, shape (B, n_types, T) (zeros for MEG types).
    reference: torch.Tensor
    #: Per-type scale (root mean square), shape (B, n_types).
    scale: torch.Tensor


def _type_onehot(type_ids: torch.Tensor, valid: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(B, C, n_types) one-hot of the channel types, zero for padding."""
    return F.one_hot(type_ids, _N_TYPES).to(dtype) * valid[..., None].to(dtype)


def normalize(
    x: torch.Tensor, type_ids: torch.Tensor, valid: torch.Tensor, visible: torch.Tensor
) -> tuple[torch.Tensor, WindowStats]:
    """Re-reference and scale windows with the statistics of the visible channels.

    Parameters
    ----------
    x : Tensor, shape (B, C, T)
    type_ids : Tensor of int64, shape (B, C)
    valid : Tensor of bool, shape (B, C)
        False for padding channels.
    visible : Tensor of bool, shape (B, C)
        Channels the statistics come from (a subset of ``valid``).

    Returns
    -------
    xn : Tensor, shape (B, C, T)
        Zero on padding channels.
    stats : WindowStats
    """
    x = x.float()
    onehot = _type_onehot(type_ids, valid, x.dtype)  # (B, C, K)
    vis = onehot * visible[..., None].to(x.dtype)  # (B, C, K)
    n_vis = vis.sum(1)  # (B, K)
    electrode = torch.zeros(_N_TYPES, dtype=x.dtype, device=x.device)
    electrode[list(ELECTRODE_TYPE_IDS)] = 1.0
    reference = torch.einsum("bck,bct->bkt", vis, x) / n_vis.clamp(min=1)[..., None]  # (B, K, T)
    reference = reference * electrode[None, :, None]
    x = x - torch.einsum("bck,bkt->bct", onehot, reference)
    power = torch.einsum("bck,bc->bk", vis, x.pow(2).mean(-1)) / n_vis.clamp(min=1)  # (B, K)
    scale = torch.where(n_vis > 0, power.sqrt().clamp(min=1e-20), torch.ones_like(power))
    per_channel = torch.einsum("bck,bk->bc", onehot, scale) + (~valid).to(x.dtype)  # padding: 1
    xn = x / per_channel[..., None] * valid[..., None].to(x.dtype)
    return xn, WindowStats(reference=reference, scale=scale)


def denormalize(
    xn: torch.Tensor,
    type_ids: torch.Tensor,
    valid: torch.Tensor,
    stats: WindowStats,
    *,
    add_reference: bool = True,
) -> torch.Tensor:
    """Undo :func:`normalize` on (reconstructed) windows ``xn`` (B, C, T).

    ``add_reference=False`` leaves the signals in the visible channels' average reference.
    """
    onehot = _type_onehot(type_ids, valid, xn.dtype)
    x = xn * torch.einsum("bck,bk->bc", onehot, stats.scale)[..., None]
    if add_reference:
        x = x + torch.einsum("bck,bkt->bct", onehot, stats.reference)
    return x * valid[..., None].to(xn.dtype)
