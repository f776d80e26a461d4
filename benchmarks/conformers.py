"""Helix against extended chain: conformational energies of Ac-(Ala)n-NHMe against GFN2-xTB.

    OMP_NUM_THREADS=1 python benchmarks/conformers.py            # references: hours, cached
    OMP_NUM_THREADS=1 python benchmarks/conformers.py --quick    # n = 4 and 6, loose relaxation
    python benchmarks/conformers.py --models MuSE=runs/protocol/muse-painn-peptide/best_model.pt

For n = 4, 6, 8, 10, 12 and 15 residues, the α helix, the polyproline II chain and the
extended β strand (``muse_explore.reference.peptide.alanine_peptide``) are briefly relaxed
with GFN2-xTB (BFGS to 0.05 eV/Å, at most 300 steps: they stay in their basins), and every
model is evaluated at those geometries. Reported per n: ΔE(helix − extended) and ΔE(PPII −
extended) of GFN2-xTB and of each model, the model's error, and the slope of the error against
n (meV per residue, a least-squares line), and whether the model orders the three
conformations as GFN2-xTB does (the conformer ranking). The helix macrodipole grows with n, so
a model that misses long-range interactions should miss the helix's stabilisation more and
more with n.

GFN2-xTB geometries and energies are cached in benchmarks/conformers_reference.json (written
atomically after every structure: a killed run resumes; --recompute redoes them). Writes
benchmarks/conformers.json and benchmarks/conformers.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "conformers_reference.json"
LENGTHS = (4, 6, 8, 10, 12, 15)
CONFORMATIONS = ("extended", "helix", "ppii")
MODELS = {"MuSE": "muse-painn-peptide", "baseline": "painn-peptide", "LES": "painn-lr-peptide"}


def _save(cache: Path, data: dict) -> None:
    from muse_explore.atomic import atomic_open

    with atomic_open(cache) as fh:
        json.dump(data, fh)


def references(lengths, *, fmax: float, steps: int, cache: Path, recompute: bool) -> dict:
    """GFN2-xTB relaxed geometries and energies by "n/conformation" (cached)."""
    from muse_explore.reference.peptide import alanine_peptide
    from muse_explore.reference.xtb import gfn2_calculator, relax

    data = json.loads(cache.read_text()) if cache.is_file() and not recompute else {}
    for n in lengths:
        for conf in CONFORMATIONS:
            key = f"{n}/{conf}"
            if key in data and data[key]["fmax"] <= fmax:
                continue
            t0 = time.perf_counter()
            atoms = relax(alanine_peptide(n, conformation=conf), fmax=fmax, steps=steps)
            atoms.calc = gfn2_calculator()
            energy = float(atoms.get_potential_energy())
            residual = float(np.abs(atoms.get_forces()).max())
            data[key] = {
                "numbers": atoms.numbers.tolist(),
                "positions": atoms.positions.tolist(),
                "energy": energy,
                "fmax": fmax,
                "max_force": residual,
                "seconds": round(time.perf_counter() - t0, 1),
            }
            _save(cache, data)
            print(f"  GFN2-xTB {key}: {len(atoms)} atoms, {data[key]['seconds']:.0f} s, "
                  f"max force {residual:.3f} eV/Å", flush=True)  # fmt: skip
    return data


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="n = 4 and 6, relaxation to 0.2 eV/Å")
    p.add_argument("--recompute", action="store_true", help="redo the GFN2-xTB references")
    p.add_argument("--models", nargs="+", default=None,
                   help=f"labels from {list(MODELS)} or LABEL=NAME_OR_PATH")  # fmt: skip
    args = p.parse_args()
    from ase import Atoms

    import muse_explore as mx
    from muse_explore.pretrained import list_pretrained

    lengths = (4, 6) if args.quick else LENGTHS
    fmax = 0.2 if args.quick else 0.05
    cache = CACHE.with_name("conformers_reference_quick.json") if args.quick else CACHE
    t0 = time.perf_counter()
    ref = references(lengths, fmax=fmax, steps=300, cache=cache, recompute=args.recompute)
    models = {}
    for item in args.models or [k for k, v in MODELS.items() if v in list_pretrained()]:
        label, _, spec = item.partition("=")
        if not spec and label not in MODELS:
            raise SystemExit(f"unknown model label {label!r}; use one of {list(MODELS)}")
        models[label] = spec or MODELS[label]
    calcs = {
        k: mx.load_pretrained(v, dtype="float64") if v in list_pretrained()
        else mx.MuSECalculator(mx.load_model(v), dtype="float64")
        for k, v in models.items()
    }  # fmt: skip
    result = {"models": models, "fmax": fmax, "lengths": list(lengths), "rows": []}
    for n in lengths:
        energies = {"GFN2-xTB": {}}
        for conf in CONFORMATIONS:
            r = ref[f"{n}/{conf}"]
            atoms = Atoms(numbers=r["numbers"], positions=r["positions"])
            energies["GFN2-xTB"][conf] = r["energy"]
            for label, calc in calcs.items():
                work = atoms.copy()
                work.calc = calc
                energies.setdefault(label, {})[conf] = float(work.get_potential_energy())
        row = {"n": n}
        for label, e in energies.items():
            for conf in ("helix", "ppii"):
                row[f"{label}:{conf}"] = 1000 * (e[conf] - e["extended"])  # meV
        result["rows"].append(row)
    summary = {}
    ns = np.array(lengths, dtype=float)
    for label in calcs:
        summary[label] = {}
        for conf in ("helix", "ppii"):
            err = np.array([r[f"{label}:{conf}"] - r[f"GFN2-xTB:{conf}"] for r in result["rows"]])
            slope = float(np.polyfit(ns, err, 1)[0]) if len(ns) > 1 else float("nan")
            summary[label][conf] = {
                "max_abs_error_meV": float(np.abs(err).max()),
                "mean_abs_error_meV": float(np.abs(err).mean()),
                "slope_meV_per_residue": slope,
            }
        # the conformer ranking: the order of extended, helix and PPII by energy, per n
        right = [_order(r, label) == _order(r, "GFN2-xTB") for r in result["rows"]]
        summary[label]["ranking_correct"] = int(sum(right))
        summary[label]["ranking_wrong_at_n"] = [
            r["n"] for r, ok in zip(result["rows"], right, strict=True) if not ok
        ]
    result["summary"] = summary
    print("ΔE(conformation − extended), meV; GFN2-xTB and each model's error")
    head = "| n | GFN2-xTB helix | GFN2-xTB PPII | " + " | ".join(
        f"{k} helix err | {k} PPII err" for k in calcs
    )
    print(head + " |")
    print("|---:|" + "---:|" * (2 + 2 * len(calcs)))
    for r in result["rows"]:
        cells = [f"{r['GFN2-xTB:helix']:.0f}", f"{r['GFN2-xTB:ppii']:.0f}"]
        for k in calcs:
            cells += [f"{r[f'{k}:helix'] - r['GFN2-xTB:helix']:+.0f}",
                      f"{r[f'{k}:ppii'] - r['GFN2-xTB:ppii']:+.0f}"]  # fmt: skip
        print(f"| {r['n']} | " + " | ".join(cells) + " |")
    for k, s in summary.items():
        print(f"{k}: helix max |error| {s['helix']['max_abs_error_meV']:.0f} meV, growth "
              f"{s['helix']['slope_meV_per_residue']:+.1f} meV/residue; PPII max |error| "
              f"{s['ppii']['max_abs_error_meV']:.0f} meV, growth "
              f"{s['ppii']['slope_meV_per_residue']:+.1f} meV/residue; conformer ranking right "
              f"at {s['ranking_correct']} of {len(lengths)} lengths")  # fmt: skip
    name = "conformers_quick" if args.quick else "conformers"
    (ROOT / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    _plot(result, list(calcs), ROOT / f"{name}.png")
    print(f"wrote benchmarks/{name}.json and .png in {time.perf_counter() - t0:.0f} s")


def _order(row: dict, label: str) -> tuple[str, ...]:
    """Conformations from lowest to highest energy (extended is the zero of the row)."""
    energies = {"extended": 0.0, "helix": row[f"{label}:helix"], "ppii": row[f"{label}:ppii"]}
    return tuple(sorted(energies, key=energies.get))


def _plot(result, labels, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    ns = [r["n"] for r in result["rows"]]
    styles = {"MuSE": "C0-s", "baseline": "C3--^", "LES": "C2:v"}
    for ax, conf, title in zip(axes, ("helix", "ppii"), ("α helix", "PPII"), strict=True):
        ax.plot(ns, [r[f"GFN2-xTB:{conf}"] for r in result["rows"]], "k-o", label="GFN2-xTB")
        for k in labels:
            ax.plot(ns, [r[f"{k}:{conf}"] for r in result["rows"]], styles.get(k, "o-"), label=k)
        ax.set_xlabel("residues n")
        ax.set_ylabel(f"E({title}) − E(extended) (meV)")
        ax.axhline(0, color="0.7", lw=0.8)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
