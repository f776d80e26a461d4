r"""Colour refinement (1-WL) of the covalent bond graph: atom classes that no numbering can split.

Every atom starts with a colour from its element; at each round an atom's new colour is a hash
of its own colour and the *multiset* of its bonded neighbours' colours,

.. math::
    c^{(t+1)}_i = \mathrm{mix}\Big(c^{(t)}_i,\ \sum_{j \in N(i)} \mathrm{mix}'(c^{(t)}_j)\Big)
    \pmod{2^{64}},

until the partition into colour classes stops splitting (at most n rounds; the diameter of
the graph in practice). The sum over neighbours makes the hash independent of their order,
so the colours are a function of the bond graph alone: renumbering the atoms renumbers the
colours with them, and two atoms that any automorphism of the graph exchanges always share a
colour. Each class is therefore a union of automorphism orbits, which is what symmetric
seeding (:mod:`muse_explore.pooling.seeding`) needs. Nothing geometric enters, so the colours
stay constant along any path that keeps the bonds.

Periodic structures: bonds through the cell boundary are ordinary edges of the quotient graph
(one per image), so an atom of a cell and its copies in a supercell of that cell see the same
multisets at every round and get the same colour.

Colours are 64-bit hashes (splitmix64 finaliser): two different multisets collide with
probability about 2^-64 per pair, negligible next to any other error.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_M3 = np.uint64(0x2545F4914F6CDD1D)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, elementwise on uint64 (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def colour_classes(numbers: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Stable colour-refinement colours of a graph.

    Args:
        numbers: (n,) atomic numbers (the initial colours).
        i: (E,) first atom of each directed edge (bonds ``i -> j`` and ``j -> i`` are both
            listed; bonds to periodic images are separate edges).
        j: (E,) second atom of each edge.

    Returns:
        (n,) uint64 colours; atoms with equal colours are indistinguishable by refinement.
    """
    n = len(numbers)
    colour = _mix(np.asarray(numbers, dtype=np.uint64))
    classes = len(np.unique(colour))
    order = np.argsort(i, kind="stable")
    i_sorted, j_sorted = i[order], j[order]
    starts = np.searchsorted(i_sorted, np.arange(n))
    has_edges = np.bincount(i_sorted, minlength=n) > 0
    for _ in range(n):
        agg = np.zeros(n, dtype=np.uint64)
        if len(i_sorted):
            sums = np.add.reduceat(_mix(colour[j_sorted] ^ _M3), starts[has_edges])
            agg[has_edges] = sums
        with np.errstate(over="ignore"):
            new = _mix(colour * _M3 ^ _mix(agg))
        count = len(np.unique(new))
        colour = new
        if count == classes:
            break
        classes = count
    return colour
