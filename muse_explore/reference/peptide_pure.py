"""The ``peptide-pure`` set: chains all in one conformation, relaxed with GFN2-xTB to their minimum.

``peptide-minima`` relaxes chains of two or three segments to convergence; chains all in one
basin stop after ``peptide-segments``' 16 BFGS steps, because relaxed to convergence at the
conformer benchmark's lengths they would be the benchmark's own structures. Every peptide
model then misses more of the benchmark's last stretch of relaxation on a pure extended strand
than on the strand segments of the mixed chains it trained on (``benchmarks/conformers.py``,
``relaxation``). This set covers pure chains at the lengths the benchmark leaves out:

* each draw is an Ac-(Ala)n-NHMe chain all in one basin of
  :data:`muse_explore.reference.peptide_segments.BASINS` (helix, PPII, extended), with every
  residue's (phi, psi) at the basin centre plus that basin's Gaussian noise (``JITTER``);
  a draw whose atoms more than three bonds apart come closer than ``MIN_DISTANCE`` is drawn
  again;
* the lengths are n = 5, 7, 9, 11, 13 and 14 (:data:`LENGTHS`): inside the benchmark's range
  n = 4…15 but none of its lengths (4, 6, 8, 10, 12, 15), so no benchmark structure is in
  training and n = 15 stays one residue beyond every pure chain relaxed to its minimum
  (``peptide-segments`` and ``peptide-lengths`` hold pure chains at every n, but only
  briefly relaxed or from MD);
* draw ``k`` has length ``LENGTHS[k % 6]`` and basin ``k // 6 % 3`` (helix, PPII,
  extended), so 18 draws hold every length in every basin once;
* the chain is relaxed exactly as ``peptide-minima``'s
  (:func:`muse_explore.reference.peptide_minima.build_minimum_frames`: BFGS, steps of at most
  0.1 Å, to 0.05 eV/Å, the structures after 32, 64 and 128 steps and the last one kept, with
  the energy and forces of the relaxation's own GFN2-xTB call).

``info`` of every structure: as ``peptide-minima``'s (``set`` is "peptide-pure";
``segments`` names the one basin).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

#: Chain lengths (residues): the benchmark's range n = 4…15 without its own lengths.
LENGTHS = (5, 7, 9, 11, 13, 14)
#: The conformer benchmark's lengths, which no draw may have.
BENCHMARK_LENGTHS = (4, 6, 8, 10, 12, 15)


def pure_specs(n: int, *, seed: int = 9) -> list[dict]:
    """``n`` single-basin draws, cycling over :data:`LENGTHS` and then the basins.

    The draws are a function of ``seed`` alone, in :func:`segment_specs`'s form (``config``,
    ``residues``, ``segments``, ``bounds``, ``phi``, ``psi``, ``helix_fraction``).
    """
    from muse_explore.reference.peptide import alanine_peptide, bond_hops, peptide_bonds
    from muse_explore.reference.peptide_segments import BASINS, JITTER, MIN_DISTANCE

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    names = list(BASINS)
    specs = []
    for k in range(n):
        residues = LENGTHS[k % len(LENGTHS)]
        basin = names[k // len(LENGTHS) % len(names)]
        far = bond_hops(peptide_bonds(residues), 10 * residues + 12) > 3
        while True:
            angles = np.array(BASINS[basin]) + JITTER[basin] * rng.normal(size=(residues, 2))
            atoms = alanine_peptide(residues, phi=angles[:, 0], psi=angles[:, 1])
            if atoms.get_all_distances()[far].min() >= MIN_DISTANCE:
                break  # otherwise the chain runs into itself: draw again
        specs.append({
            "config": k, "residues": residues, "segments": basin, "bounds": [0, residues],
            "phi": angles[:, 0].round(3).tolist(), "psi": angles[:, 1].round(3).tolist(),
            "helix_fraction": float(basin == "helix"),
        })  # fmt: skip
    return specs


def build_pure_frames(spec: dict, calc=None) -> list[Atoms]:
    """The kept structures of one draw's GFN2-xTB relaxation, as ``peptide-minima``'s."""
    from muse_explore.reference.peptide_minima import build_minimum_frames

    return build_minimum_frames(spec, calc=calc, set_name="peptide-pure")


def generate_pure_set(out, *, n: int = 36, seed: int = 9, progress: bool = True, jobs: int = 1):
    """Generate (or resume) the ``peptide-pure`` set into ``out``; 3 draws per checkpoint."""
    from muse_explore.reference.peptide_minima import generate_relaxed_set

    specs = pure_specs(n, seed=seed)
    return generate_relaxed_set(
        "peptide-pure", specs, build_pure_frames, out, n=n, seed=seed, chunk=3,
        progress=progress, jobs=jobs,
    )  # fmt: skip
