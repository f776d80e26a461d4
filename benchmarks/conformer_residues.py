"""Where along the chain two models' conformational energies differ: a per-residue split.

    OMP_NUM_THREADS=1 python benchmarks/conformer_residues.py --against C0 --models \
        X=/tmp/h/runs/experiments/painn-peptide-c7/best_model.pt \
        C0=/tmp/h/runs/protocol/painn-peptide/best_model.pt \
        C1=/tmp/h/runs/protocol/painn-peptide-seed1/best_model.pt \
        --data sample_data/data/peptide_c7.extxyz.xz sample_data/data/peptide_pure.extxyz.xz

(First ``mkdir -p /tmp/h && git archive 35b34b1 runs/experiments | tar -x -C /tmp/h`` and
``git archive 313d46f runs/protocol | tar -x -C /tmp/h``: the c7 experiment's runs and the
protocol's runs of that time left git; extracted in the repository they would overwrite the
runs now in ``runs/``.)
``benchmarks/conformers.py`` gives each model's error on ΔE(conformation − extended) of
Ac-(Ala)n-NHMe, a sum over the chain. An experiment that adds data (docs/experiments.md)
moves that sum; this script says whether it moves it at the ends of the chain, along it
residue by residue (a local change: the same shift in every interior residue, whatever n), or
in a way that grows with the chain's length beyond that. Each model is evaluated at the
benchmark's GFN2-xTB minima (``benchmarks/conformers_reference.json``, no GFN2-xTB run here)
and its per-atom energies (``results["energies"]`` of the calculator) are summed per residue
(the acetyl cap, alanines 1…n, the N-methyl cap); the gap of each residue is its energy in the
conformation minus its energy in the extended chain. Per-atom energies are the model's own
partition of its energy: only their sum is physical, and the split between neighbouring
residues is not unique (a multiscale model shares coarse nodes' energies among their atoms), so
read the interior mean and the ends, not one residue. Each residue has the same atoms in both
conformations, so per-element energy offsets cancel in a residue's gap.

Printed per n and conformation: GFN2-xTB's gap; each model's gap, its ends (both caps and the
first and last alanine) and its interior mean per residue (alanines 2 to n − 1); and with
``--against LABEL``, each other model's difference from that model, split the same way.

``--data FILES`` adds which Ramachandran basin (``residue_basins``: helix, PPII, strand,
other) the residues of each data file's structures lie in: whether a set puts residues where a
benchmark conformation sits. Seconds per file. Writes ``--out`` (JSON) when given.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np
from _models import model_file, parse_models

ROOT = Path(__file__).resolve().parent
CONFORMERS = ROOT / "conformers_reference.json"
MODELS = {"MuSE": "muse-painn-peptide", "baseline": "painn-peptide"}
BASINS = ("helix", "ppii", "strand", "other")


def residue_gaps(calcs: dict, n: int, conformations, reference: dict) -> dict:
    """Per conformation: GFN2-xTB's gap (meV) and each model's per-residue gap (meV)."""
    from ase import Atoms

    from muse_explore.reference.peptide import residue_of_atoms

    residue = residue_of_atoms(n)

    def per_residue(calc, conf):
        entry = reference[f"{n}/{conf}"]
        atoms = Atoms(numbers=entry["numbers"], positions=entry["positions"])
        atoms.calc = calc
        atoms.get_potential_energy()
        return np.bincount(residue, weights=calc.results["energies"], minlength=n + 2)

    missing = [c for c in ("extended", *conformations) if f"{n}/{c}" not in reference]
    if missing:
        raise SystemExit(f"n = {n}: no GFN2-xTB minimum for {missing} in {CONFORMERS.name} "
                         "(run benchmarks/conformers.py first)")  # fmt: skip
    out = {}
    for label, calc in calcs.items():
        ext = per_residue(calc, "extended")
        for conf in conformations:
            gap = 1000.0 * (per_residue(calc, conf) - ext)
            out.setdefault(conf, {})[label] = gap.tolist()
    for conf in conformations:
        ref = 1000.0 * (reference[f"{n}/{conf}"]["energy"] - reference[f"{n}/extended"]["energy"])
        out[conf]["GFN2-xTB"] = ref
    return out


def split(per: np.ndarray) -> tuple[float, float, float]:
    """(total, ends, interior mean per residue) of a per-residue array for caps + n residues."""
    n = len(per) - 2
    return float(per.sum()), float(per[[0, 1, n, n + 1]].sum()), float(per[2:n].mean())


def basin_census(path: Path) -> dict:
    """How many residues of a data file's structures lie in each Ramachandran basin."""
    from muse_explore.analysis.peptide import residue_basins
    from muse_explore.training.dataset import read_structures

    structures = read_structures([path])
    counts = Counter()
    for atoms in structures:
        counts.update(residue_basins(atoms))
    return {"structures": len(structures), **{b: counts.get(b, 0) for b in BASINS}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="*", default=None,
                   help="LABEL=pretrained name or best_model.pt (default: the shipped seed-0 "
                        "peptide models)")  # fmt: skip
    p.add_argument("--n", type=int, nargs="+", default=[10, 15], help="benchmark lengths")
    p.add_argument("--conformations", nargs="+", default=["helix", "ppii", "c7"])
    p.add_argument("--against", default=None, help="a label: print the others' differences")
    p.add_argument("--data", type=Path, nargs="*", default=[], help="extxyz files to census")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()

    import muse_explore as mx

    models = parse_models(args.models, MODELS)
    if args.against is not None and args.against not in models:
        raise SystemExit(f"--against {args.against!r} is not one of --models {list(models)}")
    reference = json.loads(CONFORMERS.read_text())
    calcs = {label: mx.load_pretrained(model_file(spec)) for label, spec in models.items()}
    result = {"models": models, "against": args.against, "gaps": {}, "data": {}}
    for n in args.n:
        result["gaps"][str(n)] = residue_gaps(calcs, n, args.conformations, reference)
    for path in args.data:
        result["data"][path.name] = basin_census(path)
    _print(result)
    if args.out is not None:
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(result, indent=1))
        tmp.replace(args.out)
        print(f"wrote {args.out}")


