"""Data-parallel training with ``torch.distributed`` as launched by ``torchrun``.

``torchrun --nproc_per_node=G -m muse_explore.cli.main train config.yaml`` (or the
``muse-explore`` script) starts G processes; each reads ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK`` from the environment. NCCL is used on GPUs, gloo on CPUs. Rank 0 logs and
writes checkpoints; every rank computes the same split and the same initial weights.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    """This process's place in the job (rank 0 of 1 outside ``torchrun``)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        """Whether this process logs and writes checkpoints."""
        return self.rank == 0

    launched: bool = False

    @property
    def distributed(self) -> bool:
        """Whether this process is in a process group (every ``torchrun`` launch, even of one)."""
        return self.launched


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> the local CUDA device when present, else the CPU."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        name = f"cuda:{local_rank}"
    if name.startswith("cuda") and not torch.cuda.is_available():
        from muse_explore.errors import MuSEConfigError

        raise MuSEConfigError(f"device {name!r} asked for, but CUDA is not available")
    try:
        return torch.device(name)
    except (RuntimeError, TypeError) as err:
        from muse_explore.errors import MuSEConfigError

        raise MuSEConfigError(
            f"device {name!r} is not a torch device (cpu, cuda, cuda:N, auto): {err}"
        ) from None


def init_distributed(device: str = "auto") -> DistInfo:
    """Join the process group when launched by ``torchrun``.

    A ``torchrun`` launch (``TORCHELASTIC_RUN_ID`` set, or ``WORLD_SIZE`` > 1) always joins,
    even with a single process, so that a one-GPU job runs the same DDP/NCCL path as a
    many-GPU one. A plain ``python``/``muse-explore`` process does not.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    dev = resolve_device(device, local_rank)
    if world <= 1 and "TORCHELASTIC_RUN_ID" not in os.environ:
        return DistInfo(device=dev)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), local_rank, dev, launched=True)


def all_reduce_sum(t: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Sum ``t`` over all processes (returns ``t`` itself when not distributed)."""
    if not info.distributed:
        return t
    t = t.to(info.device)
    dist.all_reduce(t)
    return t


def all_reduce_max(t: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Element-wise maximum of ``t`` over all processes (``t`` itself when not distributed)."""
    if not info.distributed:
        return t
    t = t.to(info.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t


def barrier(info: DistInfo) -> None:
    """Wait for every process (no-op when not distributed)."""
    if info.distributed:
        dist.barrier()


def cleanup(info: DistInfo) -> None:
    """Wait for every process at the end of a run.

    The process group is deliberately not destroyed: with gloo (torch 2.13, seen here)
    destroying it can deadlock, the main thread joining gloo's worker thread while holding
    the GIL and the worker waiting for the GIL to free a finished work item. The command
    line ends distributed processes with ``os._exit`` once everything is written
    (:func:`muse_explore.cli.train.run`).
    """
    if info.distributed and dist.is_initialized():
        dist.barrier()
