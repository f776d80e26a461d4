"""The peptide reference set: Ac-(Ala)_6-NHMe sampled by GFN2-xTB Langevin MD.

Runs start from the extended chain, the α-helix and the polyproline-II chain and are thermostatted
at elevated temperatures, so that the frames cover folded (helical, hydrogen-bonded) and
unfolded conformations. Frames carry the energies and forces of the MD's own GFN2-xTB calls.
Each run is one checkpointed job of :func:`muse_explore.reference.generate.generate`; a fresh
calculator per run keeps the runs reproducible.
"""

from __future__ import annotations

import os

import numpy as np

#: Default residues of the capped peptide (72 atoms).
RESIDUES = 6
#: (start conformation, temperature K) of the runs, cycled.
RUN_PLAN = (("extended", 500.0), ("helix", 400.0), ("ppii", 600.0), ("helix", 600.0),
            ("extended", 700.0), ("helix", 500.0))  # fmt: skip


def run_specs(
    runs: int,
    *,
    seed: int = 3,
    steps: int = 2000,
    sample_every: int = 20,
    timestep: float = 0.5,
    residues: int = RESIDUES,
) -> list[dict]:
    """Specifications of ``runs`` MD runs (start, temperature, seed, length)."""
    rng = np.random.default_rng(seed)
    specs = []
    for k in range(runs):
        start, temperature = RUN_PLAN[k % len(RUN_PLAN)]
        specs.append({
            "run": k, "start": start, "temperature": temperature, "steps": int(steps),
            "sample_every": int(sample_every), "timestep": float(timestep),
            "residues": int(residues), "seed": int(rng.integers(2**31)),
        })  # fmt: skip
    return specs


def run_md(spec: dict) -> list:
    """The labelled frames of one run (a fresh GFN2-xTB calculator)."""
    from muse_explore.reference.peptide import alanine_peptide, peptide_md
    from muse_explore.reference.xtb import gfn2_calculator

    atoms = alanine_peptide(spec["residues"], conformation=spec["start"])
    frames = peptide_md(
        atoms, gfn2_calculator(), temperature=spec["temperature"], steps=spec["steps"],
        timestep=spec["timestep"], sample_every=spec["sample_every"], seed=spec["seed"],
    )  # fmt: skip
    for f in frames:
        f.info.pop("backbone", None)  # rebuilt from the atom count (backbone_indices)
        f.info.update({"set": "peptide", "part": "peptide", "run": spec["run"],
                       "start": spec["start"]})  # fmt: skip
    return frames


def generate_peptide_set(
    out: str | os.PathLike,
    *,
    runs: int = 6,
    seed: int = 3,
    steps: int = 2000,
    progress: bool = True,
):
    """Generate (or resume) the peptide set into ``out``; one checkpoint per run."""
    from muse_explore.reference.generate import generate

    specs = run_specs(runs, seed=seed, steps=steps)
    meta = {"set": "peptide", "n": runs, "seed": seed, "steps": steps,
            "command": f"muse-explore make-data peptide --n {runs} --seed {seed}"}  # fmt: skip
    return generate(specs, run_md, out, chunk=1, meta=meta, progress=progress, labelled=True)
