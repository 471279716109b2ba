"""Per-window normalisation from visible channels, and the loss terms."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from neurodec.errors import ConfigError  # noqa: E402
from neurodec.models import TokenizerConfig, tokenizer_loss  # noqa: E402
from neurodec.models.normalize import denormalize, normalize  # noqa: E402


def _mixed(seed=0):
    g = torch.Generator().manual_seed(seed)
    types = torch.tensor([[0, 0, 0, 0, 1, 1, 2, 2]])  # 4 EEG (volts), 2 mag (T), 2 grad (T/m)
    scale = torch.tensor([1e-5] * 4 + [1e-13] * 2 + [1e-11] * 2)
    x = (
        torch.randn(1, 8, 64, generator=g, dtype=torch.float64).float() * scale[None, :, None]
        + 3e-6 * (types == 0)[..., None]
    )
    return x, types


def test_normalize_scales_each_type_and_round_trips():
    x, types = _mixed()
    valid = torch.ones(1, 8, dtype=torch.bool)
    xn, stats = normalize(x, types, valid, valid)
    for t in (0, 1, 2):
        rows = xn[types == t]
        assert float(rows.pow(2).mean()) == pytest.approx(1.0, rel=1e-4)
    assert float(xn[0, :4].mean(0).abs().max()) < 1e-5  # EEG: common average removed
    back = denormalize(xn, types, valid, stats)
    for t, unit in ((0, 1e-5), (1, 1e-13), (2, 1e-11)):
        rows = types[0] == t
        torch.testing.assert_close(back[0, rows], x[0, rows], rtol=0, atol=unit * 1e-4)


def test_hidden_channels_do_not_change_the_visible_ones():
    x, types = _mixed()
    valid = torch.ones(1, 8, dtype=torch.bool)
    visible = valid.clone()
    visible[0, [1, 5]] = False
    a, _ = normalize(x, types, valid, visible)
    x2 = x.clone()
    x2[0, [1, 5]] *= 1000
    b, _ = normalize(x2, types, valid, visible)
    torch.testing.assert_close(a[visible], b[visible])
    assert not torch.allclose(a[~visible], b[~visible])


def test_padding_is_zero_and_a_type_without_visible_channel_keeps_scale_one():
    x, types = _mixed()
    valid = torch.ones(1, 8, dtype=torch.bool)
    valid[0, 7] = False
    visible = valid.clone()
    visible[0, 6] = False  # the only valid gradiometer is hidden
    xn, stats = normalize(x, types, valid, visible)
    assert float(xn[0, 7].abs().max()) == 0.0
    assert float(stats.scale[0, 2]) == 1.0
    assert torch.isfinite(xn).all()


def test_loss_terms_on_perfect_and_bad_predictions():
    cfg = TokenizerConfig.from_size("tiny")
    t = torch.arange(512) / 256.0
    target = torch.stack([torch.sin(2 * math.pi * f * t) for f in (5.0, 11.0, 23.0)])[None]  # (1, 3, 512)
    valid = torch.ones(1, 3, dtype=torch.bool)
    zero = torch.zeros(())
    perfect = tokenizer_loss(target, target, valid, zero, cfg)
    assert float(perfect["l1"]) == 0 and float(perfect["r"]) == pytest.approx(1.0)
    assert float(perfect["pearson"]) == pytest.approx(math.exp(-1.0))
    assert float(perfect["amplitude"]) == pytest.approx(0, abs=1e-5)
    assert float(perfect["phase"]) == pytest.approx(0, abs=1e-5)
    inverted = tokenizer_loss(-target, target, valid, zero, cfg)
    assert float(inverted["r"]) == pytest.approx(-1.0)
    assert float(inverted["amplitude"]) == pytest.approx(0, abs=1e-5)  # same spectrum amplitude ...
    assert float(inverted["phase"]) > 0.5  # ... opposite phase where the signal is
    total = 1.0 * inverted["l1"] + inverted["pearson"] + 0.5 * inverted["phase"] + inverted["amplitude"]
    assert float(inverted["loss"]) == pytest.approx(float(total), rel=1e-5)


def test_padding_channels_do_not_enter_the_loss_nor_make_nan_gradients():
    cfg = TokenizerConfig.from_size("tiny")
    g = torch.Generator().manual_seed(0)
    target = torch.randn(2, 5, 512, generator=g)
    pred = torch.randn(2, 5, 512, generator=g)
    valid = torch.ones(2, 5, dtype=torch.bool)
    valid[1, 3:] = False
    target[1, 3:] = 0.0  # padding
    ref = tokenizer_loss(pred, target, valid, torch.zeros(()), cfg)
    pred2 = pred.clone()
    pred2[1, 3:] = 0.0  # zero prediction on zero target: angle(0) has an undefined gradient
    pred2.requires_grad_(True)
    out = tokenizer_loss(pred2, target, valid, torch.zeros(()), cfg)
    assert float(out["loss"].detach()) == pytest.approx(float(ref["loss"]), rel=1e-6)
    out["loss"].backward()
    assert torch.isfinite(pred2.grad).all()
    assert float(pred2.grad[1, 3:].abs().max()) == 0.0


def test_amplitude_weighted_phase_ignores_bins_without_target_power():
    t = torch.arange(512) / 256.0
    target = torch.sin(2 * math.pi * 10.0 * t)[None, None]  # (1, 1, 512): power in one bin
    g = torch.Generator().manual_seed(0)
    pred = target + 1e-3 * torch.randn(1, 1, 512, generator=g)  # right where it matters, noise elsewhere
    valid = torch.ones(1, 1, dtype=torch.bool)
    zero = torch.zeros(())
    weighted = tokenizer_loss(pred, target, valid, zero, TokenizerConfig.from_size("tiny"))
    uniform = tokenizer_loss(
        pred, target, valid, zero, TokenizerConfig.from_size("tiny", phase_weighting="uniform")
    )
    assert float(weighted["phase"]) < 0.01
    assert float(uniform["phase"]) > 1.0  # random phases in the empty bins: pi / 2 on average


def test_standardized_loss_weighs_every_channel_alike():
    g = torch.Generator().manual_seed(0)
    target = torch.randn(1, 2, 512, generator=g)
    pred = target + 0.5 * torch.randn(1, 2, 512, generator=g)
    valid = torch.ones(1, 2, dtype=torch.bool)
    gain = torch.tensor([1.0, 20.0])[None, :, None]  # the second channel 20 times larger
    zero = torch.zeros(())
    for standardize, same in ((True, True), (False, False)):
        cfg = TokenizerConfig.from_size("tiny", standardize_loss=standardize)
        a = tokenizer_loss(pred, target, valid, zero, cfg)
        b = tokenizer_loss(pred * gain, target * gain, valid, zero, cfg)
        for term in ("l1", "amplitude"):
            assert (float(a[term]) == pytest.approx(float(b[term]), rel=1e-4)) is same
        assert float(a["r"]) == pytest.approx(float(b["r"]), rel=1e-5)


def test_config_rejects_an_unknown_phase_weighting():
    with pytest.raises(ConfigError, match="phase_weighting"):
        TokenizerConfig.from_size("tiny", phase_weighting="loud")
