"""Refuse, with an estimate, an evaluation that cannot fit in memory.

Energy + forces keep the autograd graph of every message-passing block: memory grows with
the number of edges times the channels (about 0.6 MB per atom for PaiNN at 64 channels, so a
200,000-atom structure needs over 100 GB). Without a check such a run is killed by the
operating system (in Jupyter the kernel dies) after minutes of swapping. Before a CPU
evaluation, :func:`check_memory` compares an estimate with the memory available and raises
``MemoryError`` with both numbers when the estimate does not fit.

The estimate is ``Σ_levels edges × Backbone.edge_bytes(itemsize)`` on the atom level, plus a
tenth per coarse level (coarse graphs are far smaller), doubled for Hessians (the
derivative's own graph is kept). ``benchmarks/memory.py`` prints it against the measured
peak. Available is ``MemAvailable`` of ``/proc/meminfo`` plus this process's resident set
(memory the process already holds is reused). Set ``MUSE_EXPLORE_MEMORY_CHECK=0`` to skip the
check. GPU memory is not checked here: CUDA reports its own out-of-memory errors.
"""

from __future__ import annotations

import os

#: Extra fraction of the atom-level estimate per coarse level.
COARSE_FRACTION = 0.1


def estimate_bytes(model, num_edges: int, *, itemsize: int, hessian: bool = False) -> float:
    """Estimated peak memory of one energy + forces evaluation, bytes.

    ``model`` may be wrapped (``DistributedDataParallel``: its ``module`` is used).
    """
    model = getattr(model, "module", model)
    atom = num_edges * model.backbones[0].edge_bytes(itemsize)
    total = atom * (1.0 + COARSE_FRACTION * model.levels)
    return total * (2.0 if hessian else 1.0)


def available_bytes() -> float | None:
    """Memory this process can still use, bytes (``None`` where it cannot be read)."""
    try:
        with open("/proc/meminfo") as fh:
            info = {line.split(":")[0]: line.split()[1] for line in fh}
        free = float(info["MemAvailable"]) * 1024
        with open("/proc/self/statm") as fh:
            resident = float(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, KeyError, ValueError, IndexError):
        return None
    return free + resident


def _gb(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def check_memory(model, batch, *, hessian: bool = False) -> None:
    """Raise ``MemoryError`` when evaluating ``batch`` would not fit in memory (CPU only).

    The message gives the atoms, edges, the estimate and what is available, and what to do.
    """
    if os.environ.get("MUSE_EXPLORE_MEMORY_CHECK", "1") == "0":
        return
    if batch.pos.device.type != "cpu":
        return
    model = getattr(model, "module", model)  # DistributedDataParallel
    need = estimate_bytes(
        model, int(batch.edge_index.shape[1]), itemsize=batch.pos.element_size(), hessian=hessian
    )
    have = available_bytes()
    if have is None or need <= have:
        return
    what = "a Hessian" if hessian else "energy and forces"
    options = "float32, " if batch.pos.element_size() == 8 else ""
    raise MemoryError(
        f"{what} of {batch.pos.shape[0]:,} atoms ({batch.edge_index.shape[1]:,} edges) with "
        f"this {model.config.backbone} model ({model.backbones[0].scalar_dim} channels, "
        f"{model.levels} coarse level(s), {str(batch.pos.dtype).removeprefix('torch.')}) "
        f"needs about {_gb(need)}; {_gb(have)} is available. Split the structure, use "
        f"{options}a smaller model or a GPU with more memory (MUSE_EXPLORE_MEMORY_CHECK=0 "
        "skips this check)."
    )


__all__ = ["available_bytes", "check_memory", "estimate_bytes"]