def _print(result: dict) -> None:
    labels, against = list(result["models"]), result["against"]
    for n, confs in result["gaps"].items():
        for conf, gaps in confs.items():
            print(f"\nAc-(Ala){n}-NHMe, ΔE({conf} − extended) at the GFN2-xTB minima, meV "
                  f"(GFN2-xTB: {gaps['GFN2-xTB']:.0f})")  # fmt: skip
            print("| model | gap | error | ends | interior per residue |")
            print("|---|---:|---:|---:|---:|")
            rows = [(k, np.asarray(gaps[k])) for k in labels]
            if against is not None:
                base = np.asarray(gaps[against])
                rows += [(f"{k} − {against}", np.asarray(gaps[k]) - base)
                         for k in labels if k != against]  # fmt: skip
            for name, per in rows:
                total, ends, inner = split(per)
                error = f"{total - gaps['GFN2-xTB']:+.0f}" if name in labels else ""
                print(f"| {name} | {total:+.0f} | {error} | {ends:+.0f} | {inner:+.1f} |")
    print("ends: both caps and the first and last alanine; interior: alanines 2 to n − 1")
    if result["data"]:
        print("\nresidues per Ramachandran basin (residue_basins)")
        print("| file | structures | " + " | ".join(BASINS) + " |")
        print("|---|---:|" + "---:|" * len(BASINS))
        for name, c in result["data"].items():
            print(f"| {name} | {c['structures']} | " + " | ".join(str(c[b]) for b in BASINS)
                  + " |")  # fmt: skip


if __name__ == "__main__":
    main()
