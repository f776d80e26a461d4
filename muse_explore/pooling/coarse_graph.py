"""*Connect*: the graph between coarse nodes, with a longer cutoff than the level below."""

from __future__ import annotations

import numpy as np
import torch

from muse_explore.data.neighbors import edge_vectors, neighbor_list
from muse_explore.errors import MuSENumericalError
from muse_explore.state import GeometricGraph


def radius_graph(
    pos: torch.Tensor,
    batch: torch.Tensor,
    cell: torch.Tensor,
    pbc: torch.Tensor,
    cutoff: float,
    num_graphs: int,
) -> GeometricGraph:
    """Neighbour graph of points (one vesin call per structure), edge vectors in torch.

    Pairs are found on detached positions; vectors r_j - r_i + S C are recomputed from ``pos``
    and ``cell`` so that gradients flow through coarse positions to the atoms.

    Shapes:
        pos (K, 3); batch (K,); cell (B, 3, 3); pbc (B, 3).

    Raises:
        MuSENumericalError: a coarse position is not finite. Atom positions are checked
            before they reach the model, so this means that the features that set the soft
            assignment overflowed.
    """
    pos_np = pos.detach().cpu().numpy().astype(np.float64)
    batch_np = batch.detach().cpu().numpy()
    bad = ~np.isfinite(pos_np).all(axis=1)
    if bad.any():
        raise MuSENumericalError(
            f"{int(bad.sum())} coarse node position(s) are not finite (structure(s) "
            f"{sorted({int(g) for g in batch_np[bad]})} of the batch): the model's features "
            "overflowed there, so its soft assignment is undefined"
        )
    cell_np = cell.detach().cpu().numpy().astype(np.float64)
    pbc_np = pbc.detach().cpu().numpy()
    starts = np.searchsorted(batch_np, np.arange(num_graphs + 1))
    edges, shifts = [], []
    for g in range(num_graphs):
        lo, hi = starts[g], starts[g + 1]
        if hi - lo == 0:
            continue
        e, s = neighbor_list(pos_np[lo:hi], cell_np[g], pbc_np[g], cutoff)
        edges.append(e + lo)
        shifts.append(s)
    edge_index = torch.as_tensor(np.concatenate(edges, axis=1), device=pos.device)
    shift = torch.as_tensor(np.concatenate(shifts), dtype=pos.dtype, device=pos.device)
    vectors = edge_vectors(pos, edge_index, shift, cell, batch)
    lengths = torch.linalg.norm(vectors, dim=-1)
    return GeometricGraph(pos, edge_index, vectors, lengths, batch, num_graphs, float(cutoff))
