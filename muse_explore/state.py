"""The tensors passed between levels: node features and the geometric graph of one level.

Shared by the backbones (:mod:`muse_explore.backbones.contract`, where they are documented
as part of the backbone contract) and the pooling, so that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class NodeState:
    """Features of the nodes of one level.

    Shapes:
        scalar: (n, F); equivariant: (n, m, F) or ``None``; ``extra``: backbone-private
        per-node tensors carried from ``interact`` to ``readout`` of the same level (e.g. the
        features of earlier layers for per-layer readouts). MuSE neither pools nor unpools
        them; it only passes them along.
    """

    scalar: torch.Tensor
    equivariant: torch.Tensor | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class GeometricGraph:
    """A graph of points in space, atoms or coarse nodes.

    Shapes:
        pos (n, 3) Å; edge_index (2, E) as (source j, target i); vectors (E, 3) r_j - r_i + shift;
        lengths (E,); batch (n,); edge_weight (E,) or ``None``.

    ``edge_weight``, when set, multiplies every message sent along each edge (``None``: 1).
    MuSE's mass-weighted coarse levels (``MuSEConfig.mass_weighted``) set it to the number of
    atoms the sending node stands for.
    """

    pos: torch.Tensor
    edge_index: torch.Tensor
    vectors: torch.Tensor
    lengths: torch.Tensor
    batch: torch.Tensor
    num_graphs: int
    cutoff: float
    edge_weight: torch.Tensor | None = None
