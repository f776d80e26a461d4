"""The peptide reference sets: Ac-(Ala)_n-NHMe sampled by GFN2-xTB Langevin MD.

``peptide`` (n = 6): runs start from the extended chain, the α-helix and the polyproline-II
chain and are thermostatted at elevated temperatures, so that the frames cover folded
(helical, hydrogen-bonded) and unfolded conformations.

``peptide-lengths`` (n = 4 to 15, :data:`LENGTHS`): one shorter run per length and start
conformation, at 300, 450 or 600 K in turn, so that the data span the chain lengths and
basins of the helix-against-extended benchmark (``benchmarks/conformers.py``), whose helix
macrodipole grows with n.

Frames carry the energies and forces of the MD's own GFN2-xTB calls. Each run is one
checkpointed job of :func:`muse_explore.reference.generate.generate`; a fresh calculator
per run keeps the runs reproducible.
"""

from __future__ import annotations

import os

import numpy as np

#: Default residues of the capped peptide (72 atoms).
RESIDUES = 6
#: (start conformation, temperature K) of the runs, cycled.
RUN_PLAN = (("extended", 500.0), ("helix", 400.0), ("ppii", 600.0), ("helix", 600.0),
            ("extended", 700.0), ("helix", 500.0))  # fmt: skip


#: Chain lengths of the ``peptide-lengths`` set (the conformer benchmark's).
LENGTHS = (4, 6, 8, 10, 12, 15)
#: Start conformations and thermostat temperatures (K) of the ``peptide-lengths`` runs.
STARTS = ("extended", "helix", "ppii")
TEMPERATURES = (300.0, 450.0, 600.0)


def length_run_specs(
    runs: int,
    *,
    seed: int = 4,
    steps: int = 600,
    sample_every: int = 20,
    timestep: float = 0.5,
    lengths: tuple[int, ...] = LENGTHS,
) -> list[dict]:
    """Specifications of the ``peptide-lengths`` runs.

    Run ``k = i + j * len(lengths)`` takes the length ``lengths[i]``, the start
    ``STARTS[j % 3]`` and the temperature ``TEMPERATURES[(i + j) % 3]``, so the first
    ``3 * len(lengths)`` runs (18 by default) cover every length and start once, and every
    length at each of the three temperatures.
    """
    rng = np.random.default_rng(seed)
    specs = []
    for k in range(runs):
        i, j = k % len(lengths), k // len(lengths)
        specs.append({
            "run": k, "start": STARTS[j % len(STARTS)],
            "temperature": TEMPERATURES[(i + j) % len(TEMPERATURES)], "steps": int(steps),
            "sample_every": int(sample_every), "timestep": float(timestep),
            "residues": int(lengths[i]), "seed": int(rng.integers(2**31)),
        })  # fmt: skip
    return specs


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
        f.info.update({"set": spec.get("set", "peptide"), "part": "peptide",
                       "run": spec["run"], "start": spec["start"],
                       "n_residues": spec["residues"]})  # fmt: skip
    return frames


def generate_peptide_set(
    out: str | os.PathLike,
    *,
    runs: int = 6,
    seed: int = 3,
    steps: int | None = None,
    lengths: bool = False,
    progress: bool = True,
    jobs: int = 1,
):
    """Generate (or resume) a peptide set into ``out``; one checkpoint per run.

    ``lengths=False``: the ``peptide`` set (Ac-(Ala)6-NHMe, 2,000 steps per run by default);
    ``True``: the ``peptide-lengths`` set (:func:`length_run_specs`, 600 steps per run).
    """
    from muse_explore.reference.generate import generate

    name = "peptide-lengths" if lengths else "peptide"
    if lengths:
        specs = length_run_specs(runs, seed=seed, **({} if steps is None else {"steps": steps}))
    else:
        specs = run_specs(runs, seed=seed, **({} if steps is None else {"steps": steps}))
    for spec in specs:
        spec["set"] = name
    steps = specs[0]["steps"] if specs else steps
    meta = {"set": name, "n": runs, "seed": seed, "steps": steps,
            "command": f"muse-explore make-data {name} --n {runs} --seed {seed}"}  # fmt: skip
    return generate(specs, run_md, out, chunk=1, meta=meta, progress=progress, labelled=True,
                    jobs=jobs)  # fmt: skip
