"""SpatialBasis: ridge least-squares sources of a learned spatial basis, visible channels only."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from neurodec.models.spatial_basis import SpatialBasis, ridge_coefficients  # noqa: E402


def _in_span(seed: int = 0):
    """Features (B, F, C, d) that lie exactly in the span of a basis (B, C, K) (C > K)."""
    g = torch.Generator().manual_seed(seed)
    basis = torch.randn(2, 12, 4, generator=g)  # (B, C, K)
    coef = torch.randn(2, 3, 4, 5, generator=g)  # (B, F, K, d)
    return basis, coef, torch.einsum("bck,bfkd->bfcd", basis, coef)


def test_ridge_coefficients_recover_features_in_the_span():
    basis, coef, h = _in_span()
    assert torch.allclose(ridge_coefficients(basis, h, 1e-8), coef, atol=1e-4)
    shrunk = ridge_coefficients(basis, h, 1.0)  # a large ridge shrinks them toward 0
    assert shrunk.norm() < 0.9 * coef.norm()


def test_hidden_channels_are_read_back_from_the_visible_ones():
    """Features in the span: 8 of 12 channels visible (>= K = 4) give the hidden 4 exactly,
    and what the hidden channels hold does not change the sources."""
    basis, coef, h = _in_span(1)
    module = SpatialBasis(d_model=6, n_sources=4, ridge=1e-8)
    visible = torch.ones(2, 12, dtype=torch.bool)
    visible[:, [0, 3, 7, 11]] = False
    sources = module.pool(h, basis, visible)
    assert torch.allclose(module.spread(sources, basis), h, atol=1e-3)
    corrupted = h.clone()
    corrupted[:, :, ~visible[0]] = 1e3
    assert torch.allclose(module.pool(corrupted, basis, visible), sources)


def test_fewer_channels_than_functions_stay_finite():
    """A 4-channel headset with 16 functions: the ridge keeps the solve defined."""
    g = torch.Generator().manual_seed(2)
    module = SpatialBasis(d_model=8, n_sources=16, ridge=1e-2)
    sensors = torch.randn(3, 4, 8, generator=g)
    basis = module(sensors)
    assert basis.shape == (3, 4, 16)
    h = torch.randn(3, 8, 4, 5, generator=g)
    sources = module.pool(h, basis, torch.ones(3, 4, dtype=torch.bool))
    assert sources.shape == (3, 8, 16, 5) and torch.isfinite(sources).all()
    # with a ridge, the fit explains (most of) the 4 channels
    residual = (module.spread(sources, basis) - h).norm() / h.norm()
    assert residual < 0.5


def test_gradients_flow_through_the_solve():
    module = SpatialBasis(d_model=8, n_sources=4, ridge=1e-2)
    sensors = torch.randn(2, 10, 8)
    h = torch.randn(2, 3, 10, 5, requires_grad=True)
    basis = module(sensors)
    out = module.spread(module.pool(h, basis, torch.ones(2, 10, dtype=torch.bool)), basis)
    out.square().sum().backward()
    assert h.grad is not None and all(p.grad is not None for p in module.parameters())
