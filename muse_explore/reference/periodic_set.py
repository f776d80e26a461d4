"""The periodic reference set: a molecule on a periodic graphene sheet, with stress.

The sheet is 5 × 5 graphene cells (50 C) with a molecule above it; the cell is periodic in
all three directions (tblite's GFN2-xTB treats any cell as 3D periodic), with 25 Å along z so
that the molecule's periodic image across the vacuum is more than 14 Å away. Each
configuration applies a small random strain to the cell (so the stress carries information),
a random height, offset, rotation and tilt, and Gaussian displacements of every atom.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms

from muse_explore.reference.structures import graphene_sheet, place_molecule

#: Molecules of the periodic set (names of :func:`muse_explore.reference.small_molecule`).
PERIODIC_MOLECULES = ("benzene", "water", "pyridine")


def sample_specs(
    n: int,
    *,
    seed: int = 2,
    molecules: Sequence[str] = PERIODIC_MOLECULES,
    heights: tuple[float, float] = (2.6, 9.0),
    max_strain: float = 0.01,
    rattle: float = 0.02,
) -> list[dict]:
    """Draw ``n`` random periodic configurations (plain dicts; see :func:`build_periodic`)."""
    rng = np.random.default_rng(seed)
    specs = []
    for k in range(n):
        strain = rng.uniform(-max_strain, max_strain, size=6)
        specs.append(
            {
                "config": k,
                "molecule": str(molecules[rng.integers(len(molecules))]),
                "height": float(rng.uniform(*heights)),
                "offset_x": float(rng.uniform(0, 2.46)),
                "offset_y": float(rng.uniform(0, 2.13)),
                "rotation": float(rng.uniform(0, 360)),
                "tilt": float(rng.uniform(0, 30)),
                "strain": [float(s) for s in strain],
                "rattle": float(rattle),
                "rattle_seed": int(rng.integers(2**31)),
            }
        )
    return specs


def build_periodic(spec: dict, molecules: dict[str, Atoms]) -> list[Atoms]:
    """The strained, displaced sheet-plus-molecule cell of one configuration (unlabelled)."""
    sheet = graphene_sheet(5, 5, vacuum=12.5)
    atoms = place_molecule(
        molecules[spec["molecule"]],
        sheet,
        spec["height"],
        offset=(spec["offset_x"], spec["offset_y"]),
        rotation=spec["rotation"],
        tilt=spec["tilt"],
    )
    atoms.pbc = True
    xx, yy, zz, yz, xz, xy = spec["strain"]
    eps = np.array([[xx, xy / 2, xz / 2], [xy / 2, yy, yz / 2], [xz / 2, yz / 2, zz]])
    atoms.set_cell(atoms.cell.array @ (np.eye(3) + eps), scale_atoms=True)
    rng = np.random.default_rng(spec["rattle_seed"])
    atoms.positions += rng.normal(scale=spec["rattle"], size=atoms.positions.shape)
    atoms.wrap()
    info = {k: v for k, v in spec.items() if k != "strain"}
    atoms.info = {"set": "periodic", "part": "complex", **info}
    return [atoms]
