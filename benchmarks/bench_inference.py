"""Time and peak memory of energy + forces: PaiNN alone against MuSE-PaiNN, ~100 to ~20,000 atoms.

    python benchmarks/bench_inference.py            # full table (about 10 minutes on 2 cores)
    python benchmarks/bench_inference.py --quick    # sizes up to ~1,100 atoms
    python benchmarks/bench_inference.py --md       # MD steps with and without a Verlet skin

Timing: for each structure one fresh process evaluates PaiNN and MuSE-PaiNN alternately and
keeps the best of several repeats of each (the least disturbed by other load). "prep" is the
conversion Atoms -> graph (neighbour list, covalent bonds, and for MuSE the seeds taken from
the cache, as in an MD step, a scan or an optimisation with a calculator; "cold" is the same
with the seeding run from scratch, paid once per bonding pattern along a path); "model" is one
forward + backward pass (energy and forces); "total" = prep + model. The glibc
allocator is tuned as MuSECalculator does on CPU (muse_explore.calc.allocator).
``--md`` times whole MD steps instead (ASE's VelocityVerlet, 0.5 fs, 300 K, float32, after
warm-up steps): each model with a fresh neighbour list every step (skin 0) and with a 0.5 Å
Verlet skin (``MuSECalculator(skin=0.5)``, the list rebuilt only after a move of 0.25 Å),
in ms per step, µs per atom and step, the share of the step spent preparing the graph, and
the number of rebuilds.
Memory: "peak MB" is the increase of the peak resident memory of a separate fresh process over
one evaluation (model built, structure converted once before).
The table ends with the MuSE/backbone ratio of total time and the exponent b of a power-law
fit t = a N^b over the sizes >= 1,000 atoms. ``--faults`` also prints the minor page faults of
the last repeat's model pass: zero once the heap has reached a steady state, which the tuned
allocator does within the warm-up round (both models share one process, so one of them can
still grow the heap now and then; the best of the repeats is the steady-state time).
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


def _setup(model_name: str, system: str, rings: int):
    import torch

    import muse_explore as mx

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    mx.calc.tune_cpu_allocator()
    levels = 0 if model_name == "painn" else 2
    model = mx.build_model(backbone="painn", elements=["H", "C", "N", "O"], levels=levels, seed=0)
    model = model.float().eval()
    return model, model.graph_converter(dtype=torch.float32, follow=True), build(system, rings)


def _evaluate(model, conv, atoms) -> tuple[float, float, float, int]:
    """(cold, prep, model) seconds and the minor page faults of the model pass."""
    from muse_explore.calc.derivatives import compute_properties

    conv.clear_cache()
    t0 = time.perf_counter()
    conv.batch(atoms, targets=False)  # cold: the seeding runs from scratch
    t1 = time.perf_counter()
    batch = conv.batch(atoms, targets=False)  # warm: seeds from the cache (a path)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t2 = time.perf_counter()
    compute_properties(model, batch, forces=True)
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def time_case(system: str, rings: int, repeats: int) -> list[dict]:
    """Both models on one structure, alternating, best of ``repeats`` each."""
    setups = {name: _setup(name, system, rings) for name in ("painn", "muse-painn")}
    best = {name: np.full(3, np.inf) for name in setups}
    faults = {}
    for _ in range(repeats + 1):  # the first round warms up
        for name, (model, conv, atoms) in setups.items():
            *times, faults[name] = _evaluate(model, conv, atoms)
            best[name] = np.minimum(best[name], times)
    n = len(next(iter(setups.values()))[2])
    return [
        {
            "model": k,
            "system": system,
            "atoms": n,
            "cold_s": v[0],
            "prep_s": v[1],
            "model_s": v[2],
            "faults_last": faults[k],
        }  # fmt: skip
        for k, v in best.items()
    ]


def memory_case(model_name: str, system: str, rings: int) -> float:
    """Peak-RSS increase (MB) over one evaluation in this (fresh) process."""
    model, conv, atoms = _setup(model_name, system, rings)
    conv.batch(atoms)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _evaluate(model, conv, atoms)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024.0


def md_case(model_name: str, system: str, rings: int, skin: float, steps: int) -> dict:
    """ms per MD step, its preparation share and the list rebuilds, in this fresh process."""
    from ase import units
    from ase.md.velocitydistribution import thermalize_momenta
    from ase.md.verlet import VelocityVerlet

    import muse_explore as mx

    model, _, atoms = _setup(model_name, system, rings)
    calc = mx.MuSECalculator(model, dtype="float32", skin=skin)
    conv = calc.converter
    prep = [0.0]
    convert = conv.__class__.__call__

    def timed(self, *a, **k):
        t0 = time.perf_counter()
        try:
            return convert(self, *a, **k)
        finally:
            prep[0] += time.perf_counter() - t0

    conv.__class__.__call__ = timed
    atoms.calc = calc
    thermalize_momenta(atoms, temperature_K=300, rng=np.random.default_rng(0))
    dyn = VelocityVerlet(atoms, timestep=0.5 * units.fs)
    dyn.run(3)  # warm-up
    prep[0] = 0.0
    builds = conv.verlet.builds if conv.verlet is not None else 0
    t0 = time.perf_counter()
    dyn.run(steps)
    wall = time.perf_counter() - t0
    return {
        "model": model_name, "system": system, "atoms": len(atoms), "skin": skin,
        "steps": steps, "step_s": wall / steps, "prep_s": prep[0] / steps,
        "rebuilds": (conv.verlet.builds - builds) if conv.verlet is not None else steps,
    }  # fmt: skip


def print_md(rows: list[dict]) -> None:
    """The MD table."""
    import torch

    threads = os.environ.get("BENCH_THREADS", "2")
    print(
        f"MD steps (VelocityVerlet 0.5 fs, 300 K), float32, CPU, {threads} threads, "
        f"torch {torch.__version__}, {os.cpu_count()} cores visible"
    )
    print()
    head = (
        f"{'system':<15}{'atoms':>7}{'model':>12}{'skin Å':>8}{'ms/step':>9}{'µs/atom':>9}"
        f"{'prep %':>8}{'rebuilds':>10}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['system']:<15}{r['atoms']:>7}{r['model']:>12}{r['skin']:>8.1f}"
            f"{r['step_s'] * 1e3:>9.1f}{r['step_s'] * 1e6 / r['atoms']:>9.1f}"
            f"{100 * r['prep_s'] / r['step_s']:>8.0f}{r['rebuilds']:>5}/{r['steps']}"
        )


def _child(*args: str) -> object:
    cmd = [sys.executable, __file__, *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    print(".", end="", flush=True, file=sys.stderr)
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="only the small sizes")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--rings", type=int, nargs="+", help="flake sizes to run (default: all)")
    p.add_argument("--time", nargs=2, metavar=("SYSTEM", "RINGS"), help=argparse.SUPPRESS)
    p.add_argument(
        "--memory", nargs=3, metavar=("MODEL", "SYSTEM", "RINGS"), help=argparse.SUPPRESS
    )
    p.add_argument("--json", default=None, help="also write the raw results to this file")
    p.add_argument(
        "--faults",
        action="store_true",
        help="also print the minor page faults of the last repeat's model pass (0 once the "
        "allocator has reached a steady state; large values mean first-touch memory is timed)",
    )
    p.add_argument("--md", action="store_true", help="time MD steps with and without a skin")
    p.add_argument("--md-case", nargs=5, help=argparse.SUPPRESS)
    p.add_argument("--steps", type=int, default=20, help="MD steps timed per case (--md)")
    args = p.parse_args()
    if args.md_case:
        m, system, rings, skin, steps = args.md_case
        print(json.dumps(md_case(m, system, int(rings), float(skin), int(steps))))
        return
    if args.md:
        rows = []
        for rings in args.rings or (QUICK if args.quick else SIZES["benzene+flake"]):
            for model in ("painn", "muse-painn"):
                for skin in ("0", "0.5"):
                    args_ = (model, "benzene+flake", str(rings), skin, str(args.steps))
                    rows.append(_child("--md-case", *args_))
        print(file=sys.stderr)
        print_md(rows)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(rows, fh, indent=1)
        return
    if args.time:
        print(json.dumps(time_case(args.time[0], int(args.time[1]), args.repeats)))
        return
    if args.memory:
        print(json.dumps(memory_case(args.memory[0], args.memory[1], int(args.memory[2]))))
        return
    import torch

    rows = []
    for system, ring_list in SIZES.items():
        for rings in args.rings or (QUICK if args.quick else ring_list):
            reps = args.repeats
            timed = _child("--time", system, str(rings), "--repeats", str(reps))
            for row in timed:
                row["peak_mb"] = _child("--memory", row["model"], system, str(rings))
            rows.extend(timed)
    print(file=sys.stderr)
    threads = os.environ.get("BENCH_THREADS", "2")
    print(
        f"energy + forces, float32, CPU, {threads} threads, torch {torch.__version__}, "
        f"{os.cpu_count()} cores visible, allocator tuned"
    )
    print()
    head = (
        f"{'system':<15}{'atoms':>7}{'model':>12}{'cold ms':>9}{'prep ms':>9}{'model ms':>10}"
        f"{'total ms':>10}{'peak MB':>9}{'MuSE/bb':>9}"
    )
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
            f"{r['system']:<15}{r['atoms']:>7}{r['model']:>12}{r['cold_s'] * 1e3:>9.1f}"
            f"{r['prep_s'] * 1e3:>9.1f}{r['model_s'] * 1e3:>10.1f}{total:>10.1f}"
            f"{r['peak_mb']:>9.0f}{ratio:>9}"
        )
    if args.faults:
        print()
        print("minor page faults in the last repeat's model pass (steady state: 0)")
        for r in rows:
            print(f"{r['system']:<15}{r['atoms']:>7}{r['model']:>12}{r['faults_last']:>12}")
    print()
    print("scaling exponent b of total time t = a N^b (sizes >= 1,000 atoms):")
    for system in SIZES:
        for model in ("painn", "muse-painn"):
            pts = [
                (r["atoms"], r["prep_s"] + r["model_s"])
                for r in rows
                if r["system"] == system and r["model"] == model and r["atoms"] >= 1000
            ]
            if len(pts) >= 2:
                n, t = np.log(np.array(pts)).T
                print(f"  {system:<15}{model:>12}  b = {np.polyfit(n, t, 1)[0]:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
