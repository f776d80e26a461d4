"""Geometry faults: where a trajectory has left physical structures behind, by its topology.

A model with a hole in its energy surface (a region far from its training data where its
energy falls where the true one climbs) lets an MD run walk into it: two atoms that are not
bonded end up at a bonding distance, or a bond angle folds shut. Neither breaks a bond, so
the run goes on with nothing in its observables to show it. These checks find them from the
covalent topology alone (fixed for the run: no bond forms or breaks in a force-field run):

* a **contact**: two atoms more than two bonds apart closer than ``contact`` (1.4 Å by
  default; the shortest hydrogen bond's H···O is about 1.6 Å, non-bonded H···H contacts
  2 Å or more);
* a **folded angle**: two atoms bonded to a common one (a 1–3 pair, one bond angle) closer
  than ``folded`` (0.75) times their distance in a reference structure of the same
  topology; thermal motion at 300–600 K moves these distances by a few percent.

Lengths in Å.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from muse_explore.reference.peptide import bond_hops

__all__ = ["geometry_faults"]

CONTACT = 1.4
FOLDED = 0.75


def geometry_faults(
    frame: Atoms,
    bonds,
    reference: Atoms,
    *,
    contact: float = CONTACT,
    folded: float = FOLDED,
) -> list[dict]:
    """The contacts and folded angles of ``frame``, the worst first.

    Args:
        frame: the structure to check.
        bonds: (n_bonds, 2) atom index pairs, the covalent topology of ``frame`` and
            ``reference`` (e.g. :func:`muse_explore.reference.peptide.peptide_bonds`).
        reference: the same molecule in a physical geometry (a run's start); its 1–3
            distances are the yardstick of the folded angles.
        contact: pairs more than two bonds apart closer than this (Å) are contacts.
        folded: 1–3 pairs closer than this fraction of their reference distance are folded.

    Returns:
        One dict per fault, ``kind`` ("contact" or "folded angle"), ``atoms`` (i, j, both
        0-based, i < j), their ``symbols``, ``distance`` and the ``limit`` it fell below,
        sorted by ``distance / limit``.
    """
    n = len(frame)
    if len(reference) != n or not np.array_equal(reference.numbers, frame.numbers):
        raise ValueError(
            f"reference and frame are not the same molecule ({len(reference)} and {n} atoms, "
            "or different elements in that order)"
        )
    bonds = np.asarray(bonds, dtype=np.int64)
    if bonds.ndim != 2 or bonds.shape[1] != 2 or len(bonds) == 0:
        raise ValueError(f"bonds must be an (n_bonds, 2) array of index pairs, got {bonds.shape}")
    if bonds.min() < 0 or bonds.max() >= n:
        raise ValueError(f"bonds name atoms outside 0..{n - 1}")
    pos = frame.get_positions()
    if not np.isfinite(pos).all():
        raise ValueError("frame has non-finite coordinates")
    hops = bond_hops(bonds, n)
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)
    d0 = reference.get_all_distances()
    limit = np.where(hops > 2, contact, np.where(hops == 2, folded * d0, 0.0))
    i, j = np.nonzero(np.triu(d < limit, k=1))
    symbols = frame.get_chemical_symbols()
    faults = [
        {
            "kind": "contact" if hops[a, b] > 2 else "folded angle",
            "atoms": (int(a), int(b)),
            "symbols": (symbols[a], symbols[b]),
            "distance": float(d[a, b]),
            "limit": float(limit[a, b]),
        }
        for a, b in zip(i, j, strict=True)
    ]
    return sorted(faults, key=lambda f: f["distance"] / f["limit"])
