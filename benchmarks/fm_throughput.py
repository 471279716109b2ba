"""Backbone training throughput: tokens/s, segments (30-s windows) /s, peak memory, MFU.

Forward + backward + AdamW step of :class:`neurodec.models.FoundationModel` on random
token grids of full 30-s segments (15 windows x 8 frames x 16 sources x 4 levels, 50 %
masked), sizes ``tiny`` and ``base``. The device is detected: CPU runs in fp32; CUDA in
bf16 autocast, with model FLOPs utilisation = analytic training FLOPs
(:func:`neurodec.models.backbone.training_flops`) per second / the GPU's dense bf16 peak
(:data:`PEAK_BF16_TFLOPS`, by device name).

    python benchmarks/fm_throughput.py                     # -> benchmarks/results/fm_throughput.md
    python benchmarks/fm_throughput.py --sizes tiny --batch 2 --steps 3 --out /tmp/x.md
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import resource
import time
from pathlib import Path

import torch

from neurodec import __version__
from neurodec.models import FoundationModel, ModelConfig
from neurodec.models.backbone import masked_token_loss, random_mask, training_flops

#: Dense bf16 peak (TFLOP/s, without sparsity) by a substring of ``torch.cuda.get_device_name()``.
PEAK_BF16_TFLOPS = {
    "H200": 989.0,
    "H100": 989.0,
    "A100": 312.0,
    "L40S": 362.0,
    "A10G": 125.0,
    "L4": 121.0,
    "RTX 4090": 165.0,
    "RTX 3090": 71.0,
}


def peak_tflops(name: str) -> float | None:
    for key, value in PEAK_BF16_TFLOPS.items():
        if key in name:
            return value
    return None


def _peak_memory_mib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process peak RSS (Linux: KiB)


def measure(size: str, batch: int, steps: int, warmup: int, device: torch.device) -> dict:
    torch.manual_seed(0)
    cfg = ModelConfig.from_size(size)
    model = FoundationModel(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    T, S, L = cfg.context_frames, cfg.n_sources, cfg.n_levels
    codes = torch.randint(0, cfg.codebook_size, (batch, T, S, L), device=device)
    mask = random_mask((batch, T, S), cfg.mask_ratio).to(device)
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def step() -> None:
        with autocast:
            loss = masked_token_loss(model(codes, mask), codes, mask)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = (time.perf_counter() - t0) / steps
    flops = training_flops(cfg)
    achieved = flops["train_per_segment"] * batch / seconds
    row = {
        "size": size,
        "parameters": model.n_parameters(),
        "batch": batch,
        "s_per_step": seconds,
        "segments_per_s": batch / seconds,
        "windows_per_s": batch * cfg.context_windows / seconds,
        "tokens_per_s": batch * T * S / seconds,
        "tflop_per_step": flops["train_per_segment"] * batch / 1e12,
        "achieved_tflops": achieved / 1e12,
        "peak_memory_mib": _peak_memory_mib(device),
        "mfu": None,
    }
    if device.type == "cuda":
        peak = peak_tflops(torch.cuda.get_device_name(device))
        row["mfu"] = achieved / (peak * 1e12) if peak else None
    return row


def measure_fresh(size: str, batch: int, steps: int, warmup: int, device: str, threads: int | None) -> dict:
    """:func:`measure` in a new process (so the peak memory is that size's alone)."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(_child, (size, batch, steps, warmup, device, threads))


def _child(size: str, batch: int, steps: int, warmup: int, device: str, threads: int | None) -> dict:
    if threads:
        torch.set_num_threads(threads)
    return measure(size, batch, steps, warmup, torch.device(device))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", nargs="+", default=["tiny", "base"])
    parser.add_argument("--batch", type=int, default=None, help="segments per step (default: 2 CPU, 32 CUDA)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default: 3 CPU, 20 CUDA)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "fm_throughput.md")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(args.device)
    cuda = device.type == "cuda"
    batch = args.batch or (32 if cuda else 2)
    steps = args.steps or (20 if cuda else 3)
    rows = [measure_fresh(size, batch, steps, args.warmup, str(device), args.threads) for size in args.sizes]
    name = torch.cuda.get_device_name(device) if cuda else f"CPU ({platform.machine()})"
    precision = "bf16 autocast" if cuda else "fp32"
    lines = [
        "# Foundation backbone: training throughput",
        "",
        f"Command: `python benchmarks/fm_throughput.py {' '.join(a for a in __import__('sys').argv[1:])}`".rstrip(),
        "",
        f"Device: {name}, {precision}, torch {torch.__version__}, {torch.get_num_threads()} CPU thread(s), "
        f"neurodec {__version__}, Python {platform.python_version()}.",
        "",
        "One step = forward + backward + AdamW on full 30-s segments (15 windows x 8 frames x 16 sources "
        "x 4 RVQ levels of 512 codes = 1,920 positions, 50 % masked). FLOPs counted analytically "
        "(attention and MLP matmuls and the head, x 3 for forward + backward; "
        "`neurodec.models.backbone.training_flops`)"
        + ("; MFU against the GPU's dense bf16 peak." if cuda else "; MFU is reported on CUDA only."),
        "",
        "| size | parameters | batch | s/step | segments/s | windows/s | tokens/s | TFLOP/step "
        "| achieved TFLOP/s | MFU | peak memory (MiB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        mfu = f"{100 * r['mfu']:.1f} %" if r["mfu"] is not None else "–"
        lines.append(
            f"| {r['size']} | {r['parameters']:,} | {r['batch']} | {r['s_per_step']:.2f} | "
            f"{r['segments_per_s']:.2f} | {r['windows_per_s']:.1f} | {r['tokens_per_s']:,.0f} | "
            f"{r['tflop_per_step']:.3f} | {r['achieved_tflops']:.3f} | {mfu} | {r['peak_memory_mib']:.0f} |"
        )
    memory = (
        "torch.cuda.max_memory_allocated"
        if cuda
        else "peak RSS of a fresh process per size (of which ~1 GiB is Python, torch, MNE and neurodec: the 0.16 M-parameter `test` size peaks at 0.98 GiB)"
    )
    lines += ["", f"Peak memory: {memory}."]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
