"""Hessian benchmark: MuSE, the PaiNN baseline and the LES long-range baseline against GFN2-xTB.

    OMP_NUM_THREADS=1 python benchmarks/hessian.py   # ~10 min the first time (GFN2-xTB
                                                     # references, cached), ~1 min after

Systems (geometries relaxed with GFN2-xTB): the isolated molecules benzene, pyridine, water
and naphthalene (full Hessians; the six rigid-body modes left out of the frequency errors),
and benzene, pyridine and water on circumcoronene, with the flake frozen and a partial
Hessian over the adsorbate (ASE's FixAtoms + Vibrations convention): its six lowest modes
are the intermolecular ones (frustrated translations and rotations against the flake).
GFN2-xTB Hessians by central differences of its forces (0.005 Å), cached in
benchmarks/hessian_reference.json (--recompute to redo them); model Hessians by autograd
(float64). Prints element-wise Hessian MAE (eV/Å²), frequency MAE (cm⁻¹) and, for the
complexes, the MAE of the six intermolecular modes; writes benchmarks/hessian.json and a
plot of model against reference frequencies, benchmarks/hessian.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
MOLECULES = ("benzene", "pyridine", "water", "naphthalene")
ADSORBATES = ("benzene", "pyridine", "water")
MODELS = {"MuSE": "muse-painn-graphene", "baseline": "painn-graphene", "LES": "painn-lr-graphene"}


def systems():
    from muse_explore.reference import graphene_flake, place_molecule
    from muse_explore.reference.molecules import small_molecule

    out = {}
    for name in MOLECULES:
        out[name] = (small_molecule(name), None)
    flake = graphene_flake(2)
    for name in ADSORBATES:
        c = place_molecule(small_molecule(name), flake, 3.3, offset=(0.3, 0.2), rotation=15.0)
        out[f"{name}/circumcoronene"] = (c, list(range(len(flake), len(c))))
    return out


def reference(recompute: bool) -> dict:
    """Relaxed geometries and GFN2-xTB (partial) Hessians, from the cache when present."""
    from ase.constraints import FixAtoms

    from muse_explore.reference.xtb import hessian as reference_hessian
    from muse_explore.reference.xtb import relax

    cache = ROOT / "hessian_reference.json"
    data = json.loads(cache.read_text()) if cache.is_file() and not recompute else {}
    for key, (atoms, idx) in systems().items():
        if key in data:
            continue
        t0 = time.perf_counter()
        work = atoms.copy()
        if idx is not None:
            work.set_constraint(FixAtoms(indices=[i for i in range(len(work)) if i not in idx]))
        relaxed = relax(work, fmax=0.002)
        relaxed.set_constraint()
        h = reference_hessian(relaxed, idx)
        data[key] = {
            "numbers": relaxed.numbers.tolist(),
            "positions": relaxed.positions.tolist(),
            "indices": idx,
            "hessian": h.tolist(),
            "seconds": time.perf_counter() - t0,
        }
        print(f"  GFN2-xTB {key}: {data[key]['seconds']:.0f} s", flush=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(cache)  # atomic: a killed run keeps what it had
    return data


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--recompute", action="store_true", help="redo the GFN2-xTB references")
    args = p.parse_args()
    import torch
    from ase import Atoms

    import muse_explore as mx
    from muse_explore.analysis.vibrations import compare_hessians
    from muse_explore.pretrained import list_pretrained

    torch.set_num_threads(2)
    ref = reference(args.recompute)
    models = {k: v for k, v in MODELS.items() if v in list_pretrained()}
    calcs = {k: mx.load_pretrained(v, dtype="float64") for k, v in models.items()}
    rows, result = [], {"models": models, "systems": {}}
    for key, r in ref.items():
        atoms = Atoms(numbers=r["numbers"], positions=r["positions"])
        idx = r["indices"]
        href = np.array(r["hessian"])
        result["systems"][key] = {}
        for label, calc in calcs.items():
            h = mx.hessian(calc, atoms, indices=idx)
            cmp = compare_hessians(h, href, atoms, idx)
            if idx is None:  # isolated molecule: drop the six rigid-body modes
                fm, fr = (
                    np.array(cmp["frequencies"])[6:],
                    np.array(cmp["reference_frequencies"])[6:],
                )
                cmp["frequency_mae"] = float(np.abs(fm - fr).mean())
                cmp["low_mode_mae"] = None
            result["systems"][key][label] = cmp
            rows.append((key, label, cmp))
    print(f"Hessians against GFN2-xTB ({', '.join(f'{k}: {v}' for k, v in models.items())})")
    print(f"{'system':<28}{'model':>10}{'H MAE eV/Å²':>14}{'freq MAE cm-1':>15}{'6 low modes':>13}")
    for key, label, c in rows:
        low = f"{c['low_mode_mae']:.1f}" if c["low_mode_mae"] is not None else "-"
        print(f"{key:<28}{label:>10}{c['hessian_mae']:>14.4f}{c['frequency_mae']:>15.1f}{low:>13}")
    summary = {}
    for label in calcs:
        mol = [result["systems"][k][label] for k in ref if ref[k]["indices"] is None]
        cpx = [result["systems"][k][label] for k in ref if ref[k]["indices"] is not None]
        summary[label] = {
            "molecules_frequency_mae": float(np.mean([c["frequency_mae"] for c in mol])),
            "molecules_hessian_mae": float(np.mean([c["hessian_mae"] for c in mol])),
            "adsorbate_frequency_mae": float(np.mean([c["frequency_mae"] for c in cpx])),
            "intermolecular_mode_mae": float(np.mean([c["low_mode_mae"] for c in cpx])),
        }
    result["summary"] = summary
    print()
    print("| model | molecules: H MAE (eV/Å²) | molecules: freq. MAE (cm⁻¹) | adsorbate on flake: "
          "freq. MAE (cm⁻¹) | intermolecular modes MAE (cm⁻¹) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|")
    for label, s in summary.items():
        cells = [
            f"{s['molecules_hessian_mae']:.4f}",
            f"{s['molecules_frequency_mae']:.1f}",
            f"{s['adsorbate_frequency_mae']:.1f}",
            f"{s['intermolecular_mode_mae']:.1f}",
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
    (ROOT / "hessian.json").write_text(json.dumps(result, indent=1) + "\n")
    _plot(result, ROOT / "hessian.png")
    print("wrote benchmarks/hessian.json and benchmarks/hessian.png")


def _plot(result, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    styles = {"MuSE": "C0s", "baseline": "C3^", "LES": "C2v"}
    for key, per_model in result["systems"].items():
        ax = axes[1] if "/" in key else axes[0]
        for label, c in per_model.items():
            fr, fm = np.array(c["reference_frequencies"]), np.array(c["frequencies"])
            first = key in ("benzene", "benzene/circumcoronene")
            ax.plot(fr, fm, styles.get(label, "o"), ms=3, alpha=0.6, label=label if first else None)
    for ax, title in zip(axes, ("isolated molecules", "adsorbate on a frozen flake"), strict=True):
        lim = ax.get_xlim()
        ax.plot(lim, lim, color="0.6", lw=0.8)
        ax.set_xlabel("GFN2-xTB frequency (cm⁻¹)")
        ax.set_ylabel("model frequency (cm⁻¹)")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
