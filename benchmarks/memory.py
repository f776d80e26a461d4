"""Peak memory of energy + forces against the estimate that guards CPU evaluations.

    python benchmarks/memory.py                  # flakes of ~1,100 and ~3,300 atoms and
                                                 # periodic sheets of 140 and 300, every backbone
    python benchmarks/memory.py --rings 12 22 40 --sheets 8  # other sizes

For each backbone (``build_model``'s defaults: hidden 64, 3 blocks on the atom level and 1
on each coarse level; MACE with max_ell 3), alone and inside MuSE, on benzene 3.4 Å above a
hydrogen-terminated graphene flake and above a periodic graphene sheet of n × n cells (8 Å
of vacuum): the increase of the peak resident memory of a fresh process over one float32
energy + forces evaluation (measured after the graph is built), and the estimate of
``muse_explore.calc.memory`` (``estimate_bytes`` with the coarse levels' edges counted by
``coarse_edges``, as ``check_memory`` does) for the same model and graph. The estimate is
meant to lie above the measurement (ratio >= 1) without being wildly pessimistic: it only
refuses structures that cannot fit. A run whose estimate exceeds 80 % of the memory available
is left out (printed as such). Writes benchmarks/memory.json.
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
from muse_explore.calc.memory import available_bytes, coarse_edges, estimate_bytes
from muse_explore.reference import graphene_flake, graphene_sheet, place_molecule
name, kind, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.set_num_threads(1)
mx.calc.tune_cpu_allocator()
backbone = name.removeprefix("muse-")
model = mx.build_model(backbone=backbone, levels=2 if name.startswith("muse-") else 0, seed=0)
model = model.float().eval()
if kind == "flake":
    atoms = place_molecule("C6H6", graphene_flake(size), 3.4)
else:
    atoms = place_molecule("C6H6", graphene_sheet(size, size, vacuum=8.0), 3.4)
batch = model.graph_converter(dtype=torch.float32).batch(atoms, targets=False)
edges = int(batch.edge_index.shape[1])
coarse = coarse_edges(model, batch)
est = estimate_bytes(model, edges, itemsize=4, coarse=coarse)
row = {"model": name, "structure": kind, "atoms": len(atoms), "edges": edges,
       "coarse_edges": sum(coarse), "estimate_mb": est / 2**20}
if est > 0.8 * available_bytes():
    print(json.dumps({**row, "measured_mb": None}))
    sys.exit()
os.environ["MUSE_EXPLORE_MEMORY_CHECK"] = "0"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
compute_properties(model, batch, forces=True)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
print(json.dumps({**row, "measured_mb": peak / 2**20}))
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rings", type=int, nargs="+", default=[12, 22], help="flake sizes")
    p.add_argument(
        "--sheets", type=int, nargs="*", default=[8, 12], help="periodic sheets of n x n cells"
    )
    p.add_argument("--models", nargs="+", default=MODELS, choices=MODELS)
    args = p.parse_args()
    rows = []
    head = ("model", "structure", "atoms", "edges", "coarse", "measured MB", "estimate MB")
    print(
        f"{head[0]:<16}{head[1]:<10}{head[2]:>7}{head[3]:>9}{head[4]:>9}{head[5]:>13}"
        f"{head[6]:>13}  ratio"
    )
    runs = [("flake", r) for r in args.rings] + [("sheet", n) for n in args.sheets]
    for kind, size in runs:
        for name in args.models:
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, name, kind, str(size)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            r = json.loads(out.stdout.strip().splitlines()[-1])
            measured = r["measured_mb"]
            r["ratio"] = r["estimate_mb"] / measured if measured else None
            rows.append(r)
            shown = (
                f"{measured:>13.0f}{r['estimate_mb']:>13.0f}{r['ratio']:>7.2f}"
                if measured
                else f"{'(left out)':>13}{r['estimate_mb']:>13.0f}"
            )
            print(
                f"{r['model']:<16}{kind:<10}{r['atoms']:>7}{r['edges']:>9}{r['coarse_edges']:>9}"
                f"{shown}",
                flush=True,
            )
    path = Path(__file__).resolve().parent / "memory.json"
    path.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
