"""Sensor tables of several montages (EEG 4/32/64, MEG mag+grad, sEEG, EEG+MEG) for model tests."""

from __future__ import annotations

import functools

import mne
import numpy as np
import pandas as pd
import torch

from neurodec.datasets.simulated.arrays import make_info, meg_array, seeg_array
from neurodec.datasets.simulated.head import template_head
from neurodec.sensors import load_montage, model_channels, sensor_features, sensor_table

EEG64 = (
    "Fp1 Fpz Fp2 AF7 AF3 AFz AF4 AF8 F7 F5 F3 F1 Fz F2 F4 F6 F8 FT7 FC5 FC3 FC1 FCz FC2 FC4 FC6 FT8 "
    "T7 C5 C3 C1 Cz C2 C4 C6 T8 TP7 CP5 CP3 CP1 CPz CP2 CP4 CP6 TP8 P7 P5 P3 P1 Pz P2 P4 P6 P8 "
    "PO7 PO3 POz PO4 PO8 O1 Oz O2 Iz T9 T10"
).split()
MONTAGES = ("eeg4", "eeg32", "eeg64", "meg", "seeg", "eeg+meg")


def _eeg_info(names: list[str]) -> mne.Info:
    info = mne.create_info(names, 256.0, "eeg")
    with mne.utils.use_log_level("error"):
        info.set_montage(load_montage("standard_1005"))
    return info


@functools.cache
def montage_table(name: str) -> pd.DataFrame:
    """The usable rows of the sensor table of montage ``name`` (see :data:`MONTAGES`)."""
    if name == "eeg4":
        info = _eeg_info(["TP9", "AF7", "AF8", "TP10"])
    elif name == "eeg32":
        info = _eeg_info(EEG64[::2])
    elif name == "eeg64":
        info = _eeg_info(EEG64)
    elif name == "meg":
        info = make_info(meg_array(template_head()), 256.0, eog=False, stim=False)
    elif name == "seeg":
        info = make_info(seeg_array(template_head()), 256.0, eog=False, stim=False)
    elif name == "eeg+meg":
        meg = make_info(meg_array(template_head(), n_locations=20), 256.0, eog=False, stim=False)
        eeg = _eeg_info(EEG64[:16])
        with mne.utils.use_log_level("error"):
            info = mne.create_info(meg.ch_names + eeg.ch_names, 256.0, meg.get_channel_types() + ["eeg"] * 16)
            for i, ch in enumerate(meg["chs"] + eeg["chs"]):
                info["chs"][i].update({k: ch[k] for k in ("loc", "coil_type", "coord_frame", "unit", "kind")})
            info["dev_head_t"] = meg["dev_head_t"]
    else:
        raise KeyError(name)
    table = sensor_table(info)
    return table[model_channels(table)].reset_index(drop=True)


def montage_batch(name: str, batch: int = 2, seed: int = 0, n_times: int = 512, n_sources: int = 3):
    """(x, features, type_ids) tensors of windows on montage ``name``.

    A few oscillating sources at random places, each seen by the sensors with a gain
    that decays with distance (so neighbouring channels are alike), plus 10 % noise.
    """
    features, type_ids = sensor_features(montage_table(name))
    rng = np.random.default_rng(seed)
    c = len(type_ids)
    t = np.arange(n_times) / 256.0
    centres = rng.standard_normal((batch, n_sources, 3))
    centres /= np.linalg.norm(centres, axis=-1, keepdims=True)
    dist2 = ((features[None, :, None, :3] - centres[:, None]) ** 2).sum(-1)  # (batch, C, n_sources)
    gain = np.exp(-dist2 / 0.5)
    freqs = rng.uniform(3, 30, size=(batch, n_sources, 1))
    phases = rng.uniform(0, 2 * np.pi, size=(batch, n_sources, 1))
    sources = np.sin(2 * np.pi * freqs * t + phases) * rng.uniform(0.5, 2, size=(batch, n_sources, 1))
    x = np.einsum("bcs,bst->bct", gain, sources)
    x += 0.1 * x.std() * rng.standard_normal((batch, c, n_times))
    return (
        torch.tensor(x, dtype=torch.float32),
        torch.tensor(features)[None].expand(batch, -1, -1).clone(),
        torch.tensor(type_ids)[None].expand(batch, -1).clone(),
    )
