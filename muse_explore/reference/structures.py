"""Structure builders: hydrogen-terminated graphene flakes, periodic graphene, molecule placement.

All lengths in Å. The flake lies in the plane z = 0 with its centroid at the origin.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.build import graphene, molecule
from scipy.spatial import cKDTree

CC_BOND = 1.42
CH_BOND = 1.09


def polyaromatic(centers: np.ndarray, *, cc: float = CC_BOND, ch: float = CH_BOND) -> Atoms:
    """Hydrogen-terminated planar hydrocarbon made of hexagons at the given centres.

    ``centers`` (k, 2) are hexagon centres on the honeycomb lattice (lattice vectors
    ``(√3 cc, 0)`` and ``(√3 cc / 2, 3 cc / 2)``): one centre is benzene, two adjacent ones
    naphthalene. Every carbon with two carbon neighbours gets a hydrogen pointing outward.
    The molecule lies in z = 0 with its centroid at the origin.
    """
    centers = np.asarray(centers, dtype=float).reshape(-1, 2)
    angles = np.deg2rad(30 + 60 * np.arange(6))
    corners = cc * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    vertices = (centers[:, None, :] + corners[None]).reshape(-1, 2)
    # shared corners of neighbouring hexagons coincide: merge them on a 0.01 Å grid
    _, first = np.unique(np.round(vertices / 0.01).astype(np.int64), axis=0, return_index=True)
    c_xy = vertices[np.sort(first)]
    tree = cKDTree(c_xy)
    pairs = tree.query_pairs(1.1 * cc, output_type="ndarray")
    degree = np.bincount(pairs.ravel(), minlength=len(c_xy))
    neighbor_sum = np.zeros_like(c_xy)
    np.add.at(neighbor_sum, pairs[:, 0], c_xy[pairs[:, 1]])
    np.add.at(neighbor_sum, pairs[:, 1], c_xy[pairs[:, 0]])
    edge = np.flatnonzero(degree == 2)
    outward = c_xy[edge] - neighbor_sum[edge] / 2.0
    h_xy = c_xy[edge] + ch * outward / np.linalg.norm(outward, axis=1, keepdims=True)
    xy = np.concatenate([c_xy, np.array(h_xy).reshape(-1, 2)])
    pos = np.column_stack([xy, np.zeros(len(xy))])
    mol = Atoms(numbers=[6] * len(c_xy) + [1] * len(h_xy), positions=pos)
    mol.positions -= mol.positions.mean(0)
    return mol


def honeycomb_centers(rings: int, *, cc: float = CC_BOND) -> np.ndarray:
    """Hexagon centres of a hexagonal flake: ``rings`` shells of hexagons around one."""
    a1 = np.array([np.sqrt(3) * cc, 0.0])
    a2 = np.array([np.sqrt(3) * cc / 2, 1.5 * cc])
    return np.array(
        [
            i * a1 + j * a2
            for i in range(-rings, rings + 1)
            for j in range(-rings, rings + 1)
            if max(abs(i), abs(j), abs(i + j)) <= rings
        ]
    )


def graphene_flake(rings: int = 2, *, cc: float = CC_BOND, ch: float = CH_BOND) -> Atoms:
    """Hydrogen-terminated hexagonal flake made of ``rings`` shells of hexagons around one.

    ``rings=0`` is benzene (C6H6), 1 coronene (C24H12), 2 circumcoronene (C54H18), 3 C96H24.
    """
    if rings < 0:
        raise ValueError(f"rings must be >= 0, got {rings}")
    return polyaromatic(honeycomb_centers(rings, cc=cc), cc=cc, ch=ch)


def graphene_ribbon(
    length: float = 9.0, width: float = 3.0, *, cc: float = CC_BOND, ch: float = CH_BOND
) -> Atoms:
    """Hydrogen-terminated elongated flake of the hexagons centred in a rectangle.

    The hexagon centres of the honeycomb lattice with ``|x| <= length`` and ``|y| <= width``
    (Å) make the flake.

    The default is C68H24 (23 hexagons in rows of 8, 7 and 8; 21.6 × 9.3 Å with its
    hydrogens): larger than circumcoronene and far longer than it is wide, so that a molecule
    over its middle has flake atoms up to 11 Å away along the long axis.
    """
    if length <= 0 or width < 0:
        raise ValueError(f"length must be > 0 and width >= 0, got {length}, {width}")
    span = int(np.ceil(max(length, width) / cc)) + 2
    centers = honeycomb_centers(2 * span, cc=cc)
    keep = (np.abs(centers[:, 0]) <= length + 1e-6) & (np.abs(centers[:, 1]) <= width + 1e-6)
    return polyaromatic(centers[keep], cc=cc, ch=ch)


def graphene_sheet(
    nx: int = 4, ny: int = 4, *, vacuum: float = 10.0, a: float = np.sqrt(3) * CC_BOND
) -> Atoms:
    """Periodic graphene (pbc in x and y; ``vacuum`` Å above and below) with nx × ny cells."""
    if int(nx) < 1 or int(ny) < 1:
        raise ValueError(f"graphene_sheet needs at least one cell each way, got {nx} × {ny}")
    sheet = graphene(formula="C2", a=a, size=(nx, ny, 1), vacuum=vacuum)
    sheet.pbc = (True, True, False)
    return sheet


def place_molecule(
    mol: Atoms | str,
    substrate: Atoms,
    height: float,
    *,
    offset: tuple[float, float] = (0.0, 0.0),
    rotation: float = 0.0,
    tilt: float = 0.0,
) -> Atoms:
    """Put ``mol`` (an ``Atoms`` or an ASE molecule name) above a substrate lying in its xy plane.

    The molecule's centroid ends ``height`` Å above the substrate's mean z, laterally at the
    substrate centroid plus ``offset``; it is first laid flat (its plane normal along z),
    rotated by ``rotation`` degrees about z and tilted by ``tilt`` degrees about x.
    Returns substrate + molecule, keeping the substrate's cell and periodicity.

    Raises:
        ValueError: an unknown molecule name, or a height that is not a positive number.
    """
    if not (np.isfinite(height) and height > 0):
        raise ValueError(f"height must be a positive number of Å above the substrate, got {height}")
    if isinstance(mol, str):
        try:
            mol = molecule(mol)
        except KeyError:
            raise ValueError(
                f"unknown molecule {mol!r}: give an Atoms or a name from ASE's g2 collection "
                "(ase.collections.g2.names), such as 'H2O', 'C6H6' or 'CH3CONH2'"
            ) from None
    else:
        mol = mol.copy()
    mol.positions -= mol.positions.mean(0)
    if len(mol) >= 3:
        _, _, vt = np.linalg.svd(mol.positions)
        normal = vt[2]
        if np.linalg.norm(np.cross(normal, [0, 0, 1])) > 1e-8:
            mol.rotate(normal, (0, 0, 1))
    mol.rotate(rotation, "z")
    mol.rotate(tilt, "x")
    center = substrate.positions.mean(0)
    mol.positions += center + np.array([offset[0], offset[1], 0.0])
    mol.positions[:, 2] += height - mol.positions[:, 2].mean() + substrate.positions[:, 2].mean()
    mol.positions[:, 2] -= substrate.positions[:, 2].mean() - center[2]
    complex_ = substrate.copy()
    complex_ += mol
    return complex_


def benzene_on_graphene(height: float = 3.4, *, rings: int = 2) -> Atoms:
    """The demo structure: benzene ``height`` Å above circumcoronene (C54H18)."""
    return place_molecule("C6H6", graphene_flake(rings), height)
