"""BrainTokenizer on CPU, tiny config: shapes on every montage, padding, gradients,
channel-permutation invariance, no leak from hidden channels, codebook use, determinism."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from neurodec.errors import ConfigError  # noqa: E402
from neurodec.models import BrainTokenizer, TokenizerConfig, random_visible, tokenizer_loss  # noqa: E402
from neurodec.models.rvq import perplexity  # noqa: E402
from tests.models._montages import MONTAGES, montage_batch  # noqa: E402


def _model(seed: int = 0, **overrides) -> BrainTokenizer:
    torch.manual_seed(seed)
    return BrainTokenizer(TokenizerConfig.from_size("tiny", **overrides))


@pytest.mark.parametrize("montage", MONTAGES)
def test_shapes_on_every_montage(montage):
    model = _model()
    cfg = model.config
    x, feats, types = montage_batch(montage, batch=2)
    out = model(x, feats, types)
    assert out.reconstruction.shape == x.shape == out.target.shape
    assert out.codes.shape == (2, 8, 16, cfg.n_levels)  # 2-s window: 8 frames x 16 sources
    assert out.codes.dtype == torch.int64 and 0 <= int(out.codes.min()) and int(out.codes.max()) < 64
    model.eval()
    tokens = model.tokenize(x, feats, types)
    assert tokens.shape == (2, 8, 16, cfg.n_levels)
    assert model.decode_tokens(tokens, feats, types).shape == x.shape


def test_config_sizes_and_errors():
    assert TokenizerConfig.from_size("base").codebook_size == 512
    assert TokenizerConfig.from_size("base").n_levels == 4
    cfg = TokenizerConfig.from_size("tiny")
    assert (cfg.hop, cfg.n_frames, cfg.window_s) == (64, 8, 2.0)
    assert TokenizerConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown tokenizer size"):
        TokenizerConfig.from_size("huge")
    with pytest.raises(ConfigError, match="unknown field"):
        TokenizerConfig.from_dict({"d_modle": 3})
    with pytest.raises(ConfigError, match="multiple of hop"):
        TokenizerConfig(window_samples=500)
    assert TokenizerConfig.from_size("tiny", n_levels=3).differences(cfg) == {"n_levels": (3, 2)}
    with pytest.raises(ConfigError, match="frame_encoder must be one of"):
        TokenizerConfig(frame_encoder="fft")
    with pytest.raises(ConfigError, match="spatial_mixing must be one of"):
        TokenizerConfig(spatial_mixing="pca")
    with pytest.raises(ConfigError, match="basis_ridge must be > 0"):
        TokenizerConfig(basis_ridge=0)


@pytest.mark.parametrize(
    ("frame_encoder", "spatial_mixing"), [("conv", "attention"), ("linear", "attention"), ("conv", "basis")]
)
def test_the_first_design_and_mixed_variants_still_run(frame_encoder, spatial_mixing):
    """Checkpoints of the first design (conv + attention) stay usable; every combination runs."""
    model = _model(frame_encoder=frame_encoder, spatial_mixing=spatial_mixing)
    assert hasattr(model, "spatial_basis") == (spatial_mixing == "basis")
    x, feats, types = montage_batch("eeg32", batch=2)
    out = model(x, feats, types)
    assert out.reconstruction.shape == x.shape and out.codes.shape == (2, 8, 16, 2)
    perm = torch.randperm(x.shape[1], generator=torch.Generator().manual_seed(0))
    assert torch.equal(
        model.tokenize(x[:, perm], feats[:, perm], types[:, perm]), model.tokenize(x, feats, types)
    )


def test_padding_channels_change_nothing():
    """A window padded with garbage channels (valid=False) gives the tokens and
    reconstruction it gives alone."""
    model = _model().eval()
    x, feats, types = montage_batch("eeg32", batch=1)
    ref = model(x, feats, types)
    pad = 9
    xp = torch.cat([x, 100 * torch.randn(1, pad, 512)], 1)
    fp = torch.cat([feats, torch.randn(1, pad, 6)], 1)
    tp = torch.cat([types, torch.full((1, pad), 2)], 1)
    valid = torch.ones(1, 32 + pad, dtype=torch.bool)
    valid[:, 32:] = False
    out = model(xp, fp, tp, valid=valid)
    assert torch.equal(out.codes, ref.codes)
    torch.testing.assert_close(out.reconstruction[:, :32], ref.reconstruction, atol=1e-5, rtol=1e-4)
    assert float(out.reconstruction[:, 32:].detach().abs().max()) == 0.0


def test_gradients_reach_every_parameter():
    model = _model()
    x, feats, types = montage_batch("eeg+meg", batch=3)
    valid = torch.ones(x.shape[:2], dtype=torch.bool)
    visible = random_visible(valid, 0.25, torch.Generator().manual_seed(0))
    out = model(x, feats, types, valid, visible, noise=0.1 * torch.randn_like(x))
    loss = tokenizer_loss(out.reconstruction, out.target, valid, out.commitment, model.config)
    loss["loss"].backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert float(param.grad.abs().sum()) > 0, name


@pytest.mark.parametrize("montage", ["eeg64", "meg", "seeg"])
def test_tokens_invariant_to_channel_order(montage):
    model = _model(seed=1)
    x, feats, types = montage_batch(montage, batch=4, seed=2)
    model.train()
    model(x, feats, types)  # k-means init of the codebooks on this data
    model.eval()
    tokens = model.tokenize(x, feats, types)
    perm = torch.randperm(x.shape[1], generator=torch.Generator().manual_seed(3))
    permuted = model.tokenize(x[:, perm], feats[:, perm], types[:, perm])
    assert torch.equal(tokens, permuted)
    rec = model(x, feats, types).reconstruction
    rec_p = model(x[:, perm], feats[:, perm], types[:, perm]).reconstruction
    torch.testing.assert_close(rec_p, rec[:, perm], atol=1e-5, rtol=1e-4)
    # ... and it is the sensor, not the position in the batch, that matters:
    shuffled_rows = model.tokenize(x, feats[:, perm], types[:, perm])
    assert not torch.equal(tokens, shuffled_rows)


def test_hidden_channels_do_not_reach_the_encoder():
    model = _model().eval()
    x, feats, types = montage_batch("eeg64", batch=2)
    valid = torch.ones(x.shape[:2], dtype=torch.bool)
    visible = random_visible(valid, 0.5, torch.Generator().manual_seed(0))
    assert (~visible).sum(1).tolist() == [32, 32]
    x2 = torch.where(visible[..., None], x, 50 * torch.randn_like(x))  # change only hidden channels
    a = model(x, feats, types, valid, visible)
    b = model(x2, feats, types, valid, visible)
    assert torch.equal(a.codes, b.codes)
    torch.testing.assert_close(a.reconstruction, b.reconstruction)
    assert not torch.allclose(a.target[~visible], b.target[~visible])  # targets do differ


def test_random_visible_hides_a_quarter_of_valid_channels():
    valid = torch.ones(3, 40, dtype=torch.bool)
    valid[1, 20:] = False
    valid[2, 1:] = False
    visible = random_visible(valid, 0.25, torch.Generator().manual_seed(0))
    assert (valid & ~visible).sum(1).tolist() == [10, 5, 0]
    assert not (visible & ~valid).any()


def _train(model, steps, batches, lr=1e-3, warmup=0):
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(0)
    model.train()
    history = []
    for step in range(steps):
        x, feats, types = batches[step % len(batches)]
        valid = torch.ones(x.shape[:2], dtype=torch.bool)
        visible = random_visible(valid, 0.25, gen)
        noise = 0.1 * torch.randn(x.shape, generator=gen)
        out = model(x, feats, types, valid, visible, noise, quantize=step >= warmup)
        loss = tokenizer_loss(out.reconstruction, out.target, valid, out.commitment, model.config)
        opt.zero_grad()
        loss["loss"].backward()
        opt.step()
        history.append((float(loss["loss"].detach()), out.codes))
    return history


def _usage(model, history):
    codes = torch.cat([c.reshape(-1, model.config.n_levels) for _, c in history[-4:]])
    size = model.config.codebook_size
    return [
        (torch.unique(codes[:, level]).numel(), float(perplexity(codes[:, level], size)))
        for level in range(model.config.n_levels)
    ]


def test_training_uses_the_codebooks_without_collapse():
    """Modalities alternate between batches. Trained as pretrain() does (quantiser warm-up),
    both levels keep using most codes (measured: 64 and 64 of 64, perplexity 45 and 57).
    With the attention pooling and convolutions of the first design (``spatial_mixing=
    "attention"``, ``frame_encoder="conv"``) and no warm-up, level 0 fell to 11 codes,
    perplexity 3.3: its latents were nearly 3-dimensional. Dead-code restart: test_rvq.py."""
    model = _model(seed=0)
    batches = [montage_batch(m, batch=4, seed=i) for i, m in enumerate(["eeg32", "seeg", "eeg64", "meg"])]
    history = _train(model, 20, batches, lr=1e-3, warmup=4)
    assert history[-1][0] < history[0][0]
    for level, (used, ppl) in enumerate(_usage(model, history)):
        assert used >= 48 and ppl >= 24, (level, used, ppl)  # of 64 codes


def test_training_is_deterministic_with_a_seed():
    batches = [montage_batch("eeg32", batch=2, seed=0)]
    a, b, c = _model(seed=5), _model(seed=5), _model(seed=6)
    for m in (a, b):
        torch.manual_seed(11)
        _train(m, 3, batches)
    torch.manual_seed(11)
    _train(c, 3, batches)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_without_quantisation_the_codebooks_are_untouched():
    model = _model().train()
    x, feats, types = montage_batch("eeg32", batch=2)
    out = model(x, feats, types, quantize=False)
    assert (out.codes == -1).all() and float(out.commitment) == 0.0
    assert not any(bool(level.initialized) for level in model.quantizer.levels)
    out.reconstruction.sum().backward()
    assert model.to_code[1].weight.grad is not None  # the latents still reach the decoder
    model(x, feats, types)
    assert all(bool(level.initialized) for level in model.quantizer.levels)


def test_wrong_input_shapes_are_explained():
    model = _model()
    x, feats, types = montage_batch("eeg4", batch=1)
    with pytest.raises(ValueError, match="512 samples"):
        model(x[..., :256], feats, types)
    with pytest.raises(ValueError, match=r"\(B, C, 6\)"):
        model(x, feats[..., :3], types)
    with pytest.raises(ValueError, match="at least one visible"):
        model(x, feats, types, visible=torch.zeros(1, 4, dtype=torch.bool))
