"""Does a model trained on two flakes transfer to a larger one? The same scans over three flakes.

    OMP_NUM_THREADS=1 python benchmarks/flake_size.py      # about 5 minutes on 2 CPU cores
    python benchmarks/flake_size.py --models MuSE=run/best_model.pt --out /tmp/f.json  # a run

The graphene models train on circumcoronene (C54H18) and coronene (C24H12); the long-range
benchmark's transfer set puts molecules over C96H24, which no model trains on. This script
isolates flake size: the same rigid scans (benzene, pyridine, water; centred, 8 heights from
3.0 to 12 Å) over coronene, circumcoronene and C96H24, against GFN2-xTB at every point. A
local model's E_int at contact hardly depends on the flake beyond its cutoff, and neither
does the reference's: the atoms added by a larger flake sit more than 5 Å away from the
molecule's. For MuSE it also prints how each scale's E_int changes from C54H18 to the other
flakes (the scale whose contribution moves most is the one that extrapolates), how many
coarse nodes each flake has, MuSE's error under other partitions of the same flakes,
where on the flake the atom scale's E_int sits beyond the cutoff (the down pass), and which
scale carries the drift of a thermal flake's own energy per atom with its size.

Writes benchmarks/flake_size.json (or --out). --models takes labels of the shipped models
or LABEL=NAME_OR_PATH (a model file); the MuSE tables need a label MuSE. A shipped model's
retrainings with other seeds (``NAME-seed1``, ...) are evaluated too: the E_int and
flake-energy tables give mean ± sd over seeds, the scale-shift, scale-energy, partition and
down-pass tables rows per seed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from _models import (
    DATA,
    add_graphene_models,
    backbone_of,
    calculator,
    graphene_labels,
    parse_models,
    pm,
    seed_models,
)

ROOT = Path(__file__).resolve().parent
MOLECULES = ("benzene", "pyridine", "water")
FLAKES = {1: "C24H12", 2: "C54H18", 3: "C96H24"}
HEIGHTS = np.array([3.0, 3.4, 4.0, 5.0, 6.0, 7.5, 9.0, 12.0])


def main() -> None:
    import argparse

    import torch

    from muse_explore.explore.scans import (
        ScanSetup,
        interaction_curves,
        reference_curve,
        scan_frames,
    )

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])

    known = graphene_labels()
    add_graphene_models(p, known, files=True)
    p.add_argument("--out", default=str(ROOT / "flake_size.json"))
    args = p.parse_args()
    models = parse_models(args.models, known)
    seeds = {label: seed_models(spec) for label, spec in models.items()}
    # every seed's model under its own key: the first seed keeps the label itself
    runs = {_seed_key(label, k): name for label, names in seeds.items()
            for k, name in enumerate(names)}  # fmt: skip
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    result: dict = {"heights": HEIGHTS.tolist(), "models": models, "seeds": seeds, "scans": {}}
    for mol in MOLECULES:
        for rings, flake in FLAKES.items():
            setup = ScanSetup(molecule=mol, rings=rings, distances=HEIGHTS)
            frames = scan_frames(setup)
            ref = reference_curve(setup, frames=frames)["e_int"]
            curves = interaction_curves(runs, setup, dtype=torch.float64, frames=frames)
            result["scans"][f"{mol}/{flake}"] = {
                "reference": ref.tolist(),
                **{k: {"e_int": curves[k]["e_int"].tolist(),
                       "scales": curves[k]["scales"].tolist()} for k in runs},
            }  # fmt: skip

    contact, far = HEIGHTS < 4.5, HEIGHTS >= 6.0
    mid = ~contact & ~far
    summary: dict = {}
    ranges = {"contact": contact, "middle": mid, "far": far, "all": np.ones_like(far)}
    print("E_int MAE against GFN2-xTB (meV), 3 molecules x 8 heights per flake "
          "(mean ± sd over seeds where there are several)")  # fmt: skip
    print("| model | seeds | flake | < 4.5 Å | 4.5–6 Å | >= 6 Å | all |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for label, names in seeds.items():
        summary[label] = {}
        for flake in FLAKES.values():
            per_seed = {key: [] for key in ranges}
            for k in range(len(names)):
                err = np.array([
                    np.array(result["scans"][f"{m}/{flake}"][_seed_key(label, k)]["e_int"])
                    - np.array(result["scans"][f"{m}/{flake}"]["reference"])
                    for m in MOLECULES
                ]) * 1000  # fmt: skip
                for key, mask in ranges.items():
                    per_seed[key].append(float(np.abs(err[:, mask]).mean()))
            row = {key: float(np.mean(v)) for key, v in per_seed.items()}
            row["seeds"] = per_seed
            summary[label][flake] = row
            cells = " | ".join(pm(per_seed[key]) for key in ranges)
            print(f"| {label} | {len(names)} | {flake} | {cells} |")
    result["summary"] = summary
    if "MuSE" not in models:
        _write(result, Path(args.out), t0)
        return

    counts = _coarse_nodes(models["MuSE"])
    result["coarse_nodes"] = counts
    top = len(next(iter(counts.values()))["levels"])
    print("\nMuSE's coarse nodes of each flake alone (seeds from the bond graph alone)")
    print("| flake | atoms | " + " | ".join(f"level {k} nodes" for k in range(1, top + 1))
          + f" | atoms per level-{top} node |")  # fmt: skip
    print("|---|" + "---:|" * (top + 2))
    for flake, row in counts.items():
        per = row["atoms"] / row["levels"][-1]
        print(f"| {flake} | {row['atoms']} | " + " | ".join(str(n) for n in row["levels"])
              + f" | {per:.1f} |")  # fmt: skip

    print("\nMuSE: change of each scale's E_int from C54H18 (mean over molecules, meV), per seed")
    print("| seed | flake | scale | < 4.5 Å | 4.5–6 Å | >= 6 Å |")
    print("|---:|---|---|---:|---:|---:|")
    shifts: dict = {}  # the first seed's by flake, the others' under "seed k"
    for k in range(len(seeds["MuSE"])):
        key = _seed_key("MuSE", k)
        into = shifts if k == 0 else shifts.setdefault(f"seed {k}", {})
        for flake in ("C24H12", "C96H24"):
            d = np.array([
                np.array(result["scans"][f"{m}/{flake}"][key]["scales"])
                - np.array(result["scans"][f"{m}/C54H18"][key]["scales"])
                for m in MOLECULES
            ]).mean(axis=0) * 1000  # (scales, heights)  # fmt: skip
            ref = np.mean([
                np.array(result["scans"][f"{m}/{flake}"]["reference"])
                - np.array(result["scans"][f"{m}/C54H18"]["reference"])
                for m in MOLECULES
            ], axis=0) * 1000  # fmt: skip
            names = ["atoms"] + [f"level {j}" for j in range(1, d.shape[0])]
            into[flake] = {n: d[j].tolist() for j, n in enumerate(names)}
            into[flake]["reference"] = ref.tolist()
            for name, values in [*zip(names, d, strict=True), ("GFN2-xTB (total)", ref)]:
                print(f"| {k} | {flake} | {name} | {values[contact].mean():+.1f} | "
                      f"{values[mid].mean():+.1f} | {values[far].mean():+.1f} |")  # fmt: skip
    result["muse_scale_shift_from_C54H18"] = shifts

    print("\nMuSE with other coarse partitions of the same structures (other seeding hops at")
    print("inference, same weights): benzene, E_int MAE against GFN2-xTB over the 8 heights, meV")
    print("| seed | hops (level 1, 2) | C54H18 nodes | C54H18 MAE | C96H24 nodes | C96H24 MAE |")
    print("|---:|---|---|---:|---|---:|")
    result["partitions"] = [
        dict(row, seed=k)
        for k, name in enumerate(seeds["MuSE"])
        for row in _other_partitions(name, result)
    ]
    for row in result["partitions"]:
        cells = " | ".join(f"{row[f]['nodes']} | {row[f]['mae']:.1f}" for f in ("C54H18", "C96H24"))
        print(f"| {row['seed']} | {row['hops']} | {cells} |")

    print("\nMuSE's atom scale beyond the cutoff: benzene centred above each flake, its E_int")
    print("from the atoms' readouts (the down pass brings the coarse levels' features to them),")
    print("split into the flake's atoms and the molecule's, meV")
    print("| seed | flake | height (Å) | atom scale | flake atoms | molecule "
          "| per flake atom: mean | max |")  # fmt: skip
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    result["down_pass"] = [
        dict(row, seed=k) for k, name in enumerate(seeds["MuSE"]) for row in _down_pass(name)
    ]
    for row in result["down_pass"]:
        print(f"| {row['seed']} | {row['flake']} | {row['height']:.1f} | "
              f"{row['atom_scale']:+.1f} | {row['flake_atoms']:+.1f} | "
              f"{row['molecule_atoms']:+.1f} | {row['per_flake_atom_mean']:+.2f} | "
              f"{row['per_flake_atom_max']:.2f} |")  # fmt: skip

    print("\nEach flake's own energy: thermal flakes alone (the first 8 of each set's flakes),")
    print("mean signed error per atom against GFN2-xTB, meV (mean ± sd over seeds)")
    print("| flake | " + " | ".join(f"{label} error" for label in models) + " |")
    print("|---|" + "---:|" * len(models))
    result["flake_energies"] = _flake_energies(runs)
    for flake, row in result["flake_energies"].items():
        errors = " | ".join(
            pm([row[_seed_key(label, k)]["error"] for k in range(len(seeds[label]))], "+.2f")
            for label in models
        )
        print(f"| {flake} | {errors} |")
    print("\nEach MuSE model's scale energies per atom on those flakes, meV (the atom scale")
    print("relative to its own baseline's total of the same seed, or of the first seed where")
    print("the baseline has fewer; both hold the per-element shifts)")
    print("| model | seed | flake | atoms − baseline | level 1 | level 2 |")
    print("|---|---:|---|---:|---:|---:|")
    for label in models:
        kind = backbone_of(label)
        if kind is None or kind[1] != "MuSE":
            continue
        partner = next((b for b in models if backbone_of(b) == (kind[0], "baseline")), None)
        if partner is None:
            continue
        for k in range(len(seeds[label])):
            base = _seed_key(partner, k if k < len(seeds[partner]) else 0)
            for flake, row in result["flake_energies"].items():
                scales = row[_seed_key(label, k)].get("scales")
                if scales is None:
                    continue
                print(f"| {label} | {k} | {flake} | {scales[0] - row[base]['energy']:+.1f} | "
                      + " | ".join(f"{x:+.1f}" for x in scales[1:]) + " |")  # fmt: skip
    _write(result, Path(args.out), t0)


#: The thermal data sets whose isolated flakes :func:`_flake_energies` evaluates.
FLAKE_SETS = {"C24H12": "graphene_thermal_coronene", "C54H18": "graphene_thermal",
              "C96H24": "graphene_transfer"}  # fmt: skip


def _flake_energies(models: dict, n: int = 8) -> dict:
    """Per-atom energies of thermally distorted flakes alone, by model and (MuSE) by scale.

    A flake's own energy per atom should not drift with its size; where MuSE's does, its
    scale energies per atom say which scale carries the drift (the atom scale is given
    relative to the baseline's total, since both hold the per-element shifts).
    """
    from ase.io import read

    calcs = {label: calculator(spec) for label, spec in models.items()}
    out = {}
    for flake, stem in FLAKE_SETS.items():
        path = DATA / f"{stem}.extxyz.xz"
        frames = [a for a in read(path, index=":120") if a.info.get("part") == "flake"][:n]
        reference = np.array([a.get_potential_energy() / len(a) for a in frames])
        out[flake] = {}
        for label, calc in calcs.items():
            energies, scales = [], []
            for atoms in frames:
                atoms = atoms.copy()
                atoms.calc = calc
                energies.append(atoms.get_potential_energy() / len(atoms))
                if "scale_energies" in calc.results:
                    scales.append(np.asarray(calc.results["scale_energies"]) / len(atoms))
            energies = np.array(energies)
            row = {"error": float(1000 * (energies - reference).mean()),
                   "energy": float(1000 * energies.mean())}  # fmt: skip
            if scales and len(scales[0]) > 1:  # a MuSE model: its coarse levels too
                row["scales"] = (1000 * np.mean(scales, axis=0)).tolist()
            out[flake][label] = row
    return out


#: Heights (Å) of :func:`_down_pass`: beyond the atom level's cutoff, inside the coarse ones.
DOWN_PASS_HEIGHTS = (7.5, 12.0)


def _down_pass(spec: str) -> list[dict]:
    """Where MuSE's atom-scale E_int of benzene sits on each flake, beyond the atom cutoff.

    There the atom level cannot see the molecule directly: its share of E_int arrives through
    the down pass (coarse features unpooled to the atoms). Per flake atom: the change of its
    readout energy between the complex and the flake alone; a uniform change adds up in
    proportion to the flake's atom count.
    """
    import torch

    from muse_explore.reference import graphene_flake
    from muse_explore.reference.structures import place_molecule

    calc = calculator(spec)

    def readouts(atoms) -> np.ndarray:
        calc.reset_topology()
        with torch.no_grad():
            return calc.model(calc.batch(atoms)).node_energies[0].cpu().numpy() * 1000

    rows = []
    for rings, name in FLAKES.items():
        flake = graphene_flake(rings)
        n, alone = len(flake), readouts(flake)
        for height in DOWN_PASS_HEIGHTS:
            pair = place_molecule("C6H6", flake, height)
            both = readouts(pair)
            on_flake, on_mol = both[:n] - alone, both[n:] - readouts(pair[n:])
            rows.append({
                "flake": name, "height": height, "atom_scale": float(on_flake.sum() + on_mol.sum()),
                "flake_atoms": float(on_flake.sum()), "molecule_atoms": float(on_mol.sum()),
                "per_flake_atom_mean": float(on_flake.mean()),
                "per_flake_atom_max": float(np.abs(on_flake).max()),
            })  # fmt: skip
    return rows


#: Seeding hops of levels 1 and 2 tried by :func:`_other_partitions` (the default first).
PARTITIONS = ((2, 4), (2, 3), (2, 5), (3, 4))


def _other_partitions(spec: str, result: dict) -> list[dict]:
    """Benzene's E_int error on C54H18 and C96H24 with the MuSE weights and other seeding hops.

    The same weights read other partitions of the same geometry: how much the error depends
    on how the flake and the molecule are cut into coarse nodes, the flake size held fixed.
    """
    from dataclasses import replace

    import torch
    from _models import model_file

    import muse_explore as mx
    from muse_explore.explore.scans import ScanSetup, interaction_curves, scan_frames
    from muse_explore.pooling import find_topology
    from muse_explore.reference import graphene_flake

    trained = mx.load_model(model_file(spec))
    rows = []
    for hops in PARTITIONS:
        levels = list(trained.config.levels)
        for k, h in enumerate(hops, start=1):
            levels[k] = replace(levels[k], hops=h)
        model = mx.MuSE(replace(trained.config, levels=tuple(levels)))
        model.load_state_dict(trained.state_dict())
        row: dict = {"hops": list(hops)}
        for rings, name in ((2, "C54H18"), (3, "C96H24")):
            flake = graphene_flake(rings)
            topo = find_topology(flake.numbers, flake.positions, flake.cell.array, flake.pbc, hops)
            setup = ScanSetup(molecule="benzene", rings=rings, distances=HEIGHTS)
            curve = interaction_curves(
                {"m": model}, setup, dtype=torch.float64, frames=scan_frames(setup)
            )["m"]["e_int"]  # fmt: skip
            ref = np.array(result["scans"][f"benzene/{name}"]["reference"])
            row[name] = {
                "nodes": topo.seed_mask.sum(axis=0).tolist(),
                "mae": float(np.abs(curve - ref).mean() * 1000),
            }
        rows.append(row)
    return rows


def _coarse_nodes(spec: str) -> dict:
    """Atoms and coarse nodes per level of each flake, as the MuSE model ``spec`` seeds them."""
    from _models import model_file

    import muse_explore as mx
    from muse_explore.pooling import find_topology
    from muse_explore.reference import graphene_flake

    levels = mx.load_model(model_file(spec)).config.levels[1:]
    hops = tuple(level.hops for level in levels)
    counts = {}
    for rings, name in FLAKES.items():
        flake = graphene_flake(rings)
        topo = find_topology(
            flake.numbers, flake.positions, flake.cell.array, flake.pbc, hops
        )  # fmt: skip
        counts[name] = {"atoms": len(flake), "levels": topo.seed_mask.sum(axis=0).tolist()}
    return counts


def _seed_key(label: str, k: int) -> str:
    """The key of a label's k-th seed model in the scans: the label itself for the first."""
    return label if k == 0 else f"{label} seed{k}"


def _write(result: dict, path: Path, t0: float) -> None:
    from muse_explore.atomic import atomic_open

    with atomic_open(path) as fh:
        json.dump(result, fh, indent=1)
    print(f"wrote {path} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
