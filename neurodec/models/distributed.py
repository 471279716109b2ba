"""Data-parallel training across processes (``torchrun``), one place for the process group.

``torchrun --nproc-per-node N -m neurodec pretrain --config FILE`` (or ``--nnodes``,
``--rdzv-endpoint`` for several machines) sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR`` and ``MASTER_PORT``; :func:`process_group` then joins the group (NCCL on
CUDA, gloo on CPU), puts each process on its own GPU, and leaves the group at the end.
Without those variables training runs in one process, unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["DistInfo", "process_group", "all_mean", "barrier"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the group."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """The process that writes checkpoints, metrics and progress."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


@contextlib.contextmanager
def process_group(device: torch.device) -> Iterator[tuple[DistInfo, torch.device]]:
    """Join the process group that ``torchrun`` describes (if any); yields ``(info, device)``.

    A group already initialised by the caller is used as is (and not destroyed here).
    On CUDA each process takes GPU ``LOCAL_RANK``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    created = False
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
        created = True
    if dist.is_initialized():
        info = DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    else:
        info = DistInfo()
    if device.type == "cuda" and info.distributed:
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    if info.distributed:
        logger.info("rank %d of %d on %s", info.rank, info.world_size, device)
    try:
        yield info, device
    finally:
        if created:
            dist.destroy_process_group()


def all_mean(values: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Mean of ``values`` over the processes (``values`` itself in one process)."""
    if not info.distributed:
        return values
    out = values.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / info.world_size


def barrier(info: DistInfo) -> None:
    """Wait for every process (no-op in one process)."""
    if info.distributed:
        dist.barrier()
