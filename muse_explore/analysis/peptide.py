"""Observables of capped alanine peptides Ac-(Ala)_n-NHMe: size, shape, H-bonds, helix content.

Every function takes one frame (an ``Atoms``) in the fixed atom order of
:func:`muse_explore.reference.peptide.alanine_peptide`. The indices come from
``info["backbone"]`` when the frame carries it, otherwise they are rebuilt from
``info["n_residues"]`` or from the atom count (10 n + 12), so frames read back from any file
format work. Lengths in Å, angles in degrees.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from muse_explore.reference.peptide import backbone_indices, dihedral_angles, residue_count

__all__ = [
    "backbone_hbonds",
    "backbone_indices",
    "count_backbone_hbonds",
    "end_to_end_distance",
    "helix_fraction",
    "peptide_indices",
    "radius_of_gyration",
    "residue_basins",
]


def peptide_indices(atoms: Atoms) -> dict[str, list[int]]:
    """Named atom indices of a peptide frame (see :func:`backbone_indices` for the keys).

    Args:
        atoms: an Ac-(Ala)_n-NHMe frame.

    Returns:
        ``info["backbone"]`` if present, else :func:`backbone_indices` of the residue count.
    """
    n = residue_count(atoms)
    stored = atoms.info.get("backbone")
    if isinstance(stored, dict):
        return {key: [int(i) for i in np.atleast_1d(val)] for key, val in stored.items()}
    return backbone_indices(n)


def end_to_end_distance(atoms: Atoms) -> float:
    """Distance (Å) from the acetyl carbonyl C to the N-methyl N.

    These two atoms bound the n residues' backbone, C_(-1)–N_n in the phi/psi definitions,
    so the distance measures the chain proper, not the orientation of the cap methyls.

    Args:
        atoms: an Ac-(Ala)_n-NHMe frame.

    Returns:
        The distance in Å.
    """
    idx = peptide_indices(atoms)
    return float(atoms.get_distance(idx["C"][0], idx["N"][-1]))


def radius_of_gyration(atoms: Atoms, heavy_only: bool = True) -> float:
    r"""Unweighted radius of gyration :math:`R_g = \sqrt{\langle |r_i - \bar r|^2 \rangle}`, Å.

    Args:
        atoms: a peptide frame (any molecule works: no indices are needed).
        heavy_only: average over the non-hydrogen atoms only.

    Returns:
        :math:`R_g` in Å.
    """
    pos = atoms.positions[atoms.numbers > 1] if heavy_only else atoms.positions
    return float(np.sqrt(((pos - pos.mean(0)) ** 2).sum(1).mean()))


def backbone_hbonds(
    atoms: Atoms, *, max_ho: float = 2.5, min_angle: float = 120.0
) -> list[tuple[int, int, int]]:
    """Backbone N–H···O=C hydrogen bonds by a geometric criterion.

    Donors are every amide N–H (the n residues and the N-methyl cap), acceptors every carbonyl
    O (the acetyl cap and the n residues). A pair counts when d(H···O) <= ``max_ho`` and the
    angle N–H···O >= ``min_angle``. With ``N[k]`` donating to ``O[m]`` (lists of
    :func:`backbone_indices`) the bond spans k + 1 − m residues (acetyl = 0): 4 for the α
    helix (i ← i+4), 3 for a 3₁₀ turn, 2 for a γ turn, 0 for the C5 contact within one
    residue of an extended chain, which the angle cut removes (N–H···O is 90–100° there).

    Args:
        atoms: an Ac-(Ala)_n-NHMe frame.
        max_ho: largest H···O distance, Å.
        min_angle: smallest N–H···O angle, degrees.

    Returns:
        ``(donor_N, H, acceptor_O)`` atom index triples, sorted by donor then acceptor.
    """
    idx = peptide_indices(atoms)
    donors, hydrogens, acceptors = (np.array(idx[k]) for k in ("N", "H", "O"))
    pos = atoms.positions
    h_to_o = pos[acceptors][None, :, :] - pos[hydrogens][:, None, :]
    h_to_n = (pos[donors] - pos[hydrogens])[:, None, :]
    dist = np.linalg.norm(h_to_o, axis=-1)
    cos = (h_to_o * h_to_n).sum(-1) / (dist * np.linalg.norm(h_to_n, axis=-1))
    angle = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    k, m = np.nonzero((dist <= max_ho) & (angle >= min_angle))
    return [
        (int(donors[a]), int(hydrogens[a]), int(acceptors[b])) for a, b in zip(k, m, strict=True)
    ]


def count_backbone_hbonds(atoms: Atoms, *, max_ho: float = 2.5, min_angle: float = 120.0) -> int:
    """Number of backbone H-bonds of :func:`backbone_hbonds` with the same criteria.

    Args:
        atoms: an Ac-(Ala)_n-NHMe frame.
        max_ho: largest H···O distance, Å.
        min_angle: smallest N–H···O angle, degrees.

    Returns:
        The count.
    """
    return len(backbone_hbonds(atoms, max_ho=max_ho, min_angle=min_angle))


#: The right-handed α basin of the Ramachandran map used by :func:`helix_fraction`, degrees: a
#: box around the ideal α helix (φ, ψ = −57°, −47°) that excludes PPII (−75°, 145°), the β
#: strand (−135°, 135°) and the left-handed region (φ > 0).
HELIX_PHI = (-100.0, -30.0)
HELIX_PSI = (-80.0, -5.0)


def helix_fraction(atoms: Atoms, *, phi=HELIX_PHI, psi=HELIX_PSI) -> float:
    """Fraction of residues whose backbone (φ, ψ) lie in the α basin.

    A dihedral criterion, so it needs no H-bond cut-offs and counts a residue as helical as soon
    as its backbone turns, before the i ← i+4 H-bond closes (:func:`backbone_hbonds` sees
    those).

    Args:
        atoms: an Ac-(Ala)_n-NHMe frame.
        phi: (lowest, highest) φ of the basin, degrees.
        psi: (lowest, highest) ψ of the basin, degrees.

    Returns:
        A number in [0, 1]: 1 for the ideal α helix, 0 for the extended and PPII chains.
    """
    return _basin_fraction(atoms, phi, psi, closed=True)


def _basin_fraction(atoms: Atoms, phi, psi, *, closed: bool) -> float:
    """Fraction of residues with φ in ``phi`` and ψ in ``psi`` (closed or open intervals)."""
    phis, psis = dihedral_angles(atoms)
    if closed:
        inside = (phis >= phi[0]) & (phis <= phi[1]) & (psis >= psi[0]) & (psis <= psi[1])
    else:
        inside = (phis > phi[0]) & (phis < phi[1]) & (psis > psi[0]) & (psis < psi[1])
    return float(inside.mean())


#: The C7eq basin used by :func:`c7_fraction`, degrees: a box around the γ turn (φ, ψ ≈ −83°,
#: 69°): the N-H after the residue bonded to the C=O before it, a seven-membered ring; a chain
#: of them is the 2.2₇ ribbon. Its top edge (ψ 90°–110°) overlaps the foot of the PPII basin of
#: :func:`residue_basins`, which has no C7 basin of its own.
C7_PHI = (-120.0, -50.0)
C7_PSI = (40.0, 110.0)


def c7_fraction(atoms: Atoms, *, phi=C7_PHI, psi=C7_PSI) -> float:
    """Fraction of residues whose backbone (φ, ψ) lie in the C7eq (γ-turn) basin.

    As :func:`helix_fraction`, a dihedral criterion, but with open bounds: 1 for a chain of γ
    turns (``alanine_peptide(n, conformation="c7")``), 0 for the helix, the strand and PPII.
    """
    return _basin_fraction(atoms, phi, psi, closed=False)


#: The polyproline II basin of :func:`residue_basins`, degrees: around (−75°, 145°), φ above the
#: strand's bound, ψ from 90° round through 180° to −150°.
PPII_PHI = (-110.0, -45.0)
#: The β strand's basin of :func:`residue_basins`: φ below this (φ above 150° counts as
#: φ − 360°, the fully extended chain), ψ as PPII's (the β basin's centre near (−135°, 135°)
#: and the flat C5 region near (−160°, 170°)).
STRAND_PHI_BELOW = -110.0
#: ψ of the PPII and strand basins: from the first value round through 180° to the second.
UPPER_PSI = (90.0, -150.0)


def residue_basins(atoms: Atoms) -> list[str]:
    """Each residue's basin of the Ramachandran map: ``helix``, ``ppii``, ``strand`` or ``other``.

    ``helix`` is :func:`helix_fraction`'s α box; ``ppii`` is φ in :data:`PPII_PHI` and
    ``strand`` φ below :data:`STRAND_PHI_BELOW` (φ above 150° wrapped to φ − 360°), both with
    ψ from 90° through 180° to −150° (:data:`UPPER_PSI`), which holds the extended strand as
    built and as GFN2-xTB relaxes it, flattening toward C5; anything else is ``other``.

    Args:
        atoms: an Ac-(Ala)_n-NHMe frame.

    Returns:
        One name per residue, N- to C-terminus.
    """
    phis, psis = dihedral_angles(atoms)
    out = []
    for phi, psi in zip(phis, psis, strict=True):
        phi = phi - 360.0 if phi > 150.0 else phi
        upper = psi >= UPPER_PSI[0] or psi <= UPPER_PSI[1]
        if HELIX_PHI[0] <= phi <= HELIX_PHI[1] and HELIX_PSI[0] <= psi <= HELIX_PSI[1]:
            out.append("helix")
        elif PPII_PHI[0] <= phi <= PPII_PHI[1] and upper:
            out.append("ppii")
        elif phi < STRAND_PHI_BELOW and upper:
            out.append("strand")
        else:
            out.append("other")
    return out
