"""Holes in the peptide models' energy surfaces: what a geometry fault costs, against GFN2-xTB.

    OMP_NUM_THREADS=1 python benchmarks/peptide_holes.py            # references cached: minutes
    OMP_NUM_THREADS=1 python benchmarks/peptide_holes.py --quick    # 12 draws, scratch cache
    python benchmarks/peptide_holes.py --models MuSE=runs/x/best_model.pt --out /tmp/holes.json

The folding runs (benchmarks/README.md, "Peptide folding") showed every peptide model walking
into geometries its training data never reached (two hydrogens pressed together, a bond
angle folded shut) where its energy was far below GFN2-xTB's. This benchmark measures that
directly, with no MD: draws of ``muse_explore.reference.peptide_faults`` (Ac-(Ala)n-NHMe,
n = 4…15, one hydrogen turned about its parent into a contact or a folded angle) from their
own seed (:data:`SEED`, not the ``peptide-faults`` training set's, so that set can join the
training data without touching this test), each with its undistorted chain. For every draw
and model the **fault's cost** is ΔE = E(faulted) − E(undistorted chain); reported per model
(mean ± sd over the shipped training seeds), for contacts and folded angles apart:

* the mean signed error of ΔE (negative: the model makes the fault too cheap) and its MAE;
* **downhill**: the share of draws where the model's ΔE is negative, i.e. the model would
  pull the chain into the fault (GFN2-xTB's ΔE is positive for every draw);
* **under half**: the share where the model's ΔE is below half of GFN2-xTB's;
* the force MAE on the faulted structures.

GFN2-xTB energies and forces are cached in benchmarks/peptide_holes_reference.json (written
atomically every 10 draws: a killed run resumes). Writes benchmarks/peptide_holes.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _models import calculator, parse_models, pm, seed_models

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "peptide_holes_reference.json"
MODELS = {"MuSE": "muse-painn-peptide", "baseline": "painn-peptide", "LES": "painn-lr-peptide"}
#: The draws' seed: not the training set's (``make-data peptide-faults`` uses 6).
SEED = 60
DRAWS = 120
KINDS = ("contact", "folded angle")


def _structures(spec: dict):
    from muse_explore.reference.peptide import alanine_peptide
    from muse_explore.reference.peptide_faults import build_fault_frames

    return build_fault_frames(spec)[0], alanine_peptide(
        spec["residues"], phi=spec["phi"], psi=spec["psi"]
    )


def references(specs: list[dict], cache: Path) -> list[dict]:
    """GFN2-xTB energy of each draw's faulted and undistorted chain, forces of the faulted."""
    from muse_explore.atomic import atomic_open
    from muse_explore.reference.xtb import single_point

    data = json.loads(cache.read_text()) if cache.is_file() else {}
    if data.get("specs") != specs:
        data = {"specs": specs, "rows": []}
    for spec in specs[len(data["rows"]) :]:
        faulted, chain = _structures(spec)
        f, c = single_point(faulted), single_point(chain)
        data["rows"].append({
            "faulted": float(f.get_potential_energy()), "chain": float(c.get_potential_energy()),
            "forces": np.round(f.get_forces(), 6).tolist(),
        })  # fmt: skip
        if len(data["rows"]) % 10 == 0 or len(data["rows"]) == len(specs):
            with atomic_open(cache) as fh:
                json.dump(data, fh)
            print(f"  GFN2-xTB: {len(data['rows'])} / {len(specs)} draws", flush=True)
    return data["rows"]


def _measures(ref_de, model_de, kinds, force_mae) -> dict:
    out = {}
    for kind in (*KINDS, "all"):
        m = np.ones(len(kinds), bool) if kind == "all" else np.array(kinds) == kind
        err = model_de[m] - ref_de[m]
        out[kind] = {
            "draws": int(m.sum()),
            "mean_error_meV": float(1000 * err.mean()),
            "mae_meV": float(1000 * np.abs(err).mean()),
            "downhill": float((model_de[m] < 0).mean()),
            "under_half": float((model_de[m] < 0.5 * ref_de[m]).mean()),
            "forces_mae_meV_per_A": float(1000 * np.mean(np.array(force_mae)[m])),
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="12 draws, a scratch reference cache")
    p.add_argument("--models", nargs="+", default=None,
                   help=f"labels from {list(MODELS)} or LABEL=NAME_OR_PATH")  # fmt: skip
    p.add_argument("--out", default=str(ROOT / "peptide_holes.json"))
    args = p.parse_args()
    import torch

    from muse_explore.reference.peptide_faults import fault_specs

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    draws = 12 if args.quick else DRAWS
    cache = CACHE.with_name("peptide_holes_reference_quick.json") if args.quick else CACHE
    specs = fault_specs(draws, seed=SEED)
    ref = references(specs, cache)
    ref_de = np.array([r["faulted"] - r["chain"] for r in ref])
    kinds = [s["fault"] for s in specs]
    models = {k: seed_models(v) for k, v in parse_models(args.models, MODELS).items()}
    result = {"seed": SEED, "draws": draws, "models": models,
              "reference": {"kinds": {k: kinds.count(k) for k in KINDS},
                            "cost_eV": {"min": float(ref_de.min()),
                                        "median": float(np.median(ref_de)),
                                        "max": float(ref_de.max())}},
              "per_seed": {}, "summary": {}}  # fmt: skip
    for label, names in models.items():
        per_seed = []
        for name in names:
            calc = calculator(name)
            de, fmae = [], []
            for spec, r in zip(specs, ref, strict=True):
                faulted, chain = _structures(spec)
                faulted.calc, chain.calc = calc, calc
                e_f = float(faulted.get_potential_energy())
                fmae.append(float(np.abs(faulted.get_forces() - np.array(r["forces"])).mean()))
                de.append(e_f - float(chain.get_potential_energy()))
            per_seed.append(_measures(ref_de, np.array(de), kinds, fmae))
        result["per_seed"][label] = per_seed
        result["summary"][label] = {
            kind: {key: [s[kind][key] for s in per_seed] for key in per_seed[0][kind]}
            for kind in (*KINDS, "all")
        }
    ref_cost = result["reference"]["cost_eV"]
    print(f"\nGeometry faults in Ac-(Ala)n-NHMe, {draws} draws (seed {SEED}); GFN2-xTB's cost "
          f"of a fault {ref_cost['min']:.2f} to {ref_cost['max']:.2f} eV (median "
          f"{ref_cost['median']:.2f}); mean ± sd over training seeds")  # fmt: skip
    print("| model | fault | draws | ΔE mean error (meV) | ΔE MAE (meV) | downhill | under half "
          "| F MAE (meV/Å) |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, s in result["summary"].items():
        for kind in (*KINDS, "all"):
            k = s[kind]
            print(f"| {label} | {kind} | {k['draws'][0]} | {pm(k['mean_error_meV'], '+.0f')} | "
                  f"{pm(k['mae_meV'], '.0f')} | {pm([100 * x for x in k['downhill']], '.0f')} % "
                  f"| {pm([100 * x for x in k['under_half']], '.0f')} % | "
                  f"{pm(k['forces_mae_meV_per_A'], '.0f')} |")  # fmt: skip
    if not args.quick:
        from muse_explore.atomic import atomic_open

        with atomic_open(Path(args.out)) as fh:
            fh.write(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.out}")
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
