"""The tokenizer's training loss, on normalised signals of every valid channel.

``loss = L1 + exp(-r) + commitment_weight * commitment
        + amplitude_weight * amplitude-spectrum L1 + phase_weight * phase L1``

* ``standardize_loss`` (default): prediction and target of each channel are first divided
  by the target's standard deviation over the window (the targets are z-scored per window
  and channel), so every channel weighs the same, as in the Pearson r the model is judged
  by; otherwise they stay in the per-type scale of :mod:`neurodec.models.normalize`;
* L1: mean absolute error over time;
* ``exp(-r)``: r is the Pearson correlation over the window, per channel (1 when perfect);
* spectra: ``rfft`` (orthonormal) of prediction and target over the bins from the first
  non-zero frequency up to ``spectrum_max_hz``; the phase term is the absolute *wrapped*
  phase difference (in [0, pi]), so -pi and pi count as equal. With ``phase_weighting =
  "amplitude"`` (default) each bin's phase error is weighted by the target's amplitude in
  that bin (weights summing to 1 per channel): the phase of bins where the target has
  almost no power is noise the model cannot predict, and its gradient (1 / the predicted
  amplitude) is largest exactly there, so a plain mean over bins (``"uniform"``) lets
  those bins dominate training.

Every term is averaged over the valid (non-padding) channels of the batch, hidden
channels included: the model is asked to reconstruct all of them.
"""

from __future__ import annotations

import torch

from neurodec.models.config import TokenizerConfig

__all__ = ["pearson", "tokenizer_loss"]

#: Standard deviations below this (flat channels, in normalised units) are not divided by.
_MIN_STD = 1e-3


def pearson(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Pearson correlation over the last axis: (..., T) x (..., T) -> (...)."""
    p = pred - pred.mean(-1, keepdim=True)
    t = target - target.mean(-1, keepdim=True)
    return (p * t).sum(-1) / (p.pow(2).sum(-1) * t.pow(2).sum(-1) + eps).sqrt()


def _modulus(z: torch.Tensor) -> torch.Tensor:
    """|z| with a finite gradient at 0."""
    return (z.real.pow(2) + z.imag.pow(2) + 1e-12).sqrt()


def tokenizer_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    valid: torch.Tensor,
    commitment: torch.Tensor,
    config: TokenizerConfig,
) -> dict[str, torch.Tensor]:
    """The loss and its terms.

    Parameters
    ----------
    pred, target : Tensor, shape (B, C, T)
    valid : Tensor of bool, shape (B, C)
    commitment : Tensor (scalar)
    config : TokenizerConfig
        Weights, sampling rate and spectrum limit.

    Returns
    -------
    dict
        ``loss`` (to minimise), ``l1``, ``pearson`` (the ``exp(-r)`` term), ``r`` (mean r),
        ``commitment``, ``amplitude``, ``phase``.
    """
    pred, target = pred.float()[valid], target.float()[valid]  # (N, T): valid channels only
    if config.standardize_loss:
        sd = target.std(-1, keepdim=True).clamp(min=_MIN_STD)  # (N, 1), a constant of the target
        pred, target = pred / sd, target / sd
    l1 = (pred - target).abs().mean()
    r = pearson(pred, target)  # (N,)
    corr_term = torch.exp(-r).mean()

    n = pred.shape[-1]
    hi = int(config.spectrum_max_hz * n / config.sfreq)
    fp = torch.fft.rfft(pred, norm="ortho")[..., 1 : hi + 1]  # (N, n_bins)
    ft = torch.fft.rfft(target, norm="ortho")[..., 1 : hi + 1]
    amplitude = (_modulus(fp) - _modulus(ft)).abs().mean()
    cross = fp * ft.conj()
    defined = cross.abs().detach() > 1e-12  # the phase of 0 (a flat channel) has no gradient
    phase = torch.where(defined, torch.angle(torch.where(defined, cross, torch.ones_like(cross))), 0.0)
    if config.phase_weighting == "amplitude":
        weight = _modulus(ft).detach()  # (N, n_bins)
        phase = ((phase.abs() * weight).sum(-1) / weight.sum(-1).clamp(min=1e-12)).mean()
    else:
        phase = phase.abs().mean()

    loss = (
        l1
        + corr_term
        + config.commitment_weight * commitment
        + config.amplitude_weight * amplitude
        + config.phase_weight * phase
    )
    return {
        "loss": loss,
        "l1": l1.detach(),
        "pearson": corr_term.detach(),
        "r": r.mean().detach(),
        "commitment": commitment.detach(),
        "amplitude": amplitude.detach(),
        "phase": phase.detach(),
    }
