"""The ``peptide-faults`` set: Ac-(Ala)_n-NHMe with one hydrogen bent into a geometry fault.

The folding runs (benchmarks/README.md, "Peptide folding") showed every peptide model walking
into a hole of its energy surface: two hydrogens pressed together (H···H 1.0–1.35 Å), or a
hydrogen folded onto an atom two bonds away (a bond angle near 70°). The MD and relaxation
sets never come that close (closest H···H 1.52 Å, no 1–3 pair below 81 % of its distance), so
each model extrapolates there, downhill. This set puts GFN2-xTB energies and forces on such
geometries, without any model in the loop (so no model under comparison chooses the data):

* each draw is a chain of :func:`muse_explore.reference.peptide_segments.segment_specs`
  (every length n = 4 to 15; helical, PPII and extended segments with jittered angles);
* one hydrogen H, bonded to its parent P, is turned about P (its bond length kept) toward a
  partner atom Q until H···Q is a target distance:

  - a **contact** (half the draws): Q more than two bonds from H, target drawn uniformly in
    :data:`CONTACT_RANGE` (Å), Q drawn among the atoms close enough for the target to be
    reachable by turning H about P alone;
  - a **folded angle**: Q bonded to P (so H–P–Q is a bond angle), target drawn uniformly in
    :data:`FOLDED_RANGE` times the H···Q distance of the undistorted chain;

* the structure is labelled with a GFN2-xTB single point, not relaxed: the data are the wall
  itself, at the depths the runs reached and a little beyond.

``info`` of every structure: ``set``, ``part`` ("peptide"), ``config`` (the draw),
``n_residues``, ``segments``, ``fault`` ("contact" or "folded angle"), ``fault_atoms``
(H, Q) and ``fault_distance`` (Å).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

#: H···Q distances (Å) of the contacts: from a little inside the runs' closest (1.01 Å) to
#: the training sets' edge.
CONTACT_RANGE = (0.95, 1.55)
#: H···Q of the folded angles, as a fraction of the undistorted chain's distance (the runs
#: reached 0.69; the training sets stop at 0.81).
FOLDED_RANGE = (0.6, 0.85)
#: Closest any third atom may come to the moved hydrogen (Å): a draw that would put H onto
#: another atom is drawn again.
MIN_OTHER = 1.0


def _chain(spec: dict) -> Atoms:
    from muse_explore.reference.peptide import alanine_peptide

    return alanine_peptide(spec["residues"], phi=spec["phi"], psi=spec["psi"])


def bend_toward(positions: np.ndarray, h: int, p: int, q: int, target: float) -> np.ndarray:
    """Positions with atom ``h`` turned about ``p`` toward ``q`` until |h - q| = ``target``.

    The bond length |h - p| is kept; ``h`` moves in the plane of h, p and q. Raises
    ``ValueError`` when the target is out of reach (not between |p - q| - |h - p| and the
    present distance).
    """
    pos = np.array(positions, dtype=float)
    r_vec, d_vec = pos[h] - pos[p], pos[q] - pos[p]
    r, big_d = np.linalg.norm(r_vec), np.linalg.norm(d_vec)
    now = np.linalg.norm(pos[h] - pos[q])
    if not (abs(big_d - r) < target <= now):
        raise ValueError(
            f"distance {target:.3f} Å between atoms {h} and {q} is out of reach by turning "
            f"{h} about {p} (from {abs(big_d - r):.3f} to {now:.3f} Å)"
        )
    cos = (r * r + big_d * big_d - target * target) / (2 * r * big_d)
    theta = np.arccos(np.clip(cos, -1.0, 1.0))  # the angle h-p-q that gives the target
    u = d_vec / big_d
    w = r_vec - (r_vec @ u) * u  # the in-plane direction perpendicular to p->q, h's side
    w_norm = np.linalg.norm(w)
    if w_norm < 1e-9:
        raise ValueError(f"atoms {h}, {p} and {q} are collinear: no plane to turn {h} in")
    pos[h] = pos[p] + r * (np.cos(theta) * u + np.sin(theta) * w / w_norm)
    return pos


def fault_specs(n: int, *, seed: int = 6) -> list[dict]:
    """``n`` draws: a chain (cycling over n = 4…15), its moved hydrogen, partner and target.

    Even draws are contacts and odd ones folded angles. A function of ``seed`` alone.
    """
    from muse_explore.reference.peptide import bond_hops, peptide_bonds
    from muse_explore.reference.peptide_segments import segment_specs

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    chains = segment_specs(n, seed=seed)
    specs = []
    for k, chain in enumerate(chains):
        atoms = _chain(chain)
        bonds = peptide_bonds(chain["residues"])
        hops = bond_hops(bonds, len(atoms))
        d = atoms.get_all_distances()
        hydrogens = np.flatnonzero(atoms.numbers == 1)
        kind = "contact" if k % 2 == 0 else "folded angle"
        while True:
            h = int(rng.choice(hydrogens))
            (p,) = np.flatnonzero(hops[h] == 1)
            if kind == "contact":
                target = float(rng.uniform(*CONTACT_RANGE))
                # reachable: |p - q| - |h - p| < target < |h - q|
                ok = (hops[h] > 2) & (d[p] - d[h, p] < target - 0.05) & (d[h] > target)
            else:
                ok = (hops[h] == 2) & (hops[p] == 1)
            candidates = np.flatnonzero(ok)
            if not len(candidates):
                continue
            q = int(rng.choice(candidates))
            if kind == "folded angle":
                target = float(rng.uniform(*FOLDED_RANGE) * d[h, q])
                if target <= d[p, q] - d[h, p] + 0.05:
                    continue
            moved = bend_toward(atoms.positions, h, int(p), q, target)
            others = np.delete(np.linalg.norm(moved - moved[h], axis=1), [h, p, q])
            if others.min() < MIN_OTHER:
                continue  # H would land on a third atom: draw again
            break
        specs.append({
            "config": k, "residues": chain["residues"], "segments": chain["segments"],
            "phi": chain["phi"], "psi": chain["psi"], "fault": kind,
            "atoms": [h, int(p), q], "target": round(target, 4),
        })  # fmt: skip
    return specs


def build_fault_frames(spec: dict) -> list[Atoms]:
    """The one distorted structure of a draw (unlabelled)."""
    atoms = _chain(spec)
    h, p, q = spec["atoms"]
    atoms.positions = bend_toward(atoms.positions, h, p, q, spec["target"])
    atoms.info.update({
        "set": "peptide-faults", "part": "peptide", "config": spec["config"],
        "n_residues": spec["residues"], "segments": spec["segments"], "fault": spec["fault"],
        "fault_atoms": [h, q], "fault_distance": spec["target"],
    })  # fmt: skip
    return [atoms]
