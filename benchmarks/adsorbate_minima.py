"""Where each graphene model puts an adsorbate's minimum on the flake, against GFN2-xTB's.

    OMP_NUM_THREADS=1 python benchmarks/adsorbate_minima.py           # about 6 min
    OMP_NUM_THREADS=1 python benchmarks/adsorbate_minima.py --models MuSE LES --out /tmp/am

The Hessian benchmark (``hessian.py``) takes every model's Hessian at GFN2-xTB's minimum of
benzene, pyridine and water on the relaxed circumcoronene held fixed. Its six intermolecular
modes include three soft ones, the adsorbate sliding and spinning on the flake, which GFN2-xTB
puts within a few tens of cm⁻¹ of zero: their curvature is the flake's corrugation under the
adsorbate, a few meV. A model whose own minimum lies elsewhere has forces at GFN2-xTB's
minimum, and its curvature there need not be that of a minimum (imaginary soft modes).

This script asks how far off each model's minimum is. For every shipped graphene model (or
``--models``; every training seed, mean ± sd) and each of the three adsorbates, starting from
GFN2-xTB's minimum with the flake held fixed, it reports the model's largest atom force and
net force on the adsorbate there and its lowest intermolecular frequency (autograd Hessian,
imaginary as negative), then relaxes the adsorbate with the model (BFGS to 1 meV/Å, float64)
and reports the energy the model gains, the shift of the adsorbate's (mass-weighted) centre
along the sheet and normal to it, its rotation (the best rigid fit), the largest atom
displacement (to the nearest start position of an atom of the same element, so that a
symmetric spin counts as none), the lowest frequency at the model's own minimum, and what
GFN2-xTB says the model's minimum costs: its energy there above its own minimum, and the same
for GFN2-xTB's own molecule moved rigidly to the model's position and orientation, which
leaves out the model's errors in the molecule's own shape. GFN2-xTB's minima are relaxed to
2 meV/Å and their softest mode is imaginary for all three adsorbates: costs within about a
meV of zero are within that uncertainty. Writes benchmarks/adsorbate_minima.json (or
``--out``.json).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _models import (
    DATA,
    add_graphene_models,
    calculator,
    graphene_labels,
    parse_models,
    pm,
    seed_models,
)

ROOT = Path(__file__).resolve().parent
ADSORBATES = ("benzene", "pyridine", "water")
FMAX = 0.001  # eV/Å: looser stops on the flat slides and spins short of the minimum
QUANTITIES = {
    "force_at_reference": ("largest atom force at GFN2-xTB's minimum", "meV/Å", 1000.0),
    "net_force_at_reference": ("net force on the adsorbate there", "meV/Å", 1000.0),
    "energy_gain": ("model energy gained by relaxing", "meV", 1000.0),
    "lateral_shift": ("centre of mass, along the sheet", "Å", 1.0),
    "normal_shift": ("centre of mass, normal to the sheet", "Å", 1.0),
    "spin": ("rotation of the adsorbate", "°", 1.0),
    "largest_displacement": ("largest atom displacement, to any start position of its element",
                             "Å", 1.0),
    "reference_cost": ("GFN2-xTB energy of the model's minimum above its own", "meV", 1000.0),
    "rigid_cost": ("the same for GFN2-xTB's molecule moved rigidly there", "meV", 1000.0),
    "lowest_at_reference": ("lowest intermolecular frequency at GFN2-xTB's minimum", "cm⁻¹",
                            1.0),
    "lowest_at_own": ("lowest intermolecular frequency at the model's minimum", "cm⁻¹", 1.0),
}  # fmt: skip


def sheet_normal(positions: np.ndarray) -> np.ndarray:
    """The flake's normal: the direction of least spread of its atoms."""
    centred = positions - positions.mean(axis=0)
    return np.linalg.svd(centred, full_matrices=False)[2][-1]


def largest_displacement(start: np.ndarray, end: np.ndarray, numbers: np.ndarray) -> float:
    """The largest distance from an atom's end position to the nearest start position of an
    atom of its element: a benzene spun by 60° onto itself has moved by zero."""
    worst = 0.0
    for z in set(numbers.tolist()):
        same = numbers == z
        d = np.linalg.norm(end[same][:, None, :] - start[same][None, :, :], axis=-1)
        worst = max(worst, float(d.min(axis=1).max()))
    return worst


def rigid_fit(start: np.ndarray, end: np.ndarray, weights: np.ndarray):
    """The rotation R and the centres (c0, c1) that move ``start`` rigidly closest to ``end``
    (mass-weighted Kabsch): ``(start - c0) @ R.T + c1``."""
    w = weights / weights.sum()
    c0, c1 = w @ start, w @ end
    u, _, vt = np.linalg.svd(((start - c0) * w[:, None]).T @ (end - c1))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rotation = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return rotation, c0, c1


