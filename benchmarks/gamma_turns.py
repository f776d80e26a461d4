"""γ turns (C7eq): how many the peptide data hold, and the models' error along a run into them.

    OMP_NUM_THREADS=1 python benchmarks/gamma_turns.py                      # the shipped models
    OMP_NUM_THREADS=1 python benchmarks/gamma_turns.py --models \\
        MuSE=runs/protocol/muse-painn-peptide/best_model.pt ...            # any model files

In the gas phase a strand of alanines lowers its energy by turning its residues, one after
another, into C7eq (φ, ψ about −83°, 69°): a γ turn, the N–H after the residue bonded to the
C=O before it. ``benchmarks/conformers.py`` compares the all-C7 chain with the extended strand
at relaxed geometries; this script looks at the folding runs, which walk there.

1. **Coverage**: per peptide training set, the structures with 0, 1, 2 and 3 or more residues
   in the C7eq window of the Ramachandran map (−120° < φ < −50°, 40° < ψ < 110°).
2. **A run into γ turns**: a folding trajectory (``--trajectory``; default the baseline's
   seed-0 run in ``benchmarks/folding/``), every
   10th frame (1 ps apart, so every 10 ps from 1 ps) and the last: its C7eq residues, its backbone
   H-bonds, GFN2-xTB's energy (cached beside this script in ``gamma_turns_reference.json``, by
   the trajectory file's sha256 and frame) and each model's error relative to the first frame
   (1 ps into the run, still a strand), its spread over the frames and its least-squares slope
   against the H-bonds (meV per H-bond). A model that binds a γ turn more than GFN2-xTB does
   drifts down with every turn the run forms.

Writes nothing but the cache; prints two tables. A few minutes to read the sets, then about
1 minute per model (162 atoms, 11 frames) and 20 s of GFN2-xTB once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
from _models import DATA, calculator, parse_models

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "gamma_turns_reference.json"
MODELS = {"MuSE": "muse-painn-peptide", "baseline": "painn-peptide", "LES": "painn-lr-peptide"}
SETS = ("peptide", "peptide_lengths", "peptide_segments", "peptide_faults",
        "peptide_ramachandran", "peptide_minima", "peptide_pure", "peptide_c7")  # fmt: skip
RUN = "folding/baseline-n15-seed0-100ps.extxyz.xz"


def c7_residues(atoms) -> int:
    """How many residues of an Ac-(Ala)n-NHMe frame lie in the C7eq basin
    (:data:`muse_explore.analysis.peptide.C7_PHI`, ``C7_PSI``)."""
    from muse_explore.analysis import c7_fraction
    from muse_explore.reference.peptide import residue_count

    return round(c7_fraction(atoms) * residue_count(atoms))


def coverage() -> None:
    from ase.io import iread

    print("C7eq residues per structure in the peptide sets: structures with 0 / 1 / 2 / ≥ 3")
    print("| set | structures | 0 | 1 | 2 | ≥ 3 | most |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in SETS:
        path = DATA / f"{name}.extxyz.xz"
        if not path.exists():
            continue
        counts = np.array([c7_residues(a) for a in iread(path)])
        bins = [int((counts == k).sum()) for k in (0, 1, 2)] + [int((counts >= 3).sum())]
        print(f"| {name} | {len(counts)} | " + " | ".join(map(str, bins)) +
              f" | {counts.max()} |")  # fmt: skip


def along_run(trajectory: Path, models: dict[str, str]) -> None:
    from ase.io import read

    from muse_explore.analysis.peptide import backbone_hbonds

    frames = read(trajectory, index=":")
    pick = sorted(set(range(0, len(frames), 10)) | {len(frames) - 1})
    key = hashlib.sha256(trajectory.read_bytes()).hexdigest()[:16]
    cache = json.loads(CACHE.read_text()) if CACHE.is_file() else {}
    ref = cache.setdefault(key, {"trajectory": str(trajectory.name), "energies": {}})["energies"]
    if any(str(i) not in ref for i in pick):
        from muse_explore.atomic import atomic_open
        from muse_explore.reference.xtb import gfn2_calculator

        calc = gfn2_calculator()
        for i in pick:
            if str(i) not in ref:
                work = frames[i].copy()
                work.calc = calc
                ref[str(i)] = float(work.get_potential_energy())
                with atomic_open(CACHE) as fh:
                    fh.write(json.dumps(cache, indent=1) + "\n")
    gfn2 = np.array([ref[str(i)] for i in pick])
    hb = np.array([len(backbone_hbonds(frames[i])) for i in pick])
    c7 = [c7_residues(frames[i]) for i in pick]
    errors = {}
    for label, spec in models.items():
        calc = calculator(spec)
        energies = []
        for i in pick:
            work = frames[i].copy()
            work.calc = calc
            energies.append(work.get_potential_energy())
        err = 1000 * (np.array(energies) - gfn2)
        errors[label] = err - err[0]  # relative to the first frame, still a strand
    print(f"\n{trajectory.name}: each model's energy error relative to the first frame, meV")
    print("| time (ps) | C7eq residues | backbone H-bonds | "
          + " | ".join(models) + " |")  # fmt: skip
    print("|---:|---:|---:|" + "---:|" * len(models))
    for k, i in enumerate(pick):
        cells = " | ".join(f"{errors[m][k]:+.0f}" for m in models)
        time_ps = frames[i].info.get("time_ps", i)
        print(f"| {time_ps:g} | {c7[k]} | {hb[k]} | {cells} |")
    slope = {m: float(np.polyfit(hb, e, 1)[0]) for m, e in errors.items()}
    print("| spread (sd) | | | " + " | ".join(f"{errors[m].std():.0f}" for m in models) + " |")
    print("| per H-bond | | | " + " | ".join(f"{slope[m]:+.1f}" for m in models) + " |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=None,
                   help=f"labels from {list(MODELS)} or LABEL=NAME_OR_PATH")  # fmt: skip
    p.add_argument("--trajectory", default=None, help=f"a folding run's trajectory ({RUN})")
    args = p.parse_args()
    coverage()
    trajectory = Path(args.trajectory) if args.trajectory else ROOT / RUN
    if not trajectory.exists():
        raise SystemExit(f"no trajectory at {trajectory}: run benchmarks/folding.py first")
    along_run(trajectory, parse_models(args.models, MODELS))


if __name__ == "__main__":
    main()
