"""The long-range result: molecule–graphene interaction energies E_int(d) on test data.

E_int = E(complex) - E(flake) - E(molecule) for GFN2-xTB, MuSE, the backbone-only baseline
and the long-range baseline (PaiNN + latent Ewald summation, when shipped), on configurations
that no model saw in training: the test split of the models' data (the files named in the
registry, split as in the shipped NAME.splits.json) and every profile scan
(graphene_scans.extxyz.xz, never used in training). Prints the error per distance range and
the force error on the test complexes. Where they exist, two test-only sets follow: the
transfer set (molecules over the larger C96H24 flake, graphene_transfer.extxyz.xz: E_int by
range) and the rattled set (thermal configurations with 0.05 Å on top,
graphene_rattled.extxyz.xz: force MAE on flakes and complexes). Writes
benchmarks/long_range.json and a plot of the scans, benchmarks/long_range.png.

    python benchmarks/long_range.py            # about a minute per model on 2 CPU cores
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import muse_explore as mx
from muse_explore.analysis import errors_by_range, interaction_energies, predict
from muse_explore.pretrained import list_pretrained, model_data, models_dir, pretrained_path
from muse_explore.training.dataset import load_splits, read_structures

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sample_data" / "data"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--muse", default="muse-painn-graphene")
    p.add_argument("--baseline", default="painn-graphene")
    p.add_argument(
        "--long-range",
        default="painn-lr-graphene",
        help="the long-range baseline (LES); skipped with a note when it is not shipped",
    )
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "long_range"))
    args = p.parse_args()
    torch.set_num_threads(2)
    t0 = time.perf_counter()

    files = model_data(args.muse)["files"]
    graphene = read_structures([ROOT / f for f in files])
    scans = read_structures([DATA / "graphene_scans.extxyz.xz"])
    splits = load_splits(models_dir() / f"{args.muse}.splits.json")
    models = {"MuSE": args.muse, "baseline": args.baseline}
    if args.long_range in list_pretrained():
        models["LES"] = args.long_range
    else:
        print(f"(no {args.long_range} in {models_dir()}: the long-range baseline is left out)")
    for label, name in list(models.items()):
        other = load_splits(models_dir() / f"{name}.splits.json")
        same = model_data(name)["files"] == files and splits["test"] == other["test"]
        if not same and label == "LES":
            print(f"({name} was trained on other data or another split: left out until retrained)")
            del models[label]
            continue
        assert same, f"{name} was trained on other data or another split than {args.muse}"
    test = [graphene[i] for i in splits["test"]]
    structures = test + scans
    ref = np.array([a.get_potential_energy() for a in structures])
    pred, forces = {}, {}
    for label, name in models.items():
        model = mx.load_model(pretrained_path(name))  # size and sha256 checked
        pred[label], forces[label] = predict(model, structures, forces=True)
    ref_rows = interaction_energies(structures, ref)
    heights = np.array([r["height"] for r in ref_rows])
    source = np.array(["scan" if r["group"][0] == "scan" else "test" for r in ref_rows])
    e_ref = np.array([r["e_int"] for r in ref_rows])
    result = {"structures": len(structures), "complexes": len(ref_rows),
              "test_split_complexes": int((source == "test").sum()),
              "scan_complexes": int((source == "scan").sum()), "models": models}  # fmt: skip
    tables = {}
    for label in models:
        rows = interaction_energies(structures, pred[label])
        e = np.array([r["e_int"] for r in rows])
        tables[label] = errors_by_range(heights, 1000 * (e - e_ref))
        result[f"e_int_{label}"] = e.tolist()
        idx = [i for i, a in enumerate(structures[: len(test)]) if a.info["part"] == "complex"]
        err = np.concatenate([forces[label][i] - structures[i].get_forces() for i in idx])
        result[f"force_mae_complexes_{label}"] = float(1000 * np.abs(err).mean())
        result.setdefault("energy_bias_per_atom", {})[label] = _bias_by_part(
            structures[: len(test)], pred[label][: len(test)], ref[: len(test)]
        )
    result["tables"] = tables
    result["heights"] = heights.tolist()
    result["e_int_reference"] = e_ref.tolist()
    result["source"] = source.tolist()

    print(
        f"E_int error on {len(ref_rows)} test complexes ({result['test_split_complexes']} from "
        f"the test split, {result['scan_complexes']} from the scans), MAE in meV"
    )
    print("| distance | complexes | " + " | ".join(f"{k} ({v})" for k, v in models.items()) + " |")
    print("|---|---:|" + "---:|" * len(models))
    for i, a in enumerate(tables["MuSE"]):
        cells = " | ".join(f"{tables[k][i]['mae']:.2f}" for k in models)
        print(f"| {a['range']} | {a['n']} | {cells} |")
    for label in models:
        print(
            f"force MAE on the test-split complexes, {label}: "
            f"{result[f'force_mae_complexes_{label}']:.1f} meV/Å"
        )
    result["mae_beyond_6A"] = {label: _beyond_6(tables[label]) for label in models}
    result["muse_mae_beyond_6A"] = result["mae_beyond_6A"]["MuSE"]
    print(
        f"MuSE beyond 6 Å: {result['muse_mae_beyond_6A']:.2f} meV (target <= 1.5; baseline "
        f"{result['mae_beyond_6A']['baseline']:.2f}); overall "
        f"{tables['MuSE'][-1]['mae']:.2f} meV (target <= 3); forces "
        f"{result['force_mae_complexes_MuSE']:.1f} meV/Å (target <= 20)"
    )
    _print_bias("energy error per atom, C54H18 test split", result["energy_bias_per_atom"])
    for key, value in _test_only_sets(models).items():
        result[key] = value
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    _plot(ref_rows, e_ref, result, out.with_suffix(".png"))
    print(
        f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')} "
        f"in {time.perf_counter() - t0:.0f} s"
    )


def _test_only_sets(models: dict) -> dict:
    """E_int by range on the C96H24 transfer set, force MAE on the rattled set (when present)."""
    out = {}
    transfer, rattled = DATA / "graphene_transfer.extxyz.xz", DATA / "graphene_rattled.extxyz.xz"
    if transfer.is_file():
        frames = read_structures([transfer])
        rows = interaction_energies(frames, np.array([a.get_potential_energy() for a in frames]))
        heights = np.array([r["height"] for r in rows])
        e_ref = np.array([r["e_int"] for r in rows])
        out["transfer_tables"] = {}
        print(f"transfer set (C96H24, {len(rows)} complexes no model trained on), E_int MAE, meV")
        for label, name in models.items():
            pred = predict(mx.load_model(pretrained_path(name)), frames)
            e = np.array([r["e_int"] for r in interaction_energies(frames, pred)])
            table = errors_by_range(heights, 1000 * (e - e_ref))
            out["transfer_tables"][label] = table
            print(f"  {label:<9}" + "  ".join(f"{t['range']}: {t['mae']:.2f}" for t in table))
            out.setdefault("transfer_energy_bias_per_atom", {})[label] = _bias_by_part(
                frames, pred, np.array([a.get_potential_energy() for a in frames])
            )
        bias = out["transfer_energy_bias_per_atom"]
        _print_bias("energy error per atom, C96H24 transfer set", bias)
        out["transfer_muse_mae_beyond_6A"] = _beyond_6(out["transfer_tables"]["MuSE"])
        print(f"MuSE beyond 6 Å on C96H24: {out['transfer_muse_mae_beyond_6A']:.2f} meV "
              "(target <= 5)")  # fmt: skip
    if rattled.is_file():
        frames = read_structures([rattled])
        out["rattled_force_mae"] = {}
        for label, name in models.items():
            _, forces = predict(mx.load_model(pretrained_path(name)), frames, forces=True)
            by_part = {}
            for part in ("flake", "complex"):
                idx = [i for i, a in enumerate(frames) if a.info["part"] == part]
                err = np.concatenate([forces[i] - frames[i].get_forces() for i in idx])
                by_part[part] = float(1000 * np.abs(err).mean())
            out["rattled_force_mae"][label] = by_part
            print(
                f"rattled set (0.05 Å on thermal flakes), force MAE, {label}: "
                f"flakes {by_part['flake']:.1f}, complexes {by_part['complex']:.1f} meV/Å"
                + (" (target <= 50)" if label == "MuSE" else "")
            )
    return out


def _bias_by_part(frames, pred: np.ndarray, ref: np.ndarray) -> dict:
    """Mean signed energy error per atom (meV/atom) of complexes, flakes and molecules.

    A model that extrapolates badly to a larger system than it was trained on shows it as a
    flake bias on the transfer set that it does not have on the test split.
    """
    out = {}
    for part in ("complex", "flake", "molecule"):
        idx = [i for i, a in enumerate(frames) if a.info["part"] == part]
        per_atom = (pred[idx] - ref[idx]) / np.array([len(frames[i]) for i in idx])
        out[part] = float(1000 * per_atom.mean())
    return out


def _print_bias(title: str, biases: dict) -> None:
    print(f"{title} (mean signed, meV/atom):")
    for label, parts in biases.items():
        print(f"  {label:<9}" + "  ".join(f"{p} {v:+.2f}" for p, v in parts.items()))


def _beyond_6(table: list[dict]) -> float:
    """The MAE over the ranges beyond 6 Å of an :func:`errors_by_range` table."""
    far = [t for t in table if t["range"] in ("6–10 Å", "> 10 Å")]
    return sum(t["mae"] * t["n"] for t in far) / max(sum(t["n"] for t in far), 1)


def _plot(rows, e_ref, result, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scans = sorted({r["group"][1] for r in rows if r["group"][0] == "scan"})
    first = {}
    for s in scans:  # the first orientation of each molecule
        mol = next(r["molecule"] for r in rows if r["group"] == ("scan", s))
        first.setdefault(mol, s)
    fig, axes = plt.subplots(2, len(first), figsize=(4 * len(first), 6.5), sharex=True)
    for k, (mol, s) in enumerate(first.items()):
        idx = [i for i, r in enumerate(rows) if r["group"] == ("scan", s)]
        h = np.array([rows[i]["height"] for i in idx])
        for row, ylim in ((0, None), (1, (-60, 60))):
            ax = axes[row, k]
            ax.plot(h, 1000 * e_ref[idx], "k-o", ms=3, label="GFN2-xTB")
            for label, style in (("MuSE", "C0-s"), ("baseline", "C3--^"), ("LES", "C2:v")):
                if f"e_int_{label}" not in result:
                    continue
                e = np.array(result[f"e_int_{label}"])[idx]
                ax.plot(h, 1000 * e, style, ms=3, label=label)
            ax.axhline(0, color="0.7", lw=0.8)
            if ylim:
                ax.set_ylim(*ylim)
                ax.set_xlabel("height above the flake (Å)")
            else:
                ax.set_title(mol)
        axes[0, k].set_ylabel("E_int (meV)") if k == 0 else None
        axes[1, k].set_ylabel("E_int (meV), zoom") if k == 0 else None
    axes[0, 0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
