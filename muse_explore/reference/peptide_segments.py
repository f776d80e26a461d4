"""The ``peptide-segments`` set: Ac-(Ala)_n-NHMe chains made of helical, PPII and extended runs.

The MD-based peptide sets start every run from one ideal conformation and run it for a
fraction of a picosecond, so each length is seen in three conformations only. This set draws
many conformations at every length n = 4 to 15 (:data:`LENGTHS`) instead, without any model in
the loop (so no model under comparison chooses the data):

* the chain is cut into one to three segments of at least :data:`MIN_SEGMENT` residues at
  random residues, and each segment is put in one basin of the Ramachandran map
  (:data:`BASINS`: α helix, polyproline II, β strand; drawn with :data:`BASINS_P`, and
  neighbouring segments in different basins), so the set holds pure helices and strands as
  well as partly folded chains, the conformations that a folding run passes through;
* every residue's (phi, psi) is the basin centre plus Gaussian noise (:data:`JITTER`);
* a draw whose atoms more than three bonds apart come closer than :data:`MIN_DISTANCE` Å is
  redrawn (a chain that runs into itself);
* the chain, built with ideal bond lengths and angles, is relaxed by a few BFGS steps with
  GFN2-xTB (:data:`RELAX_STEPS`), and the structures after the steps in :data:`KEEP` (or the
  last one, should BFGS converge earlier) are the data: strained, half-relaxed and nearly
  relaxed geometries of the same conformation, each with the energy and forces of the
  relaxation's own GFN2-xTB call (a fresh calculator per draw).

``info`` of every structure: ``set``, ``part`` ("peptide"), ``config`` (the draw),
``n_residues``, ``segments`` (the basins, N- to C-terminus, e.g. "helix-extended"),
``relax_step`` and ``helix_fraction`` of the draw.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

#: Chain lengths (residues): every length of the conformer benchmark's range.
LENGTHS = tuple(range(4, 16))
#: Ramachandran basins: name -> (phi, psi) centre in degrees (as
#: :func:`muse_explore.reference.peptide.alanine_peptide` builds them).
BASINS = {"helix": (-57.0, -47.0), "ppii": (-75.0, 145.0), "extended": (-135.0, 135.0)}
#: How often a segment is drawn in each basin (neighbouring segments always differ).
BASINS_P = {"helix": 0.4, "ppii": 0.3, "extended": 0.3}
#: Fewest residues in one segment (an α helix needs four for its first i <- i+4 H-bond).
MIN_SEGMENT = 3
#: Gaussian noise on every phi and psi, degrees, per basin. The helix gets less: its
#: i <- i+4 H-bonds (H···O 2.1 Å in the ideal helix) close up fast under larger noise.
JITTER = {"helix": 6.0, "ppii": 10.0, "extended": 10.0}
#: Closest allowed distance (Å) between atoms more than three bonds apart.
MIN_DISTANCE = 1.6
#: BFGS steps of the GFN2-xTB pre-relaxation, and the steps whose structures are kept.
RELAX_STEPS = 16
KEEP = (2, 6, 16)


def segment_specs(n: int, *, seed: int = 5, lengths: tuple[int, ...] = LENGTHS) -> list[dict]:
    """``n`` draws (chain length, segments, per-residue phi and psi), cycling over ``lengths``.

    Draw ``k`` has ``lengths[k % len(lengths)]`` residues, so every length gets the same
    number of draws (to within one). The draws are a function of ``seed`` alone.
    """
    from muse_explore.reference.peptide import alanine_peptide, bond_hops, peptide_bonds

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = np.random.default_rng(seed)
    names = list(BASINS)
    far: dict[int, np.ndarray] = {}  # residues -> mask of atom pairs > 3 bonds apart
    specs = []
    while len(specs) < n:
        residues = int(lengths[len(specs) % len(lengths)])
        if residues not in far:
            far[residues] = bond_hops(peptide_bonds(residues), 10 * residues + 12) > 3
        bounds = _segment_bounds(residues, rng)
        basins = []
        for _ in range(len(bounds) - 1):  # neighbouring segments lie in different basins
            p = np.array([0.0 if basins and b == basins[-1] else w for b, w in BASINS_P.items()])
            basins.append(names[rng.choice(len(names), p=p / p.sum())])
        segs = list(zip(basins, bounds[:-1], bounds[1:], strict=True))
        centre = np.concatenate([np.tile(BASINS[b], (hi - lo, 1)) for b, lo, hi in segs])
        jitter = np.concatenate([np.full((hi - lo, 1), JITTER[b]) for b, lo, hi in segs])
        angles = centre + jitter * rng.normal(size=centre.shape)
        atoms = alanine_peptide(residues, phi=angles[:, 0], psi=angles[:, 1])
        d = atoms.get_all_distances()
        if d[far[residues]].min() < MIN_DISTANCE:
            continue  # the chain runs into itself: draw again
        specs.append({
            "config": len(specs), "residues": residues, "segments": "-".join(basins),
            "bounds": bounds, "phi": angles[:, 0].round(3).tolist(),
            "psi": angles[:, 1].round(3).tolist(),
            "helix_fraction": sum(hi - lo for b, lo, hi in segs if b == "helix") / residues,
        })  # fmt: skip
    return specs


def _segment_bounds(residues: int, rng: np.random.Generator) -> list[int]:
    """Residue bounds ``[0, ..., residues]`` of one to three segments.

    Every segment has at least :data:`MIN_SEGMENT` residues (so a short chain gets fewer).
    """
    most = min(3, residues // MIN_SEGMENT)
    segments = int(rng.integers(1, most + 1))
    while True:
        cuts = sorted(rng.choice(np.arange(1, residues), size=segments - 1, replace=False))
        bounds = [0, *map(int, cuts), residues]
        if min(np.diff(bounds)) >= MIN_SEGMENT:
            return bounds


def relax_keeping(
    spec: dict, set_name: str, keep: tuple[int, ...], *, fmax: float, max_steps: int, calc=None
) -> list[Atoms]:
    """Relax one draw's chain with BFGS (step at most 0.1 Å) and keep structures along the way.

    The chain of ``spec`` (:func:`segment_specs`'s form) is relaxed to ``fmax`` (eV/Å) in at
    most ``max_steps`` steps; the structures after the steps in ``keep`` are kept, and the one
    where the relaxation stopped if that is not among them. ``calc`` relaxes and labels (a
    fresh GFN2-xTB calculator by default, so that a draw's labels do not depend on the draws
    before it): each kept structure carries the energy and forces of the relaxation's own
    call at that geometry, and ``info`` names ``set_name`` and the draw.
    """
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.optimize import BFGS

    from muse_explore.reference.peptide import alanine_peptide
    from muse_explore.reference.xtb import gfn2_calculator

    atoms = alanine_peptide(spec["residues"], phi=spec["phi"], psi=spec["psi"])
    work = Atoms(atoms.numbers, positions=atoms.positions)
    work.calc = calc if calc is not None else gfn2_calculator()
    opt = BFGS(work, logfile=None, maxstep=0.1)
    frames = []

    def keep_frame(step: int) -> None:
        frame = Atoms(work.numbers, positions=work.positions.copy())
        frame.calc = SinglePointCalculator(
            frame, energy=work.get_potential_energy(), forces=work.get_forces().copy()
        )
        frame.info.update({
            "set": set_name, "part": "peptide", "config": spec["config"],
            "n_residues": spec["residues"], "segments": spec["segments"],
            "relax_step": int(step), "helix_fraction": spec["helix_fraction"],
        })  # fmt: skip
        frames.append(frame)

    # irun yields once before the first step and once after every step
    for step, _ in enumerate(opt.irun(fmax=fmax, steps=max_steps)):
        if step in keep:
            keep_frame(step)
    if opt.nsteps not in keep:  # where it stopped: converged early, or the last step allowed
        keep_frame(opt.nsteps)
    return frames


def build_segment_frames(spec: dict, calc=None) -> list[Atoms]:
    """The kept structures of one draw's brief GFN2-xTB relaxation, with their labels.

    :data:`RELAX_STEPS` BFGS steps, kept after the steps in :data:`KEEP` (see
    :func:`relax_keeping`; ``calc`` defaults to a fresh GFN2-xTB calculator).
    """
    return relax_keeping(
        spec, "peptide-segments", KEEP, fmax=0.05, max_steps=RELAX_STEPS, calc=calc
    )


def generate_segment_set(out, *, n: int = 360, seed: int = 5, progress: bool = True, jobs: int = 1):
    """Generate (or resume) the ``peptide-segments`` set into ``out``; 10 draws per checkpoint."""
    from muse_explore.reference.generate import generate

    specs = segment_specs(n, seed=seed)
    command = f"muse-explore make-data peptide-segments --n {n} --seed {seed}"
    meta = {"set": "peptide-segments", "n": n, "seed": seed, "command": command}
    return generate(
        specs,
        build_segment_frames,
        out,
        chunk=10,
        meta=meta,
        progress=progress,
        labelled=True,
        jobs=jobs,
    )
