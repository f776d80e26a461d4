"""Why the reference's E_int turns repulsive at 6–12 Å: GFN2-xTB against GFN1-xTB (tblite).

    python benchmarks/reference_bump.py     # about a minute on 2 cores

Benzene above circumcoronene (C54H18), the geometry of the explorer's scans, at heights from
3.4 to 14 Å: E_int = E(complex) − E(flake) − E(benzene) in meV with both tight-binding
methods. GFN2-xTB adds anisotropic electrostatics (atomic dipole and quadrupole moments) and
D4 dispersion to GFN1-xTB's isotropic charges and D3. Benzene and graphene both carry a
negative out-of-plane quadrupole (their π clouds), and two such quadrupoles stacked face to
face repel; in GFN2-xTB this outweighs the dispersion between about 6 and 12 Å. GFN1-xTB,
without multipoles, stays attractive all the way. The models fit GFN2-xTB, bump included.
"""

from __future__ import annotations

import json
from pathlib import Path

HEIGHTS = (3.4, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0, 14.0)
OUT = Path(__file__).resolve().parent / "reference_bump.json"


def e_int(method: str) -> list[float]:
    """E_int (meV) of benzene on C54H18 at :data:`HEIGHTS` with one tblite method."""
    from ase.build import molecule
    from tblite.ase import TBLite

    from muse_explore.reference import graphene_flake, place_molecule

    def energy(atoms):
        a = atoms.copy()
        a.calc = TBLite(method=method, verbosity=0)
        return a.get_potential_energy()

    flake = graphene_flake(2)
    parts = energy(flake) + energy(molecule("C6H6"))
    return [1000 * (energy(place_molecule("C6H6", flake, h)) - parts) for h in HEIGHTS]


def main() -> None:
    """Print the table and write reference_bump.json."""
    rows = {method: e_int(method) for method in ("GFN2-xTB", "GFN1-xTB")}
    print("E_int of benzene above circumcoronene (meV), tblite")
    print(f"{'height (Å)':>12}" + "".join(f"{h:>8g}" for h in HEIGHTS))
    for method, values in rows.items():
        print(f"{method:>12}" + "".join(f"{v:>+8.1f}" for v in values))
    OUT.write_text(json.dumps({"heights": HEIGHTS, "e_int_meV": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
