r"""Neighbour lists from vesin, in the edge convention used across muse_explore.

Convention (PyG ``source_to_target`` flow): ``edge_index[0]`` is the source ``j``,
``edge_index[1]`` the target ``i``, and the edge vector is

.. math::
    \mathbf{r}_{ij} = \mathbf{r}_j - \mathbf{r}_i + \mathbf{S}_{ij}\,\mathbf{C},

with integer shifts :math:`\mathbf{S}_{ij}` and the cell :math:`\mathbf{C}` (rows are lattice
vectors). Shifts refer to the positions *as given* (not wrapped), so edge vectors can be
recomputed in torch from ``pos`` and autograd flows through them.

vesin 0.6 (``cpu_cell_list.cpp``) caps its cell grid at 1e5 cells; when a structure is large
and thin (a 300 Å flake with a 0.3 Å cutoff, a 1,000 Å one with 3 Å) the rescaled grid can get
zero cells along one direction and the process dies of an integer division by zero
(``Floating point exception``). :func:`neighbor_list` therefore asks vesin for a cutoff long
enough that the grid never needs rescaling and keeps the pairs within the requested one.
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
    search = _grid_safe_cutoff(wrapped, box, pbc, float(cutoff))
    calc = vesin.NeighborList(cutoff=search, full_list=True)
    i, j, s, d = calc.compute(points=wrapped, box=box, periodic=pbc.tolist(), quantities="ijSd")
    if search > cutoff:
        keep = d < cutoff
        i, j, s = i[keep], j[keep], s[keep]
    i = i.astype(np.int64)
    j = j.astype(np.int64)
    shifts = s.astype(np.int64) - wrap[j].astype(np.int64) + wrap[i].astype(np.int64)
    return np.stack([j, i]), shifts


#: vesin's cap on the number of cells of its grid (MAX_NUMBER_OF_CELLS in cpu_cell_list.cpp)
_VESIN_MAX_CELLS = 1e5


def _grid_safe_cutoff(points: np.ndarray, box: np.ndarray, pbc: np.ndarray, cutoff: float) -> float:
    """Smallest cutoff >= ``cutoff`` (up to 10 %) for which vesin's grid needs no rescaling.

    vesin's grid has ``max(1, trunc(w_k / cutoff))`` cells along each direction k, with w_k the
    distance between the box faces (periodic) or the extent of the points (otherwise). The
    widths are overestimated here (the largest extent along any axis for every non-periodic
    direction), which can only make the returned cutoff longer, never unsafe.
    """
    extent = float(np.ptp(points, axis=0).max()) if len(points) else 0.0
    widths = np.full(3, extent)
    if pbc.any():
        volume = abs(np.linalg.det(box))
        heights = volume / np.linalg.norm(np.cross(box[[1, 2, 0]], box[[2, 0, 1]]), axis=1)
        widths = np.where(pbc, heights, extent)
    search = cutoff
    while np.prod(np.maximum(1.0, np.trunc(widths / search))) > _VESIN_MAX_CELLS:
        search *= 1.1
    return search


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
