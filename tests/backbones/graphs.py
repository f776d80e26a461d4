"""Shared helpers of the backbone tests."""

import torch

from muse_explore.backbones.contract import GeometricGraph


def complete_graph(pos: torch.Tensor, cutoff: float) -> GeometricGraph:
    """All ordered pairs of ``pos`` closer than ``cutoff``, one structure, no cell."""
    n = pos.shape[0]
    i, j = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    mask = i != j
    ei = torch.stack([j[mask], i[mask]])
    vec = pos[ei[0]] - pos[ei[1]]
    d = vec.norm(dim=-1)
    keep = d < cutoff
    return GeometricGraph(
        pos, ei[:, keep], vec[keep], d[keep], torch.zeros(n, dtype=torch.long), 1, cutoff
    )
