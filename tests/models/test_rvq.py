"""ResidualVQ: k-means init, EMA updates, dead-code restart, residual levels, gradients."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from neurodec.models.rvq import ResidualVQ, VectorQuantizer, kmeans, perplexity  # noqa: E402


def _clusters(n_per: int = 50, seed: int = 0):
    """4 tight clusters in 2-D: centres (+-5, +-5)."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[5.0, 5.0], [-5.0, 5.0], [5.0, -5.0], [-5.0, -5.0]])
    x = centres.repeat_interleave(n_per, 0) + 0.1 * torch.randn(4 * n_per, 2, generator=g)
    return x, centres


def _sorted(rows: torch.Tensor) -> torch.Tensor:
    return rows[torch.argsort(rows[:, 0] * 100 + rows[:, 1])]


def test_kmeans_finds_the_clusters_and_reseeds_empty_ones():
    torch.manual_seed(0)
    x, centres = _clusters()
    found, counts = kmeans(x, 4, 20)
    torch.testing.assert_close(_sorted(found), _sorted(centres), atol=0.1, rtol=0)
    assert counts.tolist() == [50.0] * 4
    few, few_counts = kmeans(x[:3], 8, 5)  # fewer points than codes
    assert few.shape == (8, 2) and torch.isfinite(few).all() and few_counts.sum() == 3


def test_kmeans_init_on_first_training_batch_only():
    torch.manual_seed(0)
    x, centres = _clusters()
    vq = VectorQuantizer(2, 4, decay=0.99, kmeans_iters=20, dead_patience=100, buffer_size=64)
    vq.eval()
    vq(x)
    assert not bool(vq.initialized)  # evaluation never initialises
    vq.train()
    _, codes = vq(x)
    assert bool(vq.initialized)
    torch.testing.assert_close(_sorted(vq.codebook), _sorted(centres), atol=0.1, rtol=0)
    assert torch.unique(codes).numel() == 4
    before = vq.codebook.clone()
    _, codes = vq(x + 100.0)  # a second batch far away: no new k-means, EMA moves one code part-way
    hit = int(codes[0])
    assert (codes == hit).all()
    others = torch.arange(4) != hit
    torch.testing.assert_close(vq.codebook[others], before[others])
    # EMA, decay 0.99: (0.99 * 50 * code + 0.01 * sum of the 200 new vectors) / (0.99 * 50 + 0.01 * 200)
    expected = (0.99 * 50 * before[hit] + 0.01 * (x + 100.0).sum(0)) / (0.99 * 50 + 0.01 * 200)
    torch.testing.assert_close(vq.codebook[hit], expected, atol=0.05, rtol=0)


def test_ema_update_moves_a_code_towards_its_vectors():
    vq = VectorQuantizer(2, 2, decay=0.5, kmeans_iters=0, dead_patience=100, buffer_size=8)
    vq.train()
    vq.initialized.fill_(True)
    vq.codebook.copy_(torch.tensor([[0.0, 0.0], [10.0, 10.0]]))
    vq.cluster_size.fill_(1.0)
    vq.embed_sum.copy_(vq.codebook)
    x = torch.tensor([[2.0, 0.0], [2.0, 0.0]])
    _, codes = vq(x)
    assert codes.tolist() == [0, 0]
    # EMA: size 0.5 * 1 + 0.5 * 2 = 1.5, sum 0.5 * 0 + 0.5 * 4 = 2 -> code ~ 2 / 1.5
    assert float(vq.codebook[0, 0]) == pytest.approx(2.0 / 1.5, rel=1e-3)
    assert vq.codebook[1].tolist() == pytest.approx([10.0, 10.0], rel=1e-3)


def test_dead_codes_restart_on_recent_vectors():
    torch.manual_seed(0)
    vq = VectorQuantizer(2, 4, decay=0.99, kmeans_iters=5, dead_patience=3, buffer_size=16)
    vq.train()
    x, _ = _clusters(n_per=10)
    vq(x)  # k-means: 4 codes on 4 clusters
    only = x[:10]  # then only cluster 0 for a while: the other 3 codes go unused
    vq(only)
    vq(only)
    assert int(vq.restarts) == 0 and vq.unused_steps.tolist().count(2) == 3
    vq(only)  # third unused batch: restarted onto recent inputs (the buffer holds only cluster 0 now)
    assert int(vq.restarts) == 3 and int(vq.dead_codes().sum()) == 0
    near_cluster0 = torch.cdist(vq.codebook, only).min(1).values < 1e-6
    assert int(near_cluster0.sum()) == 3  # the 3 restarted codes are copies of recent vectors
    assert (vq.unused_steps == 0).all()


def test_residual_levels_reduce_error_and_decode_matches():
    torch.manual_seed(0)
    x = torch.randn(512, 8)
    rvq = ResidualVQ(8, 32, n_levels=3, kmeans_iters=10)
    rvq.train()
    out = rvq(x)
    assert out.codes.shape == (512, 3)
    rvq.eval()
    errors = []
    for n in (1, 2, 3):
        approx = sum(rvq.levels[i].codebook[out.codes[:, i]] for i in range(n))
        errors.append(float((x - approx).pow(2).mean()))
    assert errors[0] > errors[1] > errors[2]
    codes = rvq.encode(x)
    torch.testing.assert_close(rvq.decode(codes), rvq(x).quantized)
    assert 1.0 <= float(perplexity(codes[:, 0], 32)) <= 32.0


def test_straight_through_gradient_and_commitment():
    torch.manual_seed(0)
    rvq = ResidualVQ(4, 16, n_levels=2)
    rvq.train()
    x = torch.randn(3, 10, 4, requires_grad=True)
    out = rvq(x)
    assert out.quantized.shape == (3, 10, 4) and out.codes.shape == (3, 10, 2)
    (out.quantized * torch.arange(4.0)).sum().backward()
    torch.testing.assert_close(x.grad, torch.arange(4.0).expand(3, 10, 4))  # identity through the codes
    x.grad = None
    rvq(x).commitment.backward()
    assert float(x.grad.abs().sum()) > 0


def test_perplexity_bounds():
    assert float(perplexity(torch.zeros(100, dtype=torch.long), 8)) == pytest.approx(1.0)
    assert float(perplexity(torch.arange(8).repeat(10), 8)) == pytest.approx(8.0)


def test_under_torch_distributed_the_codebook_statistics_are_reduced(tmp_path):
    """One-process gloo group: the all_reduce / broadcast paths run and give the local result."""
    import torch.distributed as dist

    torch.manual_seed(0)
    x, _ = _clusters(n_per=20)
    local = VectorQuantizer(2, 4, decay=0.9, kmeans_iters=5, dead_patience=2, buffer_size=32).train()
    local(x)
    local(x[:20])
    local(x[:20])
    torch.manual_seed(0)
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        shared = VectorQuantizer(2, 4, decay=0.9, kmeans_iters=5, dead_patience=2, buffer_size=32).train()
        shared(x)
        shared(x[:20])
        shared(x[:20])
    finally:
        dist.destroy_process_group()
    assert int(shared.restarts) == int(local.restarts) > 0
    torch.testing.assert_close(shared.codebook, local.codebook)
