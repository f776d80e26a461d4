"""The ``peptide-ramachandran`` set: Ac-(Ala)_n-NHMe with residues anywhere on the Ramachandran map.

The peptide sets sample the helix, PPII and strand basins (MD at 300–700 K, partly relaxed
segment chains) and, since ``peptide-faults``, single hydrogens bent into contacts. None puts
a residue at φ near 0° or at positive φ, and a rigid scan of one residue over the whole map
(``benchmarks/ramachandran.py``) found every peptide model's energy there far below
GFN2-xTB's: about a quarter of the map was a hole that the model itself puts within 0.5 eV
of the chain. One of the earlier folding runs held a residue at (φ, ψ) ≈ (−165°, 0°) with
two amide hydrogens pressed together, a fault that a single bent hydrogen does not teach.
This set puts GFN2-xTB energies and forces on such conformations, without any model in the
loop:

* each draw is a chain of :func:`muse_explore.reference.peptide_segments.segment_specs`
  (every length n = 4 to 15; helical, PPII and extended segments with jittered angles);
* one residue (two thirds of the draws) or two (the rest), chosen at random, get a (φ, ψ)
  drawn uniformly over the whole map;
* a draw that brings two atoms more than two bonds apart within :data:`MIN_CONTACT` is drawn
  again (atoms on top of each other; the wall from there up is in the set);
* the structure is labelled with a GFN2-xTB single point, not relaxed.

``info`` of every structure: ``set``, ``part`` ("peptide"), ``config`` (the draw),
``n_residues``, ``segments``, ``moved`` (the moved residues, 0-based), ``moved_phi`` and
``moved_psi`` (degrees) and ``closest`` (the closest pair more than two bonds apart, Å).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

#: Closest two atoms more than two bonds apart may come (Å): the peptide-faults contacts go to
#: 0.95 Å between hydrogens; closer than this the structure is atoms on top of each other.
MIN_CONTACT = 1.0
#: Tries per draw before giving up (a few per draw are needed: about one in eight overlaps).
MAX_TRIES = 1000
#: Share of draws with one moved residue (the others move two).
ONE_RESIDUE = 2 / 3


def _build(spec: dict) -> Atoms:
    from muse_explore.reference.peptide import alanine_peptide

    return alanine_peptide(spec["residues"], phi=spec["phi"], psi=spec["psi"])


def _closest(atoms: Atoms, far: np.ndarray) -> float:
    return float(atoms.get_all_distances()[far].min())


def ramachandran_specs(n: int, *, seed: int = 7) -> list[dict]:
    """``n`` draws: a segment chain with one or two residues moved anywhere on the map.

    The chains are those of :func:`segment_specs` (cycling over n = 4…15); the moved residues
    get a (φ, ψ) drawn uniformly. A function of ``seed`` alone.
    """
    from muse_explore.reference.peptide import bond_hops, peptide_bonds
    from muse_explore.reference.peptide_segments import segment_specs

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    far: dict[int, np.ndarray] = {}
    specs = []
    for k, chain in enumerate(segment_specs(n, seed=seed)):
        residues = chain["residues"]
        if residues not in far:
            far[residues] = bond_hops(peptide_bonds(residues), 10 * residues + 12) > 2
        count = 1 if rng.random() < ONE_RESIDUE else 2
        for _ in range(MAX_TRIES):
            moved = sorted(int(i) for i in rng.choice(residues, size=count, replace=False))
            angles = rng.uniform(-180.0, 180.0, size=(count, 2))
            phi, psi = list(chain["phi"]), list(chain["psi"])
            for i, (a, b) in zip(moved, angles, strict=True):
                phi[i], psi[i] = float(a), float(b)
            spec = {"config": k, "residues": residues, "segments": chain["segments"],
                    "phi": phi, "psi": psi, "moved": moved}  # fmt: skip
            closest = _closest(_build(spec), far[residues])
            if closest >= MIN_CONTACT:
                break  # otherwise atoms on top of each other: draw again
        else:
            raise RuntimeError(f"draw {k}: no residue angles without overlap in {MAX_TRIES} tries")
        spec["closest"] = round(closest, 4)
        specs.append(spec)
    return specs


def build_ramachandran_frames(spec: dict) -> list[Atoms]:
    """The one structure of a draw (unlabelled)."""
    atoms = _build(spec)
    moved = list(spec["moved"])
    atoms.info.update({
        "set": "peptide-ramachandran", "part": "peptide", "config": spec["config"],
        "n_residues": spec["residues"], "segments": spec["segments"], "moved": moved,
        "moved_phi": [round(spec["phi"][i], 3) for i in moved],
        "moved_psi": [round(spec["psi"][i], 3) for i in moved],
        "closest": spec["closest"],
    })  # fmt: skip
    return [atoms]
