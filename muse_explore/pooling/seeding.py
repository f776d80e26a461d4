"""Coarse-node seeds: which fine node anchors each coarse node (the discrete part of *select*).

Seeds depend on the covalent bond graph, not on exact coordinates, so along any path that keeps
the bonding (MD without reactions, a distance scan, finite-difference displacements) they never
change and the model stays smooth. Per level ``l`` a greedy hop-distance packing picks seeds so
that every candidate lies within ``hops[l]`` bonds of a seed and seeds are more than ``hops[l]``
bonds apart; the number of seeds therefore grows in proportion to the fragment's size and the
work is linear in the number of atoms (each seed explores only its own hop ball).

Level-1 candidates are the heavy atoms (hydrogen never anchors a node unless its fragment has
no heavy atom); level-``l`` candidates are the level-``l-1`` seeds. Candidates are visited in a
canonical order that does not depend on atom indices: periphery first (fewest heavy
neighbours), then the sum of bond lengths; the index only breaks exact geometric ties.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from ase.data import covalent_radii
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from muse_explore.data.neighbors import neighbor_list

#: Two atoms are bonded when closer than this factor times the sum of their covalent radii.
BOND_SCALE = 1.3


@dataclass(frozen=True)
class Topology:
    """Seeds and covalent fragments of one structure.

    Attributes:
        fragment: (n,) int64 fragment label of every atom (covalently connected components).
        seed_mask: (n, L) bool; ``seed_mask[a, l]`` says atom ``a`` anchors a level-``l+1`` node.
            Level-``l+1`` seeds are a subset of level-``l`` seeds.
    """

    fragment: np.ndarray
    seed_mask: np.ndarray


def bond_cutoff(numbers: np.ndarray) -> float:
    """Largest distance at which two of these elements can count as bonded (Å)."""
    return 2.0 * BOND_SCALE * float(covalent_radii[numbers].max())


def covalent_bonds(
    numbers: np.ndarray,
    positions: np.ndarray,
    cell: np.ndarray,
    pbc: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covalent bonds as ordered pairs ``(i, j)`` with lengths (Å), periodic images included.

    ``edges`` may pass an existing neighbour list (``edge_index``, ``shifts``) whose cutoff is
    at least :func:`bond_cutoff`, to avoid computing another one.
    """
    radii = covalent_radii[numbers]
    cell = cell if np.asarray(pbc).any() else np.zeros((3, 3))
    if edges is None:
        edges = neighbor_list(positions, cell, pbc, bond_cutoff(numbers))
    edge_index, shifts = edges
    j, i = edge_index
    vec = positions[j] - positions[i] + shifts @ cell
    d = np.linalg.norm(vec, axis=1)
    keep = (d < BOND_SCALE * (radii[i] + radii[j])) & (i != j)
    return i[keep], j[keep], d[keep]


def find_topology(
    numbers: np.ndarray,
    positions: np.ndarray,
    cell: np.ndarray,
    pbc: np.ndarray,
    hops: tuple[int, ...],
    bonds: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Topology:
    """Covalent fragments and per-level seeds for one structure.

    Args:
        numbers: (n,) atomic numbers.
        positions: (n, 3) positions in Å.
        cell: (3, 3) cell in Å.
        pbc: (3,) periodicity.
        hops: per coarse level, the hop radius of the packing (e.g. ``(2, 4)``).
        bonds: the output of :func:`covalent_bonds`, if already computed.
    """
    n = len(numbers)
    i, j, d = bonds if bonds is not None else covalent_bonds(numbers, positions, cell, pbc)
    adj = coo_matrix((np.ones_like(i), (i, j)), shape=(n, n)).tocsr()
    _, fragment = connected_components(adj, directed=False)
    heavy = numbers > 1
    heavy_frag = np.zeros(fragment.max() + 1, dtype=bool)
    np.logical_or.at(heavy_frag, fragment, heavy)
    candidates = heavy | ~heavy_frag[fragment]

    heavy_nb = np.bincount(i[heavy[j]], minlength=n)
    bond_sum = np.bincount(i, weights=d, minlength=n)
    order = np.lexsort((np.arange(n), np.round(bond_sum, 9), heavy_nb))
    neighbors = np.split(adj.indices, adj.indptr[1:-1])

    seed_mask = np.zeros((n, len(hops)), dtype=bool)
    for level, radius in enumerate(hops):
        is_candidate = candidates if level == 0 else seed_mask[:, level - 1]
        covered = np.zeros(n, dtype=bool)
        for atom in order:
            if not is_candidate[atom] or covered[atom]:
                continue
            seed_mask[atom, level] = True
            _mark_ball(atom, int(radius), neighbors, covered)
    return Topology(fragment=fragment.astype(np.int64), seed_mask=seed_mask)


def _mark_ball(start: int, radius: int, neighbors: list[np.ndarray], covered: np.ndarray) -> None:
    """Mark every atom within ``radius`` bonds of ``start`` (breadth-first, local work only)."""
    covered[start] = True
    depth = {start: 0}
    queue = deque([start])
    while queue:
        a = queue.popleft()
        if depth[a] == radius:
            continue
        for b in neighbors[a]:
            if b not in depth:
                depth[b] = depth[a] + 1
                covered[b] = True
                queue.append(b)
