r"""Neighbour lists from vesin, in the edge convention used across muse_explore.

Convention (PyG ``source_to_target`` flow): ``edge_index[0]`` is the source ``j``,
``edge_index[1]`` the target ``i``, and the edge vector is

.. math::
    \mathbf{r}_{ij} = \mathbf{r}_j - \mathbf{r}_i + \mathbf{S}_{ij}\,\mathbf{C},

with integer shifts :math:`\mathbf{S}_{ij}` and the cell :math:`\mathbf{C}` (rows are lattice
vectors). Shifts refer to the positions *as given* (not wrapped), so edge vectors can be
recomputed in torch from ``pos`` and autograd flows through them.
"""

from __future__ import annotations

import numpy as np
import torch
import vesin


def neighbor_list(
    positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray]:
    """All ordered pairs closer than ``cutoff``, with periodic images.

    Works for cells smaller than twice the cutoff (several images of one atom are separate
    edges) and for mixed periodicity (e.g. a slab periodic in x and y only).

    Args:
        positions: (n, 3) Cartesian positions in Å.
        cell: (3, 3) lattice vectors as rows, in Å (ignored along non-periodic directions).
        pbc: (3,) booleans.
        cutoff: radius in Å.

    Returns:
        ``edge_index`` (2, E) int64 as (source j, target i) and ``shifts`` (E, 3) int64.
    """
    positions = np.ascontiguousarray(positions, dtype=np.float64)
    pbc = np.asarray(pbc, dtype=bool)
    n = len(positions)
    if n == 0:
        return np.zeros((2, 0), dtype=np.int64), np.zeros((0, 3), dtype=np.int64)
    cell = np.asarray(cell, dtype=np.float64)
    if pbc.any():
        # vesin wants points inside the box: wrap along periodic directions, then translate
        # the shifts back so they refer to the positions as given.
        frac = np.linalg.solve(cell.T, positions.T).T
        wrap = np.where(pbc, np.floor(frac), 0.0)
        wrapped = positions - wrap @ cell
        box = cell
    else:
        wrap = np.zeros((n, 3))
        wrapped = positions
        box = np.zeros((3, 3))
    calc = vesin.NeighborList(cutoff=float(cutoff), full_list=True)
    i, j, s = calc.compute(points=wrapped, box=box, periodic=pbc.tolist(), quantities="ijS")
    i = i.astype(np.int64)
    j = j.astype(np.int64)
    shifts = s.astype(np.int64) - wrap[j].astype(np.int64) + wrap[i].astype(np.int64)
    return np.stack([j, i]), shifts


def edge_vectors(
    pos: torch.Tensor,
    edge_index: torch.Tensor,
    shifts: torch.Tensor,
    cell: torch.Tensor,
    batch: torch.Tensor,
) -> torch.Tensor:
    """Edge vectors r_ij = r_j - r_i + S_ij C, differentiable in ``pos`` and ``cell``.

    Shapes:
        pos (n, 3); edge_index (2, E); shifts (E, 3); cell (B, 3, 3); batch (n,) -> (E, 3).
    """
    j, i = edge_index
    vec = pos.index_select(0, j) - pos.index_select(0, i)
    # all-zero shifts contribute nothing, not even to the stress: skip the per-edge cell gather
    if shifts.numel() and bool(shifts.detach().any()):
        graph_cell = cell.index_select(0, batch.index_select(0, i))
        vec = vec + torch.einsum("ek,ekl->el", shifts.to(pos.dtype), graph_cell)
    return vec
