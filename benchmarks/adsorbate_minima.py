"""Where each graphene model puts an adsorbate's minimum on the flake, against GFN2-xTB's.

    OMP_NUM_THREADS=1 python benchmarks/adsorbate_minima.py           # about 5 min
    OMP_NUM_THREADS=1 python benchmarks/adsorbate_minima.py --models MuSE LES --out /tmp/am

The Hessian benchmark (``hessian.py``) takes every model's Hessian at GFN2-xTB's minimum of
benzene, pyridine and water on the relaxed circumcoronene held fixed. Its six intermolecular
modes include three soft ones, the adsorbate sliding and spinning on the flake, which GFN2-xTB
puts within a few tens of cm⁻¹ of zero: their curvature is the flake's corrugation under the
adsorbate, a few meV. A model whose own minimum lies elsewhere has forces at GFN2-xTB's
minimum, and its curvature there need not be that of a minimum (imaginary soft modes).

This script asks how far off each model's minimum is. For every shipped graphene model (or
``--models``; every training seed, mean ± sd) and each of the three adsorbates, starting from
GFN2-xTB's minimum with the flake held fixed, it reports the model's largest force on the
adsorbate there, then relaxes the adsorbate with the model (BFGS to 5 meV/Å, float64) and
reports the energy the model gains, the shift of the adsorbate's centre of mass along the
sheet and normal to it, the largest atom displacement (to the nearest start position of an
atom of the same element, so that a symmetric spin counts as none), and what GFN2-xTB says
the model's
minimum costs (its energy there above its own minimum, one single point each). Writes
benchmarks/adsorbate_minima.json (or ``--out``.json).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _models import (
    DATA,
    calculator,
    graphene_labels,
    parse_models,
    pm,
    seed_models,
)

ROOT = Path(__file__).resolve().parent
ADSORBATES = ("benzene", "pyridine", "water")
FMAX = 0.005  # eV/Å
QUANTITIES = {
    "force_at_reference": ("largest force at GFN2-xTB's minimum", "meV/Å", 1000.0),
    "energy_gain": ("model energy gained by relaxing", "meV", 1000.0),
    "lateral_shift": ("centre of mass, along the sheet", "Å", 1.0),
    "normal_shift": ("centre of mass, normal to the sheet", "Å", 1.0),
    "largest_displacement": (
        "largest atom displacement, to any start position of its element",
        "Å",
        1.0,
    ),
    "reference_cost": ("GFN2-xTB energy of the model's minimum above its own", "meV", 1000.0),
}


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


def relax_adsorbate(atoms, indices, calc, reference_energy: float, reference_calc) -> dict:
    """The model's minimum of ``indices`` (the rest fixed), from the atoms' positions (eV, Å)."""
    from ase.constraints import FixAtoms
    from ase.optimize import BFGS

    a = atoms.copy()
    a.calc = calc
    free = set(int(i) for i in indices)
    a.set_constraint(FixAtoms([i for i in range(len(a)) if i not in free]))
    forces = a.get_forces(apply_constraint=False)[indices]
    e0 = a.get_potential_energy()
    if not BFGS(a, logfile=None).run(fmax=FMAX, steps=500):
        raise RuntimeError(f"the model's relaxation did not reach {FMAX} eV/Å in 500 steps")
    moved = a.positions[indices] - atoms.positions[indices]
    normal = sheet_normal(np.delete(atoms.positions, indices, axis=0))
    com = moved.mean(axis=0)
    along = float(abs(com @ normal))
    ref = a.copy()
    ref.set_constraint()
    ref.calc = reference_calc
    return {
        "force_at_reference": float(np.abs(forces).max()),
        "energy_gain": float(e0 - a.get_potential_energy()),
        "lateral_shift": float(np.sqrt(max(com @ com - along**2, 0.0))),
        "normal_shift": along,
        "largest_displacement": largest_displacement(
            atoms.positions[indices], a.positions[indices], atoms.numbers[indices]
        ),
        "reference_cost": float(ref.get_potential_energy() - reference_energy),
    }


def main() -> None:
    known = graphene_labels()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=None,
                   help=f"labels from {list(known)} or LABEL=NAME_OR_PATH; "
                        "default: every shipped one")  # fmt: skip
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
