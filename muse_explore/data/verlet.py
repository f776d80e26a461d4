r"""A neighbour list with a skin (a Verlet buffer), reused between the steps of a trajectory.

The list is built for ``cutoff + skin``. While no atom has moved more than ``skin / 2`` since
then (same atoms, same cell), every pair now closer than ``cutoff`` is still in it, so a step
only recomputes the cached pairs' lengths and keeps those below ``cutoff``: the result equals a
fresh :func:`~muse_explore.data.neighbors.neighbor_list` (the same pairs and shifts, in
the cached order), at the cost of a few array operations instead of a cell-list search.
Anything else (a new structure, a changed cell, a larger move, wrapped positions) rebuilds.
"""

from __future__ import annotations

import numpy as np

from muse_explore.data.neighbors import neighbor_list


class VerletList:
    """Neighbour lists of one evolving structure, rebuilt only when an atom has moved far.

    Args:
        cutoff: the pairs' cutoff in Å.
        skin: buffer in Å (> 0); a rebuild follows a move of more than ``skin / 2``.

    Attributes:
        builds: how many times the list was built (the rest were reuses).
        calls: how many lists were asked for.
        min_length: the shortest pair of the last list, in Å (``inf`` without pairs).
    """

    def __init__(self, cutoff: float, skin: float) -> None:
        if not skin > 0:
            raise ValueError(f"skin must be positive, got {skin!r}")
        self.cutoff = float(cutoff)
        self.skin = float(skin)
        self.builds = 0
        self.calls = 0
        self._ref = None
        self.min_length = float("inf")

    def reset(self) -> None:
        """Forget the cached list (the next call rebuilds)."""
        self._ref = None

    def __call__(
        self, positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(edge_index, shifts)`` of the pairs closer than ``cutoff`` (see neighbor_list)."""
        self.calls += 1
        positions = np.asarray(positions, dtype=np.float64)
        cell = np.asarray(cell, dtype=np.float64)
        pbc = np.asarray(pbc, dtype=bool)
        if not self._reusable(positions, cell, pbc):
            edge_index, shifts = neighbor_list(positions, cell, pbc, self.cutoff + self.skin)
            self._ref = (positions.copy(), cell.copy(), pbc.copy(), edge_index, shifts)
            self.builds += 1
        _, _, _, edge_index, shifts = self._ref
        j, i = edge_index
        vec = positions[j] - positions[i] + shifts @ cell
        d2 = np.einsum("ij,ij->i", vec, vec)
        keep = d2 < self.cutoff**2
        self.min_length = float(np.sqrt(d2.min())) if len(d2) else float("inf")
        return edge_index[:, keep], shifts[keep]

    def _reusable(self, positions, cell, pbc) -> bool:
        if self._ref is None:
            return False
        ref_pos, ref_cell, ref_pbc, _, _ = self._ref
        if ref_pos.shape != positions.shape or not (
            np.array_equal(ref_cell, cell) and np.array_equal(ref_pbc, pbc)
        ):
            return False
        moved = np.einsum("ij,ij->i", positions - ref_pos, positions - ref_pos)
        return bool(moved.max(initial=0.0) < (0.5 * self.skin) ** 2)
