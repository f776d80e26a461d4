"""Refuse, with an estimate, an evaluation that cannot fit in memory.

Energy + forces keep the autograd graph of every message-passing block: memory grows with
the number of edges times the channels (about 0.6 MB per atom for PaiNN at 64 channels, so a
200,000-atom structure needs over 100 GB). Without a check such a run is killed by the
operating system (in Jupyter the kernel dies) after minutes of swapping. Before a CPU
evaluation, :func:`check_memory` compares an estimate with the memory available and raises
``MemoryError`` with both numbers when the estimate does not fit.

The estimate is ``Σ_levels edges × Backbone.edge_bytes(itemsize)``, doubled for Hessians (the
derivative's own graph is kept). The atom level's edges are the batch's; a coarse level's are
counted before the forward pass (:func:`coarse_edges`): its seeds' pairs within the level's
cutoff plus its assignment's pairs. They are usually a small fraction, but not always: in a
periodic graphene sheet every atom is a seed (docs/method.md), so a 20 Å level has about 20
times the atom level's edges and MuSE needs several times its backbone's memory. Without
periodic images every pair of nodes bounds the count, and where that bound fits (a molecule,
a training batch) nothing is counted. The count
is remembered for the next evaluation of the same structure (same atoms, seeds and cell: an
MD step), which reuses it, scaled by the atom level's edges, while those stay within a tenth
of the counted ones. Without a batch
(:func:`estimate_bytes` alone) a coarse level counts as a tenth of the atom level.
``benchmarks/memory.py`` prints the estimate against the measured peak, for flakes and
periodic sheets. Available is ``MemAvailable`` of ``/proc/meminfo`` plus this process's resident set
(memory the process already holds is reused). Set ``MUSE_EXPLORE_MEMORY_CHECK=0`` to skip the
check. GPU memory is not checked here: CUDA reports its own out-of-memory errors.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from muse_explore.data.neighbors import neighbor_list

#: Extra fraction of the atom-level estimate per coarse level, where they are not counted.
COARSE_FRACTION = 0.1


def estimate_bytes(
    model,
    num_edges: int,
    *,
    itemsize: int,
    hessian: bool = False,
    coarse: Sequence[int] | None = None,
) -> float:
    """Estimated peak memory of one energy + forces evaluation, bytes.

    ``num_edges`` are the atom level's; ``coarse`` the edges of each coarse level
    (:func:`coarse_edges`), or ``None`` for a tenth of the atom level's memory per level.
    ``model`` may be wrapped (``DistributedDataParallel``: its ``module`` is used).
    """
    model = getattr(model, "module", model)
    atom = num_edges * model.backbones[0].edge_bytes(itemsize)
    if coarse is None:
        total = atom * (1.0 + COARSE_FRACTION * model.levels)
    else:
        if len(coarse) != model.levels:
            raise ValueError(f"{len(coarse)} coarse edge counts for {model.levels} level(s)")
        total = atom + sum(
            n * b.edge_bytes(itemsize) for n, b in zip(coarse, model.backbones[1:], strict=True)
        )
    return total * (2.0 if hessian else 1.0)


#: Recent counts of :func:`coarse_edges`: key -> (atom-level edges, counts); a few entries.
_COUNTS: dict = {}
_KEEP = 8


def coarse_edges(model, batch) -> list[int]:
    """Per coarse level of ``model``, the edges that ``batch`` will give it.

    A level's graph joins its nodes within its cutoff, and its assignment pairs each node of
    the level below with the seeds among its neighbours (plus each seed with itself). Both are
    counted here on the positions of the seeds' atoms (a coarse node lies within its
    assignment radius of its seed) with the neighbour list the model's coarse graphs use:
    an estimate for the memory check, not the graph itself.
    """
    model = getattr(model, "module", model)
    counts = [0] * model.levels
    if not model.levels or "seed_mask" not in batch:
        return counts
    masks = batch.seed_mask.detach().cpu().numpy().astype(bool)
    cells = batch.cell.detach().cpu().numpy().astype(np.float64)
    pbcs = batch.pbc.detach().cpu().numpy()
    ptr = batch.ptr.tolist()
    edges = int(batch.edge_index.shape[1])
    key = (
        tuple((lev.cutoff, lev.assign_radius) for lev in model.config.levels[1:]),
        tuple(ptr),
        hash(masks.tobytes()),
        hash(cells.tobytes()),
        hash(pbcs.tobytes()),
    )
    if key in _COUNTS:  # the same structure again (an MD step): scale the earlier count
        counted_edges, counted = _COUNTS[key]
        ratio = edges / max(counted_edges, 1)
        if 0.9 <= ratio <= 1.1:
            return [int(np.ceil(c * ratio)) for c in counted]
    pos = batch.pos.detach().cpu().numpy().astype(np.float64)
    sources = batch.edge_index[0].detach().cpu().numpy()
    for g in range(int(batch.num_graphs)):
        lo, hi = ptr[g], ptr[g + 1]
        fine = sources[(sources >= lo) & (sources < hi)] - lo  # the atom graph's pairs
        for level in range(1, model.levels + 1):
            seeds = np.flatnonzero(masks[lo:hi, level - 1])
            is_seed = np.zeros(hi - lo, dtype=bool)
            is_seed[seeds] = True
            pairs, _ = neighbor_list(
                pos[lo:hi][seeds], cells[g], pbcs[g], model.config.levels[level].cutoff
            )
            counts[level - 1] += int(is_seed[fine].sum()) + len(seeds) + pairs.shape[1]
            fine = seeds[pairs[0]]  # the next level's fine graph, by atom
    _COUNTS.pop(key, None)
    _COUNTS[key] = (edges, counts)
    while len(_COUNTS) > _KEEP:  # the oldest first
        _COUNTS.pop(next(iter(_COUNTS)))
    return counts


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
    have = available_bytes()
    if have is None:
        return
    edges = int(batch.edge_index.shape[1])
    itemsize = batch.pos.element_size()
    coarse = [0] * model.levels  # the atom level first: a structure it alone cannot fit is
    need = estimate_bytes(model, edges, itemsize=itemsize, hessian=hessian, coarse=coarse)
    if need <= have and model.levels:  # refused without counting the coarse levels' pairs
        bound = _all_pairs(model, batch)  # molecules: every pair of nodes is a bound that
        if bound is not None:  # usually fits at once (a training or MD step)
            need = estimate_bytes(model, edges, itemsize=itemsize, hessian=hessian, coarse=bound)
        if bound is None or need > have:
            coarse = coarse_edges(model, batch)
            need = estimate_bytes(model, edges, itemsize=itemsize, hessian=hessian, coarse=coarse)
    if need <= have:
        return
    what = "a Hessian" if hessian else "energy and forces"
    options = "float32, " if batch.pos.element_size() == 8 else ""
    atoms_only = estimate_bytes(
        model, edges, itemsize=itemsize, hessian=hessian, coarse=[0] * model.levels
    )
    if atoms_only < need / 2:  # mostly the coarse levels: say so, and what fits without them
        why = ", whose nodes in a periodic cell are its atoms" if bool(batch.pbc.any()) else ""
        options += (
            f"model.backbone_only() (a model without the coarse levels, so other energies: "
            f"about {_gb(atoms_only)}; most of the estimate is the coarse levels'{why}), "
        )
    raise MemoryError(
        f"{what} of {batch.pos.shape[0]:,} atoms ({edges:,} edges{_on_coarse(coarse)}) with "
        f"this {model.config.backbone} model ({model.backbones[0].scalar_dim} channels, "
        f"{model.levels} coarse level(s), {str(batch.pos.dtype).removeprefix('torch.')}) "
        f"needs about {_gb(need)}; {_gb(have)} is available. Split the structure, use "
        f"{options}a smaller model or a GPU with more memory (MUSE_EXPLORE_MEMORY_CHECK=0 "
        "skips this check)."
    )


def _all_pairs(model, batch) -> list[int] | None:
    """An upper bound of :func:`coarse_edges` without a neighbour search, or ``None``.

    Without periodic images a level's graph cannot have more pairs than its nodes make, nor
    its assignment more than the level below times its seeds; a periodic graph has no such
    bound (``None``).
    """
    if "seed_mask" not in batch or bool(batch.pbc.any()):
        return None
    masks = batch.seed_mask.detach().cpu().numpy().astype(np.int64)
    ptr = batch.ptr.tolist()
    per_graph = np.add.reduceat(masks, ptr[:-1], axis=0)  # (B, L) seeds per graph and level
    fine = np.diff(ptr)  # the atom level's nodes
    bound = []
    for level in range(model.levels):
        seeds = per_graph[:, level]
        bound.append(int((seeds * seeds + fine * seeds).sum()))
        fine = seeds
    return bound


def _on_coarse(coarse: list[int]) -> str:
    return f", {sum(coarse):,} on the coarse levels" if any(coarse) else ""


__all__ = ["available_bytes", "check_memory", "coarse_edges", "estimate_bytes"]
