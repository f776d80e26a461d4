"""Checks that turn bad structures into clear errors before any tensor is built."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols

from muse_explore.errors import MuSEInputError

#: Two atoms (or an atom and its own periodic image) closer than this are "on top of each other".
MIN_DISTANCE = 0.3  # Å
#: A periodic cell needing more images than this along one axis is too small for the cutoff.
MAX_IMAGES_PER_AXIS = 40
#: Atoms per Å³ of diamond, the densest solid at ambient pressure.
DIAMOND_NUMBER_DENSITY = 0.176
#: A fully periodic cell denser than this (about three times diamond) is refused: no force field
#: trained at ambient pressure means anything there, and the usual cause is a cell in nm.
MAX_NUMBER_DENSITY = 0.5  # atoms / Å³


def validate_atoms(
    atoms: Atoms,
    cutoff: float | None = None,
    elements: Sequence[str] | None = None,
    min_distance: float = MIN_DISTANCE,
    overlaps: bool = True,
) -> None:
    """Raise :class:`MuSEInputError` naming the problem if ``atoms`` cannot be evaluated.

    Checks, in order: the structure is not empty; atomic numbers are real elements (and among
    ``elements`` if given); positions are finite; periodic cells are non-degenerate; a fully
    periodic cell holds no more than :data:`MAX_NUMBER_DENSITY` atoms per Å³; no periodic cell
    is absurdly small for ``cutoff``; no two atoms (or an atom and its periodic image) are
    closer than ``min_distance`` (``overlaps=False`` leaves this last check to a caller that
    has the pair distances already: it calls :func:`check_overlaps` when one is short).
    """
    if not isinstance(atoms, Atoms):
        raise MuSEInputError(f"expected an ase.Atoms object, got {type(atoms).__name__}")
    n = len(atoms)
    if n == 0:
        raise MuSEInputError("empty structure: the Atoms object has no atoms")
    z = atoms.numbers
    bad = np.flatnonzero((z < 1) | (z >= len(chemical_symbols)))
    if bad.size:
        raise MuSEInputError(
            f"unknown element: atom {bad[0]} has atomic number {z[bad[0]]}, which is not an element"
        )
    if elements is not None:
        allowed = set(elements)
        unknown = sorted({chemical_symbols[k] for k in z} - allowed)
        if unknown:
            idx = int(np.flatnonzero(np.isin(atoms.get_chemical_symbols(), unknown))[0])
            raise MuSEInputError(
                f"unknown element {', '.join(unknown)} (first at atom {idx}): this model knows "
                f"only {', '.join(elements)}"
            )
    pos = atoms.positions
    nonfinite = np.flatnonzero(~np.isfinite(pos).all(axis=1))
    if nonfinite.size:
        what = "NaN" if np.isnan(pos[nonfinite[0]]).any() else "infinite"
        raise MuSEInputError(
            f"{what} coordinates: atom {nonfinite[0]} ({atoms[nonfinite[0]].symbol}) has position "
            f"{pos[nonfinite[0]].tolist()} ({nonfinite.size} atom(s) affected)"
        )
    pbc = atoms.pbc
    if pbc.any():
        cell = np.asarray(atoms.cell)
        if not np.isfinite(cell).all():
            raise MuSEInputError("the cell contains NaN or infinite entries")
        lengths = np.linalg.norm(cell, axis=1)
        flat = np.flatnonzero(pbc & (lengths < 1e-6))
        if flat.size:
            raise MuSEInputError(
                f"cell too small: lattice vector {flat[0]} has zero length but the structure is "
                f"periodic along it"
            )
        volume = abs(np.linalg.det(cell))
        if volume < 1e-6:
            raise MuSEInputError(
                "cell too small: the lattice vectors are linearly dependent (zero volume); give "
                "a full 3D cell, with vacuum along non-periodic directions"
            )
        density = n / volume
        if pbc.all() and density > MAX_NUMBER_DENSITY:
            raise MuSEInputError(
                f"cell too dense: {n} atom(s) in a {volume:.3g} Å³ periodic cell is "
                f"{density:.2f} atoms/Å³, {density / DIAMOND_NUMBER_DENSITY:.1f} times diamond "
                f"(the densest solid at ambient pressure; limit {MAX_NUMBER_DENSITY}); is the "
                f"cell in Å?"
            )
        if cutoff is not None:
            heights = volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
            images = np.where(pbc, cutoff / heights, 0.0)
            worst = int(np.argmax(images))
            if images[worst] > MAX_IMAGES_PER_AXIS:
                raise MuSEInputError(
                    f"cell too small for the cutoff: the cell is {heights[worst]:.3g} Å thick "
                    f"along axis {worst}, so a {cutoff:g} Å cutoff would need "
                    f"{images[worst]:.0f} periodic images (limit {MAX_IMAGES_PER_AXIS})"
                )
    if overlaps:
        check_overlaps(atoms, min_distance)


def check_overlaps(atoms: Atoms, min_distance: float = MIN_DISTANCE) -> None:
    """Raise :class:`MuSEInputError` naming two atoms closer than ``min_distance``."""
    from muse_explore.data.neighbors import neighbor_list

    cell = np.asarray(atoms.cell) if atoms.pbc.any() else np.zeros((3, 3))
    edge_index, shifts = neighbor_list(atoms.positions, cell, atoms.pbc, min_distance)
    if edge_index.shape[1] == 0:
        return
    j, i = edge_index
    k = int(np.argmin(i * len(atoms) + j))
    a, b = int(i[k]), int(j[k])
    d = np.linalg.norm(atoms.positions[b] - atoms.positions[a] + shifts[k] @ cell)
    if a == b:
        raise MuSEInputError(
            f"cell too small: atom {a} ({atoms[a].symbol}) is {d:.3g} Å from its own periodic "
            f"image (minimum {min_distance} Å)"
        )
    raise MuSEInputError(
        f"atoms on top of each other: atoms {a} ({atoms[a].symbol}) and {b} ({atoms[b].symbol}) "
        f"are {d:.3g} Å apart (minimum {min_distance} Å)"
    )
