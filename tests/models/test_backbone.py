"""The masked-token backbone: shapes, what it sees, criss-cross symmetries, loss, FLOPs, configs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from neurodec.errors import ConfigError  # noqa: E402
from neurodec.models import FoundationModel, ModelConfig, TokenizerConfig  # noqa: E402
from neurodec.models.backbone import masked_token_loss, random_mask, training_flops  # noqa: E402

CFG = ModelConfig.from_size("test", codebook_size=32, n_levels=3, n_sources=5, frames_per_window=4)


def _codes(batch=2, windows=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, CFG.codebook_size, (batch, windows, CFG.frames_per_window, 5, 3), generator=g)


def _model(seed=0, **changes):
    torch.manual_seed(seed)
    return FoundationModel(ModelConfig.from_dict({**CFG.to_dict(), **changes})).eval()


def test_shapes_any_context_length_and_gradients():
    model = _model()
    codes = _codes(windows=3)
    logits = model(codes)
    assert logits.shape == (2, 12, 5, 3, 32)
    assert torch.equal(logits, model(codes.flatten(1, 2)))  # (B, W, F, S, L) == (B, T, S, L)
    assert model(_codes(windows=1)).shape[1] == 4  # rotary: no maximum length
    mask = random_mask((2, 12, 5), 0.5)
    model.train()
    masked_token_loss(model(codes, mask), codes.flatten(1, 2), mask)["loss"].backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    with pytest.raises(ValueError, match="codes must be"):
        model(codes[..., :2])


def test_masked_tokens_are_invisible_to_the_model():
    model = _model()
    codes = _codes().flatten(1, 2)
    mask = random_mask(codes.shape[:3], 0.5, torch.Generator().manual_seed(1))
    other = torch.where(mask[..., None], (codes + 7) % CFG.codebook_size, codes)
    assert torch.allclose(model(codes, mask), model(other, mask), atol=1e-6)
    assert not torch.allclose(model(codes), model(other), atol=1e-3)  # without the mask they are seen


def test_sources_are_a_set_and_frames_are_ordered():
    model = _model()
    codes = _codes().flatten(1, 2)
    perm = torch.tensor([3, 0, 4, 2, 1])
    out = model(codes)
    assert torch.allclose(model(codes[:, :, perm])[:, :, :], out[:, :, perm], atol=1e-5)
    with torch.no_grad():  # sharpen the temporal attention of the fresh model (near-uniform at init)
        for block in model.blocks:
            block.qkv_time.weight.mul_(30)
    out = model(codes)
    flipped = model(codes.flip(1)).flip(1)  # rotary positions: time reversal is not a symmetry
    assert not torch.allclose(flipped, out, atol=1e-2)


def test_rotary_scores_depend_on_the_offset_only():
    from neurodec.models.backbone import apply_rotary, rotary_angles

    cos, sin = rotary_angles(20, 8, 10000.0, torch.device("cpu"))
    q, k = torch.randn(8), torch.randn(8)
    qs = apply_rotary(q.expand(20, 8), cos, sin)
    ks = apply_rotary(k.expand(20, 8), cos, sin)
    assert torch.allclose(qs[5] @ ks[2], qs[15] @ ks[12], atol=1e-5)
    assert not torch.allclose(qs[5] @ ks[2], qs[5] @ ks[3], atol=1e-3)


def test_random_mask_masks_exactly_the_ratio_in_every_segment():
    mask = random_mask((4, 10, 6), 0.5, torch.Generator().manual_seed(0))
    assert mask.sum((1, 2)).tolist() == [30, 30, 30, 30]
    assert not torch.equal(mask[0], mask[1])
    again = random_mask((4, 10, 6), 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(mask, again)


def test_loss_counts_masked_positions_only():
    codes = _codes().flatten(1, 2)
    mask = random_mask(codes.shape[:3], 0.5, torch.Generator().manual_seed(2))
    logits = torch.randn(*codes.shape, CFG.codebook_size)
    loss = masked_token_loss(logits, codes, mask)
    changed = logits.clone()
    changed[~mask] = 100.0 * torch.randn_like(changed[~mask])  # unmasked predictions do not count
    assert torch.allclose(masked_token_loss(changed, codes, mask)["loss"], loss["loss"])
    want = torch.nn.functional.cross_entropy(logits[mask].reshape(-1, 32), codes[mask].reshape(-1))
    assert torch.allclose(loss["loss"], want, atol=1e-6)
    perfect = torch.nn.functional.one_hot(codes, CFG.codebook_size).float() * 50
    out = masked_token_loss(perfect, codes, mask)
    assert [float(out[f"acc_{i}"]) for i in range(3)] == [1.0, 1.0, 1.0] and float(out["loss"]) < 1e-6


def test_mask_mode_random_replaces_codes():
    from neurodec.models.backbone import mask_inputs

    cfg = ModelConfig.from_dict({**CFG.to_dict(), "mask_mode": "random"})
    codes = _codes().flatten(1, 2)
    mask = random_mask(codes.shape[:3], 0.5, torch.Generator().manual_seed(3))
    inputs, input_mask = mask_inputs(codes, mask, cfg, torch.Generator().manual_seed(5))
    assert input_mask is None and torch.equal(inputs[~mask], codes[~mask])
    assert (inputs[mask] != codes[mask]).float().mean() > 0.8  # 1/32 coincide by chance


def test_flops_count_matches_the_linear_layers():
    model = _model()
    flops = training_flops(model.config, n_frames=12)
    linear = sum(2 * m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    attention = model.config.n_layers * 2 * model.config.d_model * (12 + 5)
    assert flops["forward_per_token"] == linear + attention
    assert flops["train_per_segment"] == 3 * flops["forward_per_token"] * 12 * 5


def test_configs_sizes_and_tokenizer_grid():
    tiny, base = ModelConfig.from_size("tiny"), ModelConfig.from_size("base")
    assert (tiny.d_model, tiny.n_heads, tiny.n_layers) == (256, 8, 12)
    assert (base.d_model, base.n_heads, base.n_layers) == (512, 16, 12)
    assert tiny.context_frames == 120 and tiny.segment_stride == 11  # 30 s, 7.5 s overlap
    assert ModelConfig.from_dict(tiny.to_dict()) == tiny
    tok = TokenizerConfig.from_size("tiny")
    fitted = base.for_tokenizer(tok)
    assert (fitted.codebook_size, fitted.n_levels, fitted.n_sources) == (64, 2, 16)
    with pytest.raises(ConfigError, match="codebook_size: model 512, tokenizer 64"):
        base.check_tokenizer(tok)
    with pytest.raises(ConfigError, match="unknown backbone size 'huge'"):
        ModelConfig.from_size("huge")
    with pytest.raises(ConfigError, match="n_heads .* must be even"):
        ModelConfig.from_size("tiny", n_heads=3, d_model=255)
    with pytest.raises(ConfigError, match="mask_ratio"):
        ModelConfig.from_size("tiny", mask_ratio=1.0)
