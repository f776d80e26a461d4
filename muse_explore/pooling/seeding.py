"""Coarse-node seeds: which fine node anchors each coarse node (the discrete part of *select*).

Symmetric seeding (the default, ``seeding="symmetric"``): the seeds are a function of the
covalent bond graph alone, and a union of colour classes (:mod:`.colour_refinement`), so

* they never change along a path that keeps the bonds (the energy is single-valued and C²);
* renumbering the atoms renumbers the seeds with them, and atoms that a symmetry of the bond
  graph exchanges are seeds together or not at all (the energy is permutation-invariant for
  every input, exactly symmetric ones included);
* a periodic supercell gets the copies of its cell's seeds (supercell-consistent energies).

Per level ``l`` a greedy hop-distance packing visits the colour classes of each fragment in a
canonical order (fewest heavy neighbours first, then the smaller class, then the colour) and
accepts a class, all its members at once, when one of its members is not yet within
``hops[l]`` bonds of an accepted seed. Level-1 candidates are the heavy atoms (hydrogen only in
fragments without heavy atoms); level-``l`` candidates are the level-``l-1`` seeds. Where
classes are single atoms (any molecule without symmetry) this is the classic greedy packing;
where the bond graph has symmetry the seed set keeps it, at the price of more seeds (a
vertex-transitive graph, such as benzene's ring or a periodic graphene sheet, makes every
candidate a seed: docs/method.md proves that no symmetric choice can do better).

``seeding="legacy"`` is the rule of models saved before 2026-12 (format 1): candidates visited
by a geometric key (bond-length sums) and the atom index. Its seeds depend on the geometry
and on the numbering; it exists only so that those files keep their numbers until retrained.

The work is linear in the number of atoms for the packing (each seed explores only its hop
ball) plus one colour-refinement round per hop of the graph's radius.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from ase.data import covalent_radii
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from muse_explore.data.neighbors import neighbor_list
from muse_explore.pooling.colour_refinement import colour_classes

#: Two atoms are bonded when closer than this factor times the sum of their covalent radii.
BOND_SCALE = 1.3

#: Seeding rules: ``symmetric`` (bond graph only), ``legacy`` (format-1 models).
SEEDINGS = ("symmetric", "legacy")


@dataclass(frozen=True)
class Topology:
    """Seeds and covalent fragments of one structure.

    Attributes:
        fragment: (n,) int64 fragment label of every atom (covalently connected components).
        seed_mask: (n, L) bool; ``seed_mask[a, l]`` says atom ``a`` anchors a level-``l+1`` node.
            Level-``l+1`` seeds are a subset of level-``l`` seeds.
        copy_offset: (n, 3) int64 cell offsets that unwrap each fragment: atom ``a`` of the
            fragment copy that holds atom ``b``'s stored position sits at
            ``x_a + (copy_offset[a] - copy_offset[b]) C`` (zeros without periodicity).
        copy_span: (n, 3, 3) projector onto the lattice directions along which the atom's
            fragment is bonded to its own periodic image (zero for a finite molecule, the
            identity for a 3D-bonded crystal).
    """

    fragment: np.ndarray
    seed_mask: np.ndarray
    copy_offset: np.ndarray
    copy_span: np.ndarray


def bond_cutoff(numbers: np.ndarray) -> float:
    """Largest distance at which two of these elements can count as bonded (Å)."""
    return 2.0 * BOND_SCALE * float(covalent_radii[numbers].max())


def covalent_bonds(
    numbers: np.ndarray,
    positions: np.ndarray,
    cell: np.ndarray,
    pbc: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Covalent bonds as ordered pairs ``(i, j)``, with lengths (Å) and integer cell shifts.

    Bond ``k`` joins atom ``i[k]`` to the image of ``j[k]`` shifted by ``shifts[k]`` cells.
    ``edges`` may pass an existing neighbour list (``edge_index``, ``shifts``) whose cutoff is
    at least :func:`bond_cutoff`, to avoid computing another one.
    """
    radii = covalent_radii[numbers]
    periodic = np.asarray(pbc).any()
    cell = cell if periodic else np.zeros((3, 3))
    if edges is None:
        edges = neighbor_list(positions, cell, pbc, bond_cutoff(numbers))
    edge_index, shifts = edges
    j, i = edge_index
    vec = positions[j] - positions[i]
    if periodic:
        vec += shifts @ cell
    d2 = np.einsum("ij,ij->i", vec, vec)
    keep = np.flatnonzero(d2 < (BOND_SCALE * (radii[i] + radii[j])) ** 2)
    i, j, vec, shifts = i[keep], j[keep], vec[keep], np.asarray(shifts[keep], dtype=np.int64)
    own = (i != j) | np.any(shifts != 0, axis=1)  # an atom is bonded only to its images
    return i[own], j[own], np.linalg.norm(vec[own], axis=1), shifts[own]


