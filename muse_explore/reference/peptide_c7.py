"""The ``peptide-c7`` set: chains with γ turns (C7eq), relaxed with GFN2-xTB to their minimum.

In the gas phase a strand of alanines lowers its energy by turning residue after residue into
the C7eq conformation (φ, ψ about −83°, 69°): the N–H of residue i + 1 bonds to the C=O of
residue i − 1, a seven-membered ring per residue (a γ turn; a chain of them is the 2.2₇
ribbon). GFN2-xTB puts the all-C7 chain 0.23 eV (n = 4) to 0.69 eV (n = 15) below the extended
strand. Langevin runs from the strand at 300 K walk there: the folding benchmark's baseline run
(``benchmarks/folding.py``, seed 0) has 13 to 15 of its 15 residues in C7eq at every frame
that ``benchmarks/gamma_turns.py`` samples in its last 30 ps. The other peptide sets are built
from the helix, PPII and extended basins, and no structure in them has more than two C7eq
residues; the peptide models trained on them bind the all-C7 chain too strongly: all five
shipped ones by 0.17–0.89 eV at n = 15, and all but one of the retrained ones by 0.56–0.77
eV (docs/experiments.md). This set covers it:

* draw ``k`` has length ``LENGTHS[k % 6]`` (n = 5, 7, 9, 11, 13, 14, as ``peptide-pure``: none
  of the conformer benchmark's lengths) and kind ``k // 6 % 2``: a chain all in C7eq, or two
  segments, one C7eq and one extended (in random order, at least two residues each), so
  that the set holds the ribbon and the way into it; 36 draws hold every length and kind three
  times;
* every residue's (φ, ψ) is its basin's centre plus Gaussian noise (``JITTER``), a draw
  whose atoms more than three bonds apart come closer than ``MIN_DISTANCE`` is drawn again;
* the chain is relaxed exactly as ``peptide-minima``'s
  (:func:`muse_explore.reference.peptide_minima.build_minimum_frames`: BFGS, steps of at most
  0.1 Å, to 0.05 eV/Å, the structures after 32, 64 and 128 steps and the last one kept, with
  the energy and forces of the relaxation's own GFN2-xTB call).

``info`` of every structure: as ``peptide-minima``'s (``set`` is "peptide-c7"; ``segments``
names the basins in chain order, such as "c7" or "extended-c7").
"""

from __future__ import annotations

import numpy as np

from muse_explore.reference.peptide import CONFORMATIONS
from muse_explore.reference.peptide_pure import LENGTHS

#: The C7eq basin's centre (φ, ψ), degrees, where the chains start (GFN2-xTB relaxes an all-C7
#: Ac-(Ala)15-NHMe from there to about (−84°, 66°)).
C7 = CONFORMATIONS["c7"]
#: The two kinds of draw: all C7eq, or a C7eq and an extended segment.
KINDS = ("c7", "c7+extended")
#: Gaussian noise on every φ and ψ, degrees (as the extended and PPII basins').
JITTER = 10.0
#: Fewest residues in a segment of a two-segment draw.
MIN_SEGMENT = 2


def c7_specs(n: int, *, seed: int = 11) -> list[dict]:
    """``n`` draws cycling over :data:`LENGTHS` and then :data:`KINDS`.

    The draws are a function of ``seed`` alone, in
    :func:`muse_explore.reference.peptide_segments.segment_specs`'s form (``config``,
    ``residues``, ``segments``, ``bounds``, ``phi``, ``psi``, ``helix_fraction``).
    """
    from muse_explore.reference.peptide import alanine_peptide, bond_hops, peptide_bonds
    from muse_explore.reference.peptide_segments import BASINS, MIN_DISTANCE

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    specs = []
    for k in range(n):
        residues = LENGTHS[k % len(LENGTHS)]
        if KINDS[k // len(LENGTHS) % len(KINDS)] == "c7":
            names, bounds = ["c7"], [0, residues]
        else:
            names = ["c7", "extended"] if rng.random() < 0.5 else ["extended", "c7"]
            cut = int(rng.integers(MIN_SEGMENT, residues - MIN_SEGMENT + 1))
            bounds = [0, cut, residues]
        centre = np.concatenate([
            np.tile(C7 if b == "c7" else BASINS[b], (hi - lo, 1))
            for b, lo, hi in zip(names, bounds[:-1], bounds[1:], strict=True)
        ])  # fmt: skip
        far = bond_hops(peptide_bonds(residues), 10 * residues + 12) > 3
        while True:
            angles = centre + JITTER * rng.normal(size=(residues, 2))
            atoms = alanine_peptide(residues, phi=angles[:, 0], psi=angles[:, 1])
            if atoms.get_all_distances()[far].min() >= MIN_DISTANCE:
                break  # otherwise the chain runs into itself: draw again
        specs.append({
            "config": k, "residues": residues, "segments": "-".join(names), "bounds": bounds,
            "phi": angles[:, 0].round(3).tolist(), "psi": angles[:, 1].round(3).tolist(),
            "helix_fraction": 0.0,
        })  # fmt: skip
    return specs


def build_c7_frames(spec: dict, calc=None) -> list:
    """The kept structures of one draw's GFN2-xTB relaxation, as ``peptide-minima``'s."""
    from muse_explore.reference.peptide_minima import build_minimum_frames

    return build_minimum_frames(spec, calc=calc, set_name="peptide-c7")


def generate_c7_set(out, *, n: int = 36, seed: int = 11, progress: bool = True, jobs: int = 1):
    """Generate (or resume) the ``peptide-c7`` set into ``out``; 3 draws per checkpoint."""
    from muse_explore.reference.peptide_minima import generate_relaxed_set

    specs = c7_specs(n, seed=seed)
    return generate_relaxed_set(
        "peptide-c7", specs, build_c7_frames, out, n=n, seed=seed, chunk=3,
        progress=progress, jobs=jobs,
    )  # fmt: skip
