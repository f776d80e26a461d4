"""Energy + forces time and peak memory for every backbone, alone and inside MuSE.

    python benchmarks/bench_backbones.py                 # ~100, ~1,000 and ~10,000 atoms
    python benchmarks/bench_backbones.py --rings 3 12    # a subset of flake sizes

Structures: benzene 3.4 Å above hydrogen-terminated graphene flakes. Every backbone uses its
module defaults (hidden 64; PaiNN 3 blocks; MACE 2 blocks, max_ell 3, correlation 3; SO3krates
2 blocks, lmax 3) at the atom level and MuSE's default coarse levels (1 block each). "mace-torch"
is mace-torch's own ScaleShiftMACE with the same hyperparameters and weights, run through its
own forward (forces from its own autograd), on the same neighbour list. Each case: best of the
repeats, float32, 2 threads, allocator tuned as MuSECalculator does; peak MB is the increase of
the peak resident memory of a fresh process over one evaluation.
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

MODELS = ["painn", "muse-painn", "mace", "muse-mace", "mace-torch", "so3krates", "muse-so3krates"]


def _model(name: str):
    import torch

    import muse_explore as mx

    backbone = name.replace("muse-", "").replace("mace-torch", "mace")
    levels = 2 if name.startswith("muse-") else 0
    interactions = {"painn": 3, "mace": 2, "so3krates": 2}[backbone]
    model = mx.build_model(
        backbone=backbone,
        levels=levels,
        num_interactions=(interactions,) + (1,) * levels,
        seed=0,
    )
    return model.float().eval(), torch


def _runner(name: str, rings: int):
    """A zero-argument function evaluating energy + forces once, and the atom count."""
    import copy

    import muse_explore as mx
    from muse_explore.calc.derivatives import compute_properties
    from muse_explore.reference import graphene_flake, place_molecule

    atoms = place_molecule("C6H6", graphene_flake(rings), 3.4)
    model, torch = _model(name)
    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    mx.calc.tune_cpu_allocator()
    conv = model.graph_converter(dtype=torch.float32)
    batch = conv.batch(atoms, targets=False)
    if name != "mace-torch":
        return (lambda: compute_properties(model, batch, forces=True)), len(atoms), model

    inner = model.backbones[0].mace
    species = model.species(batch.z)
    data = {
        "positions": batch.pos,
        # mace-torch's edge convention: edge_index[0] sender, vectors r_receiver - r_sender
        "edge_index": batch.edge_index,
        "shifts": batch.shifts @ batch.cell[0],
        "unit_shifts": batch.shifts,
        "cell": batch.cell[0],
        "node_attrs": torch.nn.functional.one_hot(species, len(model.elements)).float(),
        "batch": batch.batch,
        "ptr": torch.tensor([0, len(atoms)]),
        "head": torch.zeros(1, dtype=torch.long),
    }

    def run():
        d = copy.copy(data)
        d["positions"] = batch.pos.clone()
        return inner(d, compute_force=True)

    return run, len(atoms), model


def time_case(name: str, rings: int, repeats: int) -> dict:
    run, n, model = _runner(name, rings)
    best = np.inf
    for _ in range(repeats + 1):
        t = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t)
    params = sum(p.numel() for p in model.parameters())
    return {"model": name, "atoms": n, "time_s": best, "params": params}


def memory_case(name: str, rings: int) -> float:
    run, _, _ = _runner(name, rings)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024.0


def _child(*args: str):
    cmd = [sys.executable, __file__, *args]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    print(".", end="", flush=True, file=sys.stderr)
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rings", type=int, nargs="+", default=[3, 12, 40])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--models", nargs="+", default=MODELS)
    p.add_argument("--time", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--memory", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    if args.time:
        print(json.dumps(time_case(args.time[0], int(args.time[1]), args.repeats)))
        return
    if args.memory:
        print(json.dumps(memory_case(args.memory[0], int(args.memory[1]))))
        return
    rows = []
    for rings in args.rings:
        for name in args.models:
            row = _child("--time", name, str(rings), "--repeats", str(args.repeats))
            row["peak_mb"] = _child("--memory", name, str(rings))
            rows.append(row)
    print(file=sys.stderr)
    print("energy + forces, benzene on graphene flakes, float32, CPU, 2 threads")
    print()
    head = f"{'atoms':>7}{'model':>16}{'params':>10}{'time ms':>11}{'peak MB':>9}   ratio"
    print(head)
    print("-" * len(head))
    by = {(r["atoms"], r["model"]): r for r in rows}
    for r in rows:
        ratio = ""
        if r["model"].startswith("muse-"):
            base = by.get((r["atoms"], r["model"][5:]))
            if base:
                ratio = f"{r['time_s'] / base['time_s']:.2f} vs backbone"
        if r["model"] == "mace":
            ref = by.get((r["atoms"], "mace-torch"))
            if ref:
                ratio = f"{r['time_s'] / ref['time_s']:.2f} vs mace-torch"
        print(
            f"{r['atoms']:>7}{r['model']:>16}{r['params']:>10}{r['time_s'] * 1e3:>11.1f}"
            f"{r['peak_mb']:>9.0f}   {ratio}"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