def lowest_frequency(calc, atoms, indices) -> float:
    """The lowest of the adsorbate's frequencies (cm⁻¹, imaginary negative) with the flake
    frozen, from the model's autograd Hessian."""
    import muse_explore as mx
    from muse_explore.analysis.vibrations import frequencies

    h = mx.hessian(calc, atoms, indices=indices)
    return float(np.min(frequencies(h, atoms, indices)))


def relax_adsorbate(atoms, indices, calc, reference_energy: float, reference_calc) -> dict:
    """The model's minimum of ``indices`` (the rest fixed), from the atoms' positions (eV, Å)."""
    from ase.constraints import FixAtoms
    from ase.optimize import BFGS

    indices = np.asarray(indices)
    a = atoms.copy()
    a.calc = calc
    free = set(int(i) for i in indices)
    a.set_constraint(FixAtoms([i for i in range(len(a)) if i not in free]))
    forces = a.get_forces(apply_constraint=False)[indices]
    lowest_ref = lowest_frequency(calc, a, indices)
    e0 = a.get_potential_energy()
    if not BFGS(a, logfile=None).run(fmax=FMAX, steps=2000):
        raise RuntimeError(f"the model's relaxation did not reach {FMAX} eV/Å in 2000 steps")
    start, end = atoms.positions[indices], a.positions[indices]
    rotation, c0, c1 = rigid_fit(start, end, atoms.get_masses()[indices])
    normal = sheet_normal(np.delete(atoms.positions, indices, axis=0))
    com = c1 - c0  # the shift of the mass-weighted centre
    normal_part = float(abs(com @ normal))
    cost = {}
    rigid = (start - c0) @ rotation.T + c1
    for key, positions in (("reference_cost", end), ("rigid_cost", rigid)):
        probe = atoms.copy()
        probe.positions[indices] = positions
        probe.calc = reference_calc
        cost[key] = float(probe.get_potential_energy() - reference_energy)
    cos = np.clip((np.trace(rotation) - 1.0) / 2.0, -1.0, 1.0)
    return {
        "force_at_reference": float(np.linalg.norm(forces, axis=1).max()),
        "net_force_at_reference": float(np.linalg.norm(forces.sum(axis=0))),
        "energy_gain": float(e0 - a.get_potential_energy()),
        "lateral_shift": float(np.sqrt(max(com @ com - normal_part**2, 0.0))),
        "normal_shift": normal_part,
        "spin": float(np.degrees(np.arccos(cos))),
        "largest_displacement": largest_displacement(start, end, atoms.numbers[indices]),
        **cost,
        "lowest_at_reference": lowest_ref,
        "lowest_at_own": lowest_frequency(calc, a, indices),
    }


def main() -> None:
    known = graphene_labels()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_graphene_models(p, known, files=True)
    p.add_argument("--out", default=str(ROOT / "adsorbate_minima"))
    args = p.parse_args()
    import torch

    from muse_explore.reference.minima import minimum
    from muse_explore.reference.xtb import gfn2_calculator

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    models = parse_models(args.models, known)
    seeds = {label: seed_models(spec) for label, spec in models.items()}
    result = {"models": models, "seeds": seeds, "fmax_eV_per_A": FMAX, "adsorbates": {}}
    for name in ADSORBATES:
        m = minimum(f"{name}/circumcoronene", folder=DATA / "minima")
        reference = gfn2_calculator()
        start = m.atoms.copy()
        start.calc = reference
        reference_energy = start.get_potential_energy()
        per_label = {}
        for label, names in seeds.items():
            runs = [relax_adsorbate(m.atoms, m.indices, calculator(n), reference_energy,
                                    gfn2_calculator()) for n in names]  # fmt: skip
            per_label[label] = {q: [r[q] for r in runs] for q in QUANTITIES}
        result["adsorbates"][name] = per_label
        print(f"{name} on circumcoronene (GFN2-xTB minimum, flake fixed):", flush=True)
        print("| model | " + " | ".join(f"{t} ({u})" for t, u, _ in QUANTITIES.values()) + " |")
        print("|---|" + "---:|" * len(QUANTITIES))
        for label, d in per_label.items():
            cells = [pm(np.asarray(d[q]) * scale, ".2f" if unit == "Å" else ".1f")
                     for q, (_, unit, scale) in QUANTITIES.items()]  # fmt: skip
            print(f"| {label} | " + " | ".join(cells) + " |")
    out = Path(args.out).with_suffix(".json")
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(out)
    print(f"wrote {out} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
