"""Atom-level output modules: terms added to the atoms' energies after the hierarchy has run.

Every output module (per-element shifts, ZBL repulsion, LES electrostatics) has one method,
``atom_energies(atoms: AtomLevel) -> (n,)`` in eV, and reads what it needs from
:class:`AtomLevel`, so :class:`~muse_explore.models.muse.MuSE` runs them as a list
(``model.outputs``) without knowing what each one is: schnetpack's output modules, in small.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from muse_explore.state import GeometricGraph


@dataclass
class AtomLevel:
    """What atom-level output modules may read (n atoms, B structures).

    Attributes:
        species: (n,) species index of each atom.
        z: (n,) atomic numbers.
        graph: the atom graph.
        scalar: (n, F) the atoms' final scalar features (after the coarse levels' unpooling).
        pbc: (B, 3) periodic directions.
        cell: (B, 3, 3) cells in Å.
        fragment: (n,) covalent fragment of each atom, or ``None``.
    """

    species: torch.Tensor
    z: torch.Tensor
    graph: GeometricGraph
    scalar: torch.Tensor
    pbc: torch.Tensor
    cell: torch.Tensor
    fragment: torch.Tensor | None
