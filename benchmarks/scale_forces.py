"""Which of MuSE's scales carries its force error: each scale's share of the forces on test data.

MuSE's energy is a sum over scales, E = E_atoms + E_level1 + E_level2, and so are its forces:
F_i = -∂E_atoms/∂r_i - ∂E_level1/∂r_i - ... (``muse_explore.calc.derivatives.scale_forces``).
For every shipped graphene model of the protocol (MuSE models and their baselines, every
seed) this script takes the test-split complexes (the models' own split, never trained on)
and the rattled set's flakes and complexes (0.05 Å on thermal flakes, test only) and reports,
against GFN2-xTB, in meV/Å:

* the force MAE of the model, on all atoms and on the flake's and the molecule's atoms;
* for a MuSE model, the MAE of its atom scale's share alone and the RMS size of each coarse
  level's share: whether the coarse levels' forces repair or add to the atom scale's error;
* for LES (``long_range: les``), the same split between its latent Ewald term
  (``muse_explore.calc.derivatives.long_range_forces``) and the rest, its local part.

A share is one scale's energy term differentiated: with the shared down pass the atom scale's
term already depends on the coarse levels, so "the atom scale's share alone" is not a model
without coarse levels, only what the coarse energy terms add on top.

    OMP_NUM_THREADS=1 python benchmarks/scale_forces.py               # every shipped model
    OMP_NUM_THREADS=1 python benchmarks/scale_forces.py --models MuSE-MACE MACE --out /tmp/sf

A run in progress is measured as the other graphene scripts do, from an export into a folder
of one's own (``MUSE_EXPLORE_DATA``; benchmarks/README.md, "A run in progress").
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from _models import DATA, add_graphene_models, graphene_labels, pm, seed_models, shipped_models

import muse_explore as mx
from muse_explore.calc.derivatives import long_range_forces, scale_forces
from muse_explore.calc.evaluate import evaluation_model
from muse_explore.pretrained import model_data, models_dir, pretrained_path
from muse_explore.training.dataset import load_splits, read_structures

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    known = graphene_labels()
    add_graphene_models(p, known)
    p.add_argument(
        "--limit", type=int, default=100, help="structures per set (the first ones; default 100)"
    )
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "scale_forces.json"))
    args = p.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    models = shipped_models(args.models, known)
    first = next(iter(models.values()))
    data = model_data(first)
    splits = load_splits(models_dir() / f"{first}.splits.json")
    graphene = read_structures([ROOT / f for f in data["files"]])
    test = [graphene[i] for i in splits["test"] if graphene[i].info["part"] == "complex"]
    rattled = read_structures([DATA / "graphene_rattled.extxyz.xz"])
    sizes = _flake_sizes(graphene) | _flake_sizes(rattled)
    sets = {
        "test complexes": test[: args.limit],
        "rattled flakes": [a for a in rattled if a.info["part"] == "flake"][: args.limit],
        "rattled complexes": [a for a in rattled if a.info["part"] == "complex"][: args.limit],
    }
    result = {"models": models, "limit": args.limit,
              "structures": {k: len(v) for k, v in sets.items()}, "sets": {}}  # fmt: skip
    for set_name, frames in sets.items():
        result["sets"][set_name] = rows = {}
        for label, name in models.items():
            names = seed_models(name)
            runs = [_measure(mx.load_model(pretrained_path(n)), frames, sizes) for n in names]
            rows[label] = {key: [r[key] for r in runs] for key in runs[0]}
            rows[label]["seeds"] = names
        _print(set_name, len(frames), rows)
    from muse_explore.atomic import atomic_open

    out = Path(args.out)
    with atomic_open(out) as fh:
        fh.write(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out} in {time.perf_counter() - t0:.0f} s")


def _measure(model, frames, sizes: dict, batch_size: int = 8) -> dict:
    """Force MAE (meV/Å) in all, on flake and molecule atoms; per-scale shares for MuSE, the
    long-range term's share for LES."""
    errors, shares_all, flake_mask = [], [], []
    long_range = getattr(model, "long_range", None) is not None
    with evaluation_model(model, torch.float64) as run:
        conv = run.graph_converter(dtype=torch.float64)
        for s in range(0, len(frames), batch_size):
            chunk = frames[s : s + batch_size]
            batch = conv.batch(chunk)
            shares = scale_forces(run, batch).numpy()  # (n, L+1, 3)
            if long_range:  # LES: its term's share split off the atom level's, last
                lr = long_range_forces(run, batch).numpy()[:, None]
                shares = np.concatenate([shares[:, :1] - lr, shares[:, 1:], lr], axis=1)
            ref = np.concatenate([a.get_forces() for a in chunk])
            shares_all.append(shares)
            errors.append(shares.sum(axis=1) - ref)
            flake_mask.append(np.concatenate([_on_flake(a, sizes) for a in chunk]))
    err = np.concatenate(errors)
    shares = np.concatenate(shares_all)
    flake = np.concatenate(flake_mask)
    ref = shares.sum(axis=1) - err
    out = {"mae": 1000 * float(np.abs(err).mean()),
           "mae_flake": 1000 * float(np.abs(err[flake]).mean())}  # fmt: skip
    if (~flake).any():
        out["mae_molecule"] = 1000 * float(np.abs(err[~flake]).mean())
    if shares.shape[1] > 1:
        out["mae_atom_share"] = 1000 * float(np.abs(shares[:, 0] - ref).mean())
        rms = [1000 * float(np.sqrt((shares[:, k] ** 2).mean())) for k in range(shares.shape[1])]
        if long_range:
            out["rms_long_range"] = rms.pop()
        for level in range(1, len(rms)):
            out[f"rms_level{level}"] = rms[level]
    return out


def _flake_sizes(frames) -> dict:
    """(set, config) -> atom count of that configuration's flake (a complex is flake first)."""
    return {(a.info["set"], int(a.info["config"])): len(a) for a in frames
            if a.info["part"] == "flake"}  # fmt: skip


def _on_flake(atoms, sizes: dict) -> np.ndarray:
    """Which atoms of a flake or a complex belong to the flake."""
    if atoms.info["part"] == "flake":
        return np.ones(len(atoms), dtype=bool)
    key = (atoms.info["set"], int(atoms.info["config"]))
    if key not in sizes:
        raise SystemExit(f"no flake of {key} beside its complex: the set is not in triples")
    return np.arange(len(atoms)) < sizes[key]


def _print(set_name: str, n: int, rows: dict) -> None:
    print(f"\n{set_name} ({n} structures), force MAE against GFN2-xTB, meV/Å "
          "(mean ± sd over seeds)")  # fmt: skip
    print("| model | seeds | all atoms | flake atoms | molecule atoms "
          "| atom scale's (LES: local) share alone | RMS share, level 1 | RMS share, level 2 "
          "| RMS share, LES term |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    keys = ("mae", "mae_flake", "mae_molecule", "mae_atom_share", "rms_level1", "rms_level2",
            "rms_long_range")  # fmt: skip
    for label, r in rows.items():
        cells = [pm(r[k]) if k in r else "–" for k in keys]
        print(f"| {label} | {len(r['seeds'])} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