def find_topology(
    numbers: np.ndarray,
    positions: np.ndarray,
    cell: np.ndarray,
    pbc: np.ndarray,
    hops: tuple[int, ...],
    bonds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
    *,
    seeding: str = "symmetric",
) -> Topology:
    """Covalent fragments and per-level seeds for one structure.

    Args:
        numbers: (n,) atomic numbers.
        positions: (n, 3) positions in Å.
        cell: (3, 3) cell in Å.
        pbc: (3,) periodicity.
        hops: per coarse level, the hop radius of the packing (e.g. ``(2, 4)``).
        bonds: the output of :func:`covalent_bonds`, if already computed.
        seeding: ``"symmetric"`` (bond graph only) or ``"legacy"`` (see the module docstring).
    """
    if seeding not in SEEDINGS:
        raise ValueError(f"seeding must be one of {SEEDINGS}, got {seeding!r}")
    n = len(numbers)
    numbers = np.asarray(numbers)
    i, j, d, shifts = bonds if bonds is not None else covalent_bonds(numbers, positions, cell, pbc)
    adj = coo_matrix((np.ones_like(i), (i, j)), shape=(n, n)).tocsr()
    _, fragment = connected_components(adj, directed=False)
    heavy = numbers > 1
    heavy_frag = np.zeros(fragment.max() + 1, dtype=bool)
    np.logical_or.at(heavy_frag, fragment, heavy)
    candidates = heavy | ~heavy_frag[fragment]
    own = i != j  # bonds to an atom's own image (cells under ~2 Å) count only for colours
    heavy_nb = np.bincount(i[heavy[j] & own], minlength=n)
    neighbors = np.split(adj.indices, adj.indptr[1:-1])
    if seeding == "legacy":
        bond_sum = np.bincount(i[own], weights=d[own], minlength=n)
        order = np.lexsort((np.arange(n), np.round(bond_sum, 9), heavy_nb))
        groups = [np.array([a]) for a in order]
    else:
        groups = _class_groups(colour_classes(numbers, i, j), fragment, heavy_nb)
    seed_mask = np.zeros((n, len(hops)), dtype=bool)
    for level, radius in enumerate(hops):
        is_candidate = candidates if level == 0 else seed_mask[:, level - 1]
        covered = np.zeros(n, dtype=bool)
        for group in groups:
            members = group[is_candidate[group]]
            if not len(members) or covered[members].all():
                continue
            seed_mask[members, level] = True
            for atom in members:
                _mark_ball(int(atom), int(radius), neighbors, covered)
    offset, span = _copy_offsets(n, i, j, shifts, fragment)
    if seeding == "legacy":  # format-1 models paired a node with any image of its fragment
        span = np.broadcast_to(np.eye(3), (n, 3, 3)).copy()
    return Topology(
        fragment=fragment.astype(np.int64), seed_mask=seed_mask, copy_offset=offset, copy_span=span
    )


def _class_groups(
    colour: np.ndarray, fragment: np.ndarray, heavy_nb: np.ndarray
) -> list[np.ndarray]:
    """Atoms grouped by (fragment, colour), in the canonical visiting order of the packing.

    Within a fragment the order depends on colours, class sizes and heavy-neighbour counts
    only, never on indices or coordinates; the relative order of groups of *different*
    fragments is irrelevant because hop balls never leave their fragment.
    """
    key = np.stack([fragment.astype(np.uint64), colour]).T
    _, group_of, size = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    group_of = group_of.reshape(-1)
    first = np.full(len(size), len(colour))
    np.minimum.at(first, group_of, np.arange(len(colour)))
    order = np.lexsort((colour[first], size, heavy_nb[first], fragment[first]))
    members = np.argsort(group_of, kind="stable")
    bounds = np.cumsum(size)[:-1]
    by_group = np.split(members, bounds)
    return [by_group[g] for g in order]


def _copy_offsets(
    n: int, i: np.ndarray, j: np.ndarray, shifts: np.ndarray, fragment: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Cell offsets that unwrap each fragment, and the directions it is bonded to its image.

    A breadth-first walk over the bonds gives every atom the offset o_a of its neighbour plus
    the bond's shift; a bond that closes a loop with a non-zero net shift means the fragment
    continues into the next cell along that shift (a chain, a sheet, a crystal).
    """
    offset = np.zeros((n, 3), dtype=np.int64)
    span = np.zeros((n, 3, 3))
    if not len(shifts) or not np.any(shifts):
        return offset, span
    order = np.argsort(i, kind="stable")
    i, j, shifts = i[order], j[order], shifts[order]
    starts = np.searchsorted(i, np.arange(n + 1))
    seen = np.zeros(n, dtype=bool)
    loops: dict[int, list[np.ndarray]] = {}
    for root in range(n):
        if seen[root]:
            continue
        seen[root] = True
        queue = deque([root])
        while queue:
            a = queue.popleft()
            for k in range(starts[a], starts[a + 1]):
                b, target = j[k], offset[a] + shifts[k]
                if not seen[b]:
                    seen[b] = True
                    offset[b] = target
                    queue.append(b)
                elif np.any(target != offset[b]):
                    loops.setdefault(int(fragment[root]), []).append(target - offset[b])
    for frag, vectors in loops.items():
        basis, sv, _ = np.linalg.svd(np.array(vectors, dtype=float).T)
        rank = int((sv > 1e-8).sum())
        span[fragment == frag] = basis[:, :rank] @ basis[:, :rank].T
    return offset, span


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
