"""Time and peak memory of energy + forces: PaiNN alone against MuSE-PaiNN, ~100 to ~20,000 atoms.

    python benchmarks/bench_inference.py            # full table (a few minutes on 2 cores)
    python benchmarks/bench_inference.py --quick    # sizes up to ~1,200 atoms

Each case runs in a fresh process so that its peak resident memory (ru_maxrss) can be read:
"peak MB" is the increase of the peak RSS over the state just before the first evaluation
(model built, structure converted once). "prep" is the conversion Atoms -> graph (neighbour
list, and for MuSE the covalent topology and seeds); "model" is one forward + backward pass
(energy and forces); both are the best of several repeats (the least disturbed by other load). The table ends with the MuSE/backbone
ratio of total time and the exponent b of a power-law fit t = a N^b over the sizes >= 1,000.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

SIZES = {  # flake rings -> about 100 ... 20,000 atoms
    "flake": [3, 6, 12, 22, 40, 57],
    "benzene+flake": [3, 6, 12, 22, 40, 57],
}
QUICK = [3, 6, 12]


def build(system: str, rings: int):
    from muse_explore.reference import graphene_flake, place_molecule

    flake = graphene_flake(rings)
    if system == "flake":
        return flake
    return place_molecule("C6H6", flake, 3.4)


def run_case(model_name: str, system: str, rings: int, repeats: int) -> dict:
    import torch

    import muse_explore as mx
    from muse_explore.calc.derivatives import compute_properties

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    levels = 0 if model_name == "painn" else 2
    model = mx.build_model(backbone="painn", elements=["H", "C", "N", "O"], levels=levels, seed=0)
    model = model.float().eval()
    conv = model.graph_converter(dtype=torch.float32)
    atoms = build(system, rings)
    conv.batch(atoms)  # first conversion (fills the topology cache like a real MD/scan step would)
    conv._cache.clear()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    prep, fwd = [], []
    for _ in range(repeats + 1):
        t0 = time.perf_counter()
        batch = conv.batch(atoms, targets=False)
        t1 = time.perf_counter()
        compute_properties(model, batch, forces=True)
        t2 = time.perf_counter()
        conv._cache.clear()  # time the full seeding every time (no cache hits)
        prep.append(t1 - t0)
        fwd.append(t2 - t1)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "model": model_name,
        "system": system,
        "atoms": len(atoms),
        "prep_s": float(np.min(prep[1:])),
        "model_s": float(np.min(fwd[1:])),
        "peak_mb": (rss1 - rss0) / 1024.0,
        "edges": int(batch.edge_index.shape[1]),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="only the small sizes")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--case", nargs=3, metavar=("MODEL", "SYSTEM", "RINGS"), help=argparse.SUPPRESS)
    p.add_argument("--json", default=None, help="also write the raw results to this file")
    args = p.parse_args()
    if args.case:
        m, s, r = args.case
        print(json.dumps(run_case(m, s, int(r), args.repeats)))
        return
    import torch

    rows = []
    for system, ring_list in SIZES.items():
        for rings in QUICK if args.quick else ring_list:
            for model in ("painn", "muse-painn"):
                reps = args.repeats if rings < 40 else max(1, args.repeats - 1)
                cmd = [sys.executable, __file__, "--case", model, system, str(rings), "--repeats", str(reps)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                rows.append(json.loads(out.strip().splitlines()[-1]))
                print(".", end="", flush=True, file=sys.stderr)
    print(file=sys.stderr)
    print(f"energy + forces, float32, CPU ({torch.get_num_threads()} threads asked: "
          f"{os.environ.get('BENCH_THREADS', '2')}), torch {torch.__version__}, "
          f"{os.cpu_count()} cores visible")
    print()
    head = f"{'system':<15}{'atoms':>7}{'model':>12}{'prep ms':>10}{'model ms':>10}{'total ms':>10}{'peak MB':>9}{'MuSE/bb':>9}"
    print(head)
    print("-" * len(head))
    by_key = {(r["system"], r["atoms"], r["model"]): r for r in rows}
    for r in rows:
        total = (r["prep_s"] + r["model_s"]) * 1e3
        ratio = ""
        if r["model"] == "muse-painn":
            b = by_key[(r["system"], r["atoms"], "painn")]
            ratio = f"{(r['prep_s'] + r['model_s']) / (b['prep_s'] + b['model_s']):.2f}"
        print(
            f"{r['system']:<15}{r['atoms']:>7}{r['model']:>12}{r['prep_s'] * 1e3:>10.1f}"
            f"{r['model_s'] * 1e3:>10.1f}{total:>10.1f}{r['peak_mb']:>9.1f}{ratio:>9}"
        )
    print()
    print("scaling exponent b of total time t = a N^b (sizes >= 1,000 atoms):")
    for system in SIZES:
        for model in ("painn", "muse-painn"):
            pts = [(r["atoms"], r["prep_s"] + r["model_s"]) for r in rows
                   if r["system"] == system and r["model"] == model and r["atoms"] >= 1000]
            if len(pts) >= 2:
                n, t = np.log(np.array(pts)).T
                print(f"  {system:<15}{model:>12}  b = {np.polyfit(n, t, 1)[0]:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
