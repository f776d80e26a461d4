"""Which residues carry a model's miss on a peptide's last stretch of relaxation.

    OMP_NUM_THREADS=1 python benchmarks/relaxation_path.py                 # shipped seed 0, n = 15
    OMP_NUM_THREADS=1 python benchmarks/relaxation_path.py --models \
        MuSE=runs/protocol/muse-painn-peptide/best_model.pt --out /tmp/path.json

``benchmarks/conformers.py`` measures each model's error on the energy drop from the
``peptide-segments`` chains of one conformation (all helix or all extended, after 16 BFGS
steps of GFN2-xTB) to the benchmark's GFN2-xTB minimum of that chain (``relaxation`` in its
JSON), but not where along the chain that error comes from. Here a path runs from each such
chain (rotated and translated onto the minimum, Kabsch) to the minimum, and the error of a
model's energy drop is split into atoms by the work of its force error along the path:

    ΔE_model − ΔE_GFN2-xTB = −∫ (F_model − F_GFN2-xTB) · dx = Σ_i c_i,
    c_i = −∫ (F_model,i − F_GFN2-xTB,i) · dx_i,

with GFN2-xTB and model forces at ``--points`` images (the trapezoidal rule between
consecutive images). The images come from ASE's image-dependent pair potential (IDPP)
interpolation, which keeps bond lengths sensible; a straight line would squeeze the bonds
of a strand whose end swings round, and its forces would swamp the split. Summed over each
residue's atoms (the acetyl cap, alanines 1…n, the N-methyl cap), c says which residues the
model misses. The split depends on the path, its sum does not: the table checks the sum
against the model's error on the drop computed from the two end points' energies (the
difference is the quadrature's error). It also prints, per chain, how far the chain is from
the minimum (RMSD after alignment) and its backbone H-bonds against the minimum's.

GFN2-xTB takes a few seconds per point at n = 15; the forces are computed once per run
(not cached). Writes benchmarks/relaxation_path.json (or ``--out``), with each atom's c.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from _models import DATA, model_file, parse_models
from conformer_residues import split

ROOT = Path(__file__).resolve().parent
CONFORMERS = ROOT / "conformers_reference.json"
SEGMENTS = "peptide_segments.extxyz.xz"
MODELS = {"MuSE": "muse-painn-peptide", "baseline": "painn-peptide"}


def paths(n: int, conformations) -> list[dict]:
    """Per conformation and ``peptide-segments`` chain: the aligned start, the minimum."""
    from ase import Atoms
    from ase.build import minimize_rotation_and_translation

    from muse_explore.analysis.peptide import count_backbone_hbonds
    from muse_explore.training.dataset import read_structures

    ref = json.loads(CONFORMERS.read_text())
    chains = read_structures([DATA / SEGMENTS])
    out = []
    for conf in conformations:
        mine = [a for a in chains
                if int(a.info["n_residues"]) == n and a.info["segments"] == conf]  # fmt: skip
        if not mine:
            raise SystemExit(f"no peptide-segments chain of n = {n} in the {conf} conformation")
        step = max(int(a.info["relax_step"]) for a in mine)
        r = ref[f"{n}/{conf}"]
        end = Atoms(numbers=r["numbers"], positions=r["positions"])
        for k, a in enumerate(x for x in mine if int(x.info["relax_step"]) == step):
            start = Atoms(numbers=a.numbers, positions=a.positions)
            minimize_rotation_and_translation(end, start)
            d = np.linalg.norm(start.positions - end.positions, axis=1)
            out.append({
                "conformation": conf, "chain": k, "relax_step": step,
                "rmsd": float(np.sqrt((d**2).mean())),
                "hbonds": [count_backbone_hbonds(start), count_backbone_hbonds(end)],
                "start": start, "end": end,
            })  # fmt: skip
    return out


def along(path: dict, points: int) -> list:
    """``points`` images from start to end (both included), IDPP-interpolated."""
    from ase.mep.neb import idpp_interpolate

    images = [path["start"].copy() for _ in range(points - 1)] + [path["end"].copy()]
    for k, a in enumerate(images):  # the straight line first, as IDPP's starting guess
        s = k / (points - 1)
        a.positions = (1.0 - s) * path["start"].positions + s * path["end"].positions
    with warnings.catch_warnings():  # ASE's note on its NEB default, not about IDPP
        warnings.simplefilter("ignore", UserWarning)
        idpp_interpolate(images, traj=None, log=None, fmax=0.05, steps=500)
    return images


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="*", default=None,
                   help="LABEL=pretrained name or best_model.pt (default: the shipped seed-0 "
                        "peptide models)")  # fmt: skip
    p.add_argument("--n", type=int, default=15, help="residues (a benchmark length)")
    p.add_argument("--conformations", nargs="*", default=["helix", "extended"])
    p.add_argument("--points", type=int, default=13, help="images along each path")
    p.add_argument("--out", type=Path, default=ROOT / "relaxation_path.json")
    args = p.parse_args()

    import muse_explore as mx
    from muse_explore.calc.evaluate import evaluate_batches
    from muse_explore.reference.peptide import residue_of_atoms
    from muse_explore.reference.xtb import gfn2_calculator

    models = parse_models(args.models, MODELS)
    residue = residue_of_atoms(args.n)
    rows = paths(args.n, args.conformations)
    t0 = time.time()
    for row in rows:
        frames = along(row, args.points)
        calc = gfn2_calculator()
        energies, forces = [], []
        for a in frames:
            a.calc = calc
            energies.append(a.get_potential_energy())
            forces.append(a.get_forces())
        row["frames"], row["ref_forces"] = frames, np.array(forces)
        row["GFN2-xTB"] = 1000.0 * (energies[-1] - energies[0])  # the drop, meV
        print(f"{row['conformation']} chain {row['chain']}: GFN2-xTB along the path "
              f"({time.time() - t0:.0f} s)", flush=True)  # fmt: skip
    for label, spec in models.items():
        model = mx.load_model(model_file(spec))
        for row in rows:
            pred_e, pred_f = [], []
            for _, _, res in evaluate_batches(model, row["frames"], forces=True, batch_size=9):
                pred_e += res["energy"].detach().double().tolist()
                f = res["forces"].detach().double().numpy()
                pred_f += list(f.reshape(len(res["energy"]), -1, 3))
            df = np.array(pred_f) - row["ref_forces"]  # (points, atoms, 3), eV/Å
            x = np.array([a.positions for a in row["frames"]])
            mid = 0.5 * (df[1:] + df[:-1])  # the trapezoidal rule, image to image
            work = -1000.0 * np.einsum("pad,pad->a", mid, np.diff(x, axis=0))  # meV per atom
            row[label] = {
                "error": 1000.0 * (pred_e[-1] - pred_e[0]) - row["GFN2-xTB"],
                "sum": float(work.sum()),
                "per_atom": np.round(work, 2).tolist(),
                "per_residue": np.bincount(residue, weights=work,
                                           minlength=args.n + 2).tolist(),
            }  # fmt: skip
    result = {
        "n": args.n, "points": args.points, "models": list(models),
        "rows": [{k: v for k, v in r.items()
                  if k not in ("start", "end", "frames", "ref_forces")} for r in rows],
    }  # fmt: skip
    _print(result)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(args.out)
    print(f"wrote {args.out}")


def _print(result: dict) -> None:
    n, labels = result["n"], result["models"]
    print(f"\nAc-(Ala){n}-NHMe, IDPP paths from each peptide-segments chain to the "
          f"GFN2-xTB minimum, {result['points']} images; meV")  # fmt: skip
    print("| conformation | chain | RMSD (Å) | H-bonds chain → minimum | GFN2-xTB drop | "
          + " | ".join(f"{k}: error (sum of c)" for k in labels) + " |")  # fmt: skip
    print("|---|---:|---:|---:|---:|" + "---:|" * len(labels))
    for r in result["rows"]:
        print(f"| {r['conformation']} | {r['chain']} | {r['rmsd']:.2f} | "
              f"{r['hbonds'][0]} → {r['hbonds'][1]} | {r['GFN2-xTB']:.0f} | "
              + " | ".join(f"{r[k]['error']:+.0f} ({r[k]['sum']:+.0f})" for k in labels)
              + " |")  # fmt: skip
    names = ["Ace", *[str(i) for i in range(1, n + 1)], "NMe"]
    for conf in dict.fromkeys(r["conformation"] for r in result["rows"]):
        mine = [r for r in result["rows"] if r["conformation"] == conf]
        print(f"\n{conf}: each residue's share of the miss (c summed over its atoms), mean "
              f"over {len(mine)} chains, meV")  # fmt: skip
        print("| model | " + " | ".join(names) + " | ends | interior per residue |")
        print("|---|" + "---:|" * (len(names) + 2))
        for k in labels:
            per = np.mean([r[k]["per_residue"] for r in mine], axis=0)
            _, ends, interior = split(per)
            print(f"| {k} | " + " | ".join(f"{v:+.0f}" for v in per)
                  + f" | {ends:+.0f} | {interior:+.1f} |")  # fmt: skip
    print("ends: both caps and the first and last alanine; interior: alanines 2 to n − 1")


if __name__ == "__main__":
    main()
