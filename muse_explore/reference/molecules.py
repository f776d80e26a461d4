"""The small H/C/N/O molecules of the graphene data set, by name.

Geometries are idealised (planar rings, textbook bond lengths); the reference-data generator
relaxes them with GFN2-xTB before use (:func:`muse_explore.reference.xtb.relax`).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.build import molecule as g2_molecule
from scipy.spatial import cKDTree

from muse_explore.reference.structures import polyaromatic

#: Names accepted by :func:`small_molecule`, in the order of the data set.
MOLECULES = ("benzene", "naphthalene", "pyridine", "water", "1,8-naphthyridine")

_AROMATIC_CC = 1.40


def _naphthalene() -> Atoms:
    centers = np.array([[0.0, 0.0], [np.sqrt(3) * _AROMATIC_CC, 0.0]])
    return polyaromatic(centers, cc=_AROMATIC_CC)


def _naphthyridine() -> Atoms:
    """1,8-naphthyridine: naphthalene with N at the two CH positions next to one bridgehead."""
    mol = _naphthalene()
    carbon = np.flatnonzero(mol.numbers == 6)
    pos = mol.positions
    pairs = cKDTree(pos[carbon]).query_pairs(1.2 * _AROMATIC_CC, output_type="ndarray")
    neighbors = {int(i): set() for i in carbon}
    for a, b in carbon[pairs]:
        neighbors[int(a)].add(int(b))
        neighbors[int(b)].add(int(a))
    bridgeheads = [i for i, nb in neighbors.items() if len(nb) == 3]
    head = max(bridgeheads, key=lambda i: pos[i, 1])  # the upper one of the two
    nitrogens = sorted(i for i in neighbors[head] if len(neighbors[i]) == 2)
    hydrogens = np.flatnonzero(mol.numbers == 1)
    h_tree = cKDTree(pos[hydrogens])
    drop = [int(hydrogens[h_tree.query(pos[i])[1]]) for i in nitrogens]
    numbers = mol.numbers.copy()
    numbers[nitrogens] = 7
    keep = [i for i in range(len(mol)) if i not in drop]
    out = Atoms(numbers=numbers[keep], positions=pos[keep])
    out.positions -= out.positions.mean(0)
    return out


def small_molecule(name: str) -> Atoms:
    """One of :data:`MOLECULES` as an ``Atoms`` (idealised geometry, centroid at the origin).

    Raises:
        ValueError: for a name that is not in :data:`MOLECULES`.
    """
    builders = {
        "benzene": lambda: polyaromatic(np.zeros((1, 2)), cc=1.39),
        "naphthalene": _naphthalene,
        "pyridine": lambda: g2_molecule("C5H5N"),
        "water": lambda: g2_molecule("H2O"),
        "1,8-naphthyridine": _naphthyridine,
    }
    if name not in builders:
        raise ValueError(f"unknown molecule {name!r}; choose one of {list(MOLECULES)}")
    mol = builders[name]()
    mol.positions -= mol.positions.mean(0)
    mol.info["name"] = name
    return mol
