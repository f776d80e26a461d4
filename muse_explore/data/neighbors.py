r"""Neighbour lists from vesin, in the edge convention used across muse_explore.

Convention (PyG ``source_to_target`` flow): ``edge_index[0]`` is the source ``j``,
``edge_index[1]`` the target ``i``, and the edge vector is

.. math::
    \mathbf{r}_{ij} = \mathbf{r}_j - \mathbf{r}_i + \mathbf{S}_{ij}\,\mathbf{C},

with integer shifts :math:`\mathbf{S}_{ij}` and the cell :math:`\mathbf{C}` (rows are lattice
vectors). Shifts refer to the positions *as given* (not wrapped), so edge vectors can be
recomputed in torch from ``pos`` and autograd flows through them.

vesin is always given a *fully periodic* box. Along non-periodic directions the box gets an
axis orthogonal to the periodic ones, as long as the points' extent along it plus twice the
cutoff and 1 Å, so that no periodic image comes within the cutoff: every pair it finds has a
zero shift there, and the pairs are exactly those of the open boundary. This also makes the
box's face distances, which set vesin's cell grid, known exactly.

vesin 0.6 (``cpu_cell_list.cpp``) caps its cell grid at 1e5 cells and rescales a finer grid;
for a large and thin structure (a 300 Å flake with a 0.3 Å cutoff) the rescaled grid can get
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
    cutoff = float(cutoff)
    box = _padded_box(positions, np.asarray(cell, dtype=np.float64), pbc, cutoff)
    # vesin wants points inside the box: wrap along periodic directions (translating the
    # shifts back below, so that they refer to the positions as given); a plain translation
    # puts the points inside the padded directions
    frac = np.linalg.solve(box.T, positions.T).T
    wrap = np.where(pbc, np.floor(frac), 0.0)
    frac -= wrap
    low = frac.min(0)
    frac[:, ~pbc] += 0.5 - 0.5 * (low + frac.max(0))[~pbc]  # centred in the padded axes
    wrapped = frac @ box
    search = _grid_safe_cutoff(box, cutoff, max_cells=max(27.0, 4.0 * n))
    calc = vesin.NeighborList(cutoff=search, full_list=True)
    i, j, s, d = calc.compute(points=wrapped, box=box, periodic=True, quantities="ijSd")
    if search > cutoff:
        keep = d < cutoff
        i, j, s = i[keep], j[keep], s[keep]
    i = i.astype(np.int64)
    j = j.astype(np.int64)
    shifts = s.astype(np.int64) - wrap[j].astype(np.int64) + wrap[i].astype(np.int64)
    return np.stack([j, i]), shifts


def _padded_box(positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray, cutoff: float):
    """A fully periodic box: ``cell``'s periodic rows, padded orthogonal axes for the others.

    A non-periodic axis is orthogonal to the periodic rows and spans the points' extent
    along it plus ``2 * cutoff + 1`` Å, so periodic images along it are never within reach.
    """
    box = np.array(cell, dtype=np.float64)
    periodic = np.flatnonzero(pbc)
    open_axes = np.flatnonzero(~pbc)
    if len(open_axes) == 0:
        return box
    if len(periodic) == 0:
        units = np.eye(3)
    elif len(periodic) == 1:
        a = box[periodic[0]] / np.linalg.norm(box[periodic[0]])
        b = np.array([0.0, 1.0, 0.0]) if abs(a[1]) < 0.9 else np.array([0.0, 0.0, 1.0])
        c = np.cross(a, b)
        c /= np.linalg.norm(c)
        b = np.cross(c, a)
        units = np.zeros((3, 3))
        units[open_axes] = [b, c]
    else:
        c = np.cross(box[periodic[0]], box[periodic[1]])
        units = np.zeros((3, 3))
        units[open_axes] = c / np.linalg.norm(c)
    for k in open_axes:
        proj = positions @ units[k]
        box[k] = units[k] * (float(np.ptp(proj)) + 2.0 * cutoff + 1.0)
    return box


#: vesin's cap on the number of cells of its grid (MAX_NUMBER_OF_CELLS in cpu_cell_list.cpp)
_VESIN_MAX_CELLS = 1e5


def _grid_safe_cutoff(box: np.ndarray, cutoff: float, max_cells: float = _VESIN_MAX_CELLS) -> float:
    """Smallest cutoff >= ``cutoff`` (up to 10 %) for which vesin's grid needs no rescaling.

    vesin's grid has ``max(1, trunc(w_k / cutoff))`` cells along each direction k, with w_k the
    distance between the (fully periodic) box's faces. ``max_cells`` (at most vesin's cap)
    also keeps the grid from having far more cells than points: a 0.3 Å overlap check of a
    1,000-atom flake would otherwise set up 10⁵ mostly empty cells (35 ms instead of 1 ms).
    """
    max_cells = min(max_cells, _VESIN_MAX_CELLS)
    volume = abs(np.linalg.det(box))
    widths = volume / np.linalg.norm(np.cross(box[[1, 2, 0]], box[[2, 0, 1]]), axis=1)
    search = cutoff
    while np.prod(np.maximum(1.0, np.trunc(widths / search))) > max_cells:
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
