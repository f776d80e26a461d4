"""One geometry, one energy: the format-1 core against the symmetric core, on the same inputs.

    python benchmarks/single_valued.py          # under a minute on 2 cores

Both models are the same random-weight MuSE-PaiNN (seed 0, default sizes, float64); "legacy"
is the format-1 core (geometric seeds with index tie-breaks, path-following cache, PaiNN norm
sqrt(|v|^2 + 1e-8)), "symmetric" the current one (seeds from the bond graph alone, smooth norm
sqrt(|v|^2 + 1) - 1). Rows:

* permutation spread: max - min energy of benzene 3.4 Å over an exact C54H18 under 8 random
  renumberings of the atoms;
* fresh vs followed: largest energy / force difference between a fresh calculator and one
  that first walked through another 0.02 Å rattle, at 4 rattles of that complex;
* energy-work jump: on the straight line between two 0.02 Å rattles (61 frames, every frame
  converted on its own, as the trainer and the explorer do), the largest mismatch between
  the energy change over two steps and the work of the forces (Simpson's rule);
* diamond 2x1x1: E(2x1x1 supercell) - 2 E(2-atom cell), exact cell;
* Hessian vs FD: largest |H - H_FD| with central differences of the forces at h = 5e-3 Å
  (the reference's step), exact water and benzene.

It then prints the seed counts of both rules (level-1 and level-2 nodes) for exact benzene,
circumcoronene, hexagonal flakes and a periodic graphene sheet, and the price of the proven
limit (docs/method.md, Section 2): the MuSE/backbone time ratio (energy + forces, float32,
best of 3) of a periodic graphene sheet of 968 atoms, where symmetric seeding makes every
carbon a node on every level, against a 1,092-atom flake.

Writes benchmarks/single_valued.json.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np


def _model(core: str):
    import muse_explore as mx

    legacy = core == "legacy"
    return mx.build_model(
        backbone="painn",
        elements=["H", "C", "N", "O"],
        levels=2,
        seed=0,
        seeding="legacy" if legacy else "symmetric",
        backbone_kwargs={"vector_norm": "legacy" if legacy else "smooth"},
    ).double()


def _energy(calc, atoms):
    a = atoms.copy()
    a.calc = calc
    return a.get_potential_energy(), a.get_forces()


def permutation_spread(model, complex_) -> float:
    import muse_explore as mx

    energies = []
    for seed in range(8):
        perm = np.random.default_rng(seed).permutation(len(complex_))
        energies.append(_energy(mx.MuSECalculator(model), complex_[perm])[0])
    return float(np.ptp(energies))


def fresh_vs_followed(model, complex_) -> tuple[float, float]:
    import muse_explore as mx
    from muse_explore.testing import rattle

    de = df = 0.0
    for seed in range(4):
        target = rattle(complex_, 0.02, seed=100 + seed)
        walker = mx.MuSECalculator(model)
        _energy(walker, rattle(complex_, 0.02, seed=200 + seed))  # the path so far
        e1, f1 = _energy(walker, target)
        e0, f0 = _energy(mx.MuSECalculator(model), target)
        de, df = max(de, abs(e1 - e0)), max(df, float(np.abs(f1 - f0).max()))
    return de, df


def energy_work_jump(model, complex_) -> float:
    from muse_explore.calc import compute_properties
    from muse_explore.testing import interpolate, rattle

    frames = interpolate(rattle(complex_, 0.02, seed=1), rattle(complex_, 0.02, seed=2), 61)
    conv = model.graph_converter(dtype=next(model.parameters()).dtype)  # per-structure seeds
    e, f = [], []
    for start in range(0, len(frames), 16):
        res = compute_properties(model, conv.batch(frames[start : start + 16], targets=False))
        e.append(res["energy"].detach().numpy())
        f.append(res["forces"].detach().numpy().reshape(-1, len(complex_), 3))
    e, f = np.concatenate(e), np.concatenate(f)
    step = frames[1].positions - frames[0].positions
    power = (f * step).sum(axis=(1, 2))
    simpson = -(power[:-2:2] + 4 * power[1:-1:2] + power[2::2]) / 3.0
    return float(np.abs(e[2::2] - e[:-2:2] - simpson).max())


def diamond_mismatch(model) -> float:
    from ase.build import bulk

    import muse_explore as mx

    cell = bulk("C", "diamond", 3.57)
    calc = mx.MuSECalculator(model)
    return float(_energy(calc, cell.repeat((2, 1, 1)))[0] - 2 * _energy(calc, cell)[0])


def hessian_vs_fd(model, atoms, h: float = 5e-3) -> float:
    import muse_explore as mx

    calc = mx.MuSECalculator(model)
    hess = mx.hessian(calc, atoms)
    a = atoms.copy()
    a.calc = calc
    num = np.zeros_like(hess)
    for k in range(3 * len(a)):
        for sign in (1, -1):
            a.positions[k // 3, k % 3] += sign * h
            num[k] -= sign * a.get_forces().reshape(-1) / (2 * h)
            a.positions[k // 3, k % 3] -= sign * h
    return float(np.abs(hess - num).max())


def seed_counts() -> dict:
    from ase.build import molecule

    from muse_explore.pooling.seeding import find_topology
    from muse_explore.reference import graphene_flake, graphene_sheet

    systems = {"benzene": molecule("C6H6"), "C54H18": graphene_flake(2)}
    systems |= {f"flake, {r} rings": graphene_flake(r) for r in (6, 12, 22)}
    systems["periodic sheet 10x10"] = graphene_sheet(10, 10, vacuum=8.0)
    out = {}
    for name, a in systems.items():
        row = {"atoms": len(a)}
        for rule in ("legacy", "symmetric"):
            t = find_topology(a.numbers, a.positions, a.cell.array, a.pbc, (2, 4), seeding=rule)
            row[rule] = t.seed_mask.sum(0).tolist()
        out[name] = row
    return out


def cost_ratio(atoms) -> dict:
    import torch

    import muse_explore as mx
    from muse_explore.calc import compute_properties

    times = {}
    for levels in (0, 2):
        model = mx.build_model(backbone="painn", elements=["H", "C"], levels=levels, seed=0)
        model = model.float().eval()
        conv = model.graph_converter(dtype=torch.float32)
        best = float("inf")
        for _ in range(4):  # the first one warms up
            t0 = time.perf_counter()
            compute_properties(model, conv.batch(atoms, targets=False))
            best = min(best, time.perf_counter() - t0)
        times[levels] = best
    return {"atoms": len(atoms), "backbone s": times[0], "muse s": times[2],
            "ratio": times[2] / times[0]}  # fmt: skip


def main() -> None:
    import torch
    from ase.build import molecule

    from muse_explore.reference import graphene_flake, place_molecule

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    complex_ = place_molecule("C6H6", graphene_flake(2), 3.4)
    rows = {}
    for core in ("legacy", "symmetric"):
        t0 = time.perf_counter()
        model = _model(core)
        de, df = fresh_vs_followed(model, complex_)
        rows[core] = {
            "permutation spread (eV)": permutation_spread(model, complex_),
            "fresh vs followed, energy (eV)": de,
            "fresh vs followed, forces (eV/Å)": df,
            "energy-work jump on the rattle line (eV)": energy_work_jump(model, complex_),
            "diamond 2x1x1 - 2x cell (eV)": diamond_mismatch(model),
            "Hessian vs FD at 5e-3 Å, water (eV/Å²)": hessian_vs_fd(model, molecule("H2O")),
            "Hessian vs FD at 5e-3 Å, benzene (eV/Å²)": hessian_vs_fd(model, molecule("C6H6")),
        }
        print(f"[{core}: {time.perf_counter() - t0:.0f} s]", flush=True)
    width = max(len(k) for k in rows["legacy"])
    print(f"{'quantity':<{width}}  {'legacy (format 1)':>18}  {'symmetric':>12}")
    for key in rows["legacy"]:
        print(f"{key:<{width}}  {rows['legacy'][key]:>18.3g}  {rows['symmetric'][key]:>12.3g}")
    counts = seed_counts()
    print(f"\n{'structure':<22} {'atoms':>6}  {'legacy L1/L2 nodes':>19}  {'symmetric L1/L2':>16}")
    for name, row in counts.items():
        leg, sym = row["legacy"], row["symmetric"]
        print(f"{name:<22} {row['atoms']:>6}  {leg[0]:>9} /{leg[1]:>8}  {sym[0]:>7} /{sym[1]:>7}")
    from muse_explore.reference import graphene_flake, graphene_sheet

    costs = {
        "flake, 12 rings": cost_ratio(graphene_flake(12)),
        "periodic sheet 22x22": cost_ratio(graphene_sheet(22, 22, vacuum=8.0)),
    }
    print(f"\n{'structure':<22} {'atoms':>6}  {'PaiNN s':>8}  {'MuSE s':>8}  {'MuSE/bb':>7}")
    for name, c in costs.items():
        print(
            f"{name:<22} {c['atoms']:>6}  {c['backbone s']:>8.3f}  {c['muse s']:>8.3f}  "
            f"{c['ratio']:>7.2f}"
        )
    out = Path(__file__).with_suffix(".json")
    payload = {
        "command": "python benchmarks/single_valued.py",
        **rows,
        "seed_counts": counts,
        "cost": costs,
    }
    out.write_text(json.dumps(payload, indent=1))


if __name__ == "__main__":
    main()
