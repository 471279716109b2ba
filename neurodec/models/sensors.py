"""``SensorEncoder``: one embedding per channel from its sensor, whatever the montage.

Input: the 6-vector and type index of :func:`neurodec.sensors.sensor_features` (normalised
position, coil orientation). An MLP embeds the 6-vector, a learned embedding per sensor
type (EEG, magnetometer, gradiometer, sEEG, ECoG) is added, and a LayerNorm normalises
the sum. Channels are processed independently, so the embedding of a channel does not
depend on the other channels or on their order.
"""

from __future__ import annotations

import torch
from torch import nn

from neurodec.sensors.features import SENSOR_TYPES

__all__ = ["SensorEncoder"]


class SensorEncoder(nn.Module):
    """Embed every channel's sensor (position, orientation, type) into ``d_model``.

    Parameters
    ----------
    d_model : int
        Embedding size.
    n_features : int
        Length of the sensor vector (6: position xyz, orientation xyz).
    """

    def __init__(self, d_model: int, n_features: int = 6) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(n_features, d_model),
            nn.GELU(),
            nn.Linear(d_model, d_model),
        )
        self.type_embedding = nn.Embedding(len(SENSOR_TYPES), d_model)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, features: torch.Tensor, type_ids: torch.Tensor) -> torch.Tensor:
        """
        Parameters
        ----------
        features : Tensor, shape (B, C, 6)
        type_ids : Tensor of int64, shape (B, C)

        Returns
        -------
        Tensor, shape (B, C, d_model)
        """
        return self.norm(self.mlp(features) + self.type_embedding(type_ids))
