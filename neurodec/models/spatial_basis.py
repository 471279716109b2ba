"""``SpatialBasis``: sources as least-squares coefficients of learned spatial functions.

Each channel's sensor embedding (where and what the sensor is) gives its value in ``K``
learned spatial functions, ``W`` (B, C, K). A frame's sources are the ridge
least-squares coefficients that best explain the *visible* channels' features ``h``
(B, F, C, d) with those functions, and every channel (hidden ones too) is read back as
``W @ sources``::

    G = W_vis^T W_vis + ridge * mean(diag G) * I                   (B, K, K)
    sources = G^-1 W_vis^T h                                       (B, F, K, d)
    h_hat = W sources                                              (B, F, C, d)

This is how spherical splines interpolate, with a basis learned from the data instead of
a fixed kernel: the weights are signed (unlike a softmax), depend only on the sensors
(so the tokens do not depend on channel order), and the fit re-weights itself to any
subset of visible channels. The ridge term keeps the solve defined when fewer channels
than functions are visible (a 4-channel headset).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SpatialBasis", "ridge_coefficients"]


def ridge_coefficients(basis: torch.Tensor, features: torch.Tensor, ridge: float) -> torch.Tensor:
    """Ridge least-squares coefficients of ``features`` on ``basis`` (a pure function).

    Parameters
    ----------
    basis : Tensor, shape (B, C, K)
        Values of the K functions at each channel; rows of channels to ignore are zero.
    features : Tensor, shape (B, F, C, d)
    ridge : float
        Regularisation, relative to the mean diagonal of ``basis^T basis``.

    Returns
    -------
    coefficients : Tensor, shape (B, F, K, d)
    """
    dtype = features.dtype
    with torch.autocast(basis.device.type, enabled=False):  # linalg.solve has no bf16 kernels
        w, h = basis.float(), features.float()
        gram = w.transpose(1, 2) @ w  # (B, K, K)
        k = gram.shape[-1]
        scale = gram.diagonal(dim1=1, dim2=2).mean(-1).clamp(min=1e-6)  # (B,)
        eye = torch.eye(k, device=w.device, dtype=w.dtype)
        gram = gram + (ridge * scale)[:, None, None] * eye
        rhs = torch.einsum("bck,bfcd->bfkd", w, h)  # (B, F, K, d)
        return torch.linalg.solve(gram[:, None], rhs).to(dtype)  # (B, F, K, d)


class SpatialBasis(nn.Module):
    """Learned spatial functions of the sensors (see the module docstring).

    Parameters
    ----------
    d_model : int
        Width of the sensor embeddings.
    n_sources : int
        Number of functions ``K`` (the tokenizer's sources).
    ridge : float
        Relative ridge of the least-squares fit.
    """

    def __init__(self, d_model: int, n_sources: int, ridge: float) -> None:
        super().__init__()
        self.ridge = ridge
        self.net = nn.Sequential(nn.Linear(d_model, d_model), nn.GELU(), nn.Linear(d_model, n_sources))

    def forward(self, sensors: torch.Tensor) -> torch.Tensor:
        """Values of the functions at each channel: (B, C, d) -> (B, C, K)."""
        return self.net(sensors)

    def pool(self, features: torch.Tensor, basis: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        """Sources (B, F, K, d) of the visible channels' features (B, F, C, d)."""
        return ridge_coefficients(basis * visible[..., None].to(basis.dtype), features, self.ridge)

    @staticmethod
    def spread(sources: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
        """Every channel's features (B, F, C, d) from sources (B, F, K, d)."""
        return torch.einsum("bck,bfkd->bfcd", basis, sources)
