"""Peak memory of energy + forces against the estimate that guards CPU evaluations.

    python benchmarks/memory.py                  # ~1,100 and ~3,300 atoms, every backbone
    python benchmarks/memory.py --rings 12 22 40 # other flake sizes

For each backbone (module defaults: hidden 64; PaiNN 3 blocks, MACE 2 blocks with max_ell 3,
SO3krates 2 blocks), alone and inside MuSE, on benzene 3.4 Å above a hydrogen-terminated
graphene flake: the increase of the peak resident memory of a fresh process over one float32
energy + forces evaluation (measured after the graph is built), and
``muse_explore.calc.memory.estimate_bytes`` for the same model and graph. The estimate is
meant to lie above the measurement (ratio >= 1) without being wildly pessimistic: it only
refuses structures that cannot fit. Writes benchmarks/memory.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

MODELS = ["painn", "muse-painn", "so3krates", "muse-so3krates", "mace", "muse-mace"]

_CHILD = """
import json, os, resource, sys
import torch
import muse_explore as mx
from muse_explore.calc.derivatives import compute_properties
from muse_explore.calc.memory import estimate_bytes
from muse_explore.reference import graphene_flake, place_molecule
name, rings = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(1)
mx.calc.tune_cpu_allocator()
backbone = name.removeprefix("muse-")
model = mx.build_model(backbone=backbone, levels=2 if name.startswith("muse-") else 0, seed=0)
model = model.float().eval()
atoms = place_molecule("C6H6", graphene_flake(rings), 3.4)
batch = model.graph_converter(dtype=torch.float32).batch(atoms, targets=False)
os.environ["MUSE_EXPLORE_MEMORY_CHECK"] = "0"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
compute_properties(model, batch, forces=True)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
est = estimate_bytes(model, int(batch.edge_index.shape[1]), itemsize=4)
print(json.dumps({"model": name, "atoms": len(atoms), "edges": int(batch.edge_index.shape[1]),
                  "measured_mb": peak / 2**20, "estimate_mb": est / 2**20}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rings", type=int, nargs="+", default=[12, 22], help="flake sizes")
    p.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    args = p.parse_args()
    rows = []
    head = ("model", "atoms", "edges", "measured MB", "estimate MB", "ratio")
    print(f"{head[0]:<16}{head[1]:>8}{head[2]:>10}{head[3]:>13}{head[4]:>13}{head[5]:>7}")
    for rings in args.rings:
        for name in args.models:
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, name, str(rings)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            r = json.loads(out.stdout.strip().splitlines()[-1])
            r["ratio"] = r["estimate_mb"] / r["measured_mb"]
            rows.append(r)
            print(
                f"{r['model']:<16}{r['atoms']:>8}{r['edges']:>10}{r['measured_mb']:>13.0f}"
                f"{r['estimate_mb']:>13.0f}{r['ratio']:>7.2f}",
                flush=True,
            )
    path = Path(__file__).resolve().parent / "memory.json"
    path.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
