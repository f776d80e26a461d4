"""The long-range result: molecule–graphene interaction energies E_int(d) on test data.

E_int = E(complex) - E(flake) - E(molecule) for GFN2-xTB and every shipped graphene model of
the protocol: MuSE-PaiNN (``MuSE``), its backbone-only baseline (``baseline``) and the
long-range baseline (``LES``, PaiNN + latent Ewald summation), and the MACE and SO3krates
pairs (``MuSE-MACE``/``MACE``, ``MuSE-SO3krates``/``SO3krates``) once shipped. A model's
retrainings with other seeds (``NAME-seed1``, ...) are found and every number is reported as
mean ± sd over seeds. The data are configurations that no model saw in training: the test
split of the models' data (the files named in the registry, split as in the shipped
NAME.splits.json; every model must have the same split and training data) and every profile scan
(graphene_scans.extxyz.xz, never used in training). Prints the error per distance range and
the force error on the test complexes, then one row per backbone: MuSE against its own
baseline. Where they exist, two test-only sets follow: the transfer set (molecules over the
larger C96H24 flake, graphene_transfer.extxyz.xz: E_int by range) and the rattled set
(thermal configurations with 0.05 Å on top, graphene_rattled.extxyz.xz: force MAE on flakes
and complexes). Writes benchmarks/long_range.json, a plot of the scans,
benchmarks/long_range.png, and the per-backbone bars, benchmarks/long_range_backbones.png.

    python benchmarks/long_range.py            # about a minute per model on 2 CPU cores
    python benchmarks/long_range.py --models MuSE baseline --out /tmp/lr
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from _models import (
    DATA,
    GRAPHENE_PAIRS,
    add_graphene_models,
    backbone_of,
    graphene_labels,
    mean_sd,
    pm,
    seed_models,
    shipped_models,
)

import muse_explore as mx
from muse_explore.analysis import errors_by_range, interaction_energies, predict
from muse_explore.pretrained import model_data, models_dir, pretrained_path
from muse_explore.training.dataset import load_splits, read_structures

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    known = graphene_labels()
    add_graphene_models(p, known)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "long_range"))
    args = p.parse_args()
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    models = shipped_models(args.models, known)
    first = next(iter(models.values()))
    data = model_data(first)  # split files and training-only files: the same for every model
    splits = load_splits(models_dir() / f"{first}.splits.json")
    seeds = {}
    for label, name in models.items():
        for seed_name in seed_models(name):
            other = load_splits(models_dir() / f"{seed_name}.splits.json")
            if model_data(seed_name) != data or splits["test"] != other["test"]:
                raise SystemExit(f"{seed_name} was trained on other data or another split than "
                                 f"{first}: retrain it under the protocol")  # fmt: skip
        seeds[label] = seed_models(name)
    graphene = read_structures([ROOT / f for f in data["files"]])
    scans = read_structures([DATA / "graphene_scans.extxyz.xz"])
    test = [graphene[i] for i in splits["test"]]
    structures = test + scans
    ref = np.array([a.get_potential_energy() for a in structures])
    ref_rows = interaction_energies(structures, ref)
    heights = np.array([r["height"] for r in ref_rows])
    source = np.array(["scan" if r["group"][0] == "scan" else "test" for r in ref_rows])
    e_ref = np.array([r["e_int"] for r in ref_rows])
    complexes = [i for i, a in enumerate(test) if a.info["part"] == "complex"]
    per_seed = {}  # label -> one evaluation per seed
    for label, names in seeds.items():
        per_seed[label] = []
        for name in names:
            pred, forces = predict(mx.load_model(pretrained_path(name)), structures, forces=True)
            e = np.array([r["e_int"] for r in interaction_energies(structures, pred)])
            err = np.concatenate([forces[i] - test[i].get_forces() for i in complexes])
            table = errors_by_range(heights, 1000 * (e - e_ref))
            per_seed[label].append({
                "e_int": e, "table": table, "beyond_6A": _beyond_6(table),
                "force_mae": float(1000 * np.abs(err).mean()),
                "bias": _bias_by_part(test, pred[: len(test)], ref[: len(test)]),
            })  # fmt: skip
    result = {"structures": len(structures), "complexes": len(ref_rows),
              "test_split_complexes": int((source == "test").sum()),
              "scan_complexes": int((source == "scan").sum()), "models": models,
              "seeds": seeds}  # fmt: skip
    tables = {label: _mean_table([r["table"] for r in runs]) for label, runs in per_seed.items()}
    for label, runs in per_seed.items():
        result[f"e_int_{label}"] = np.mean([r["e_int"] for r in runs], axis=0).tolist()
        result[f"force_mae_complexes_{label}"] = mean_sd([r["force_mae"] for r in runs])[0]
        result.setdefault("force_mae_complexes_seeds", {})[label] = [r["force_mae"] for r in runs]
        result.setdefault("energy_bias_per_atom", {})[label] = _mean_dict([r["bias"] for r in runs])
    result["tables"] = tables
    result["heights"] = heights.tolist()
    result["e_int_reference"] = e_ref.tolist()
    result["source"] = source.tolist()
    result["mae_beyond_6A_seeds"] = {k: [r["beyond_6A"] for r in v] for k, v in per_seed.items()}
    result["mae_beyond_6A"] = {k: mean_sd(v)[0] for k, v in result["mae_beyond_6A_seeds"].items()}

    print(
        f"E_int error on {len(ref_rows)} test complexes ({result['test_split_complexes']} from "
        f"the test split, {result['scan_complexes']} from the scans), MAE in meV "
        "(mean ± sd over seeds where there are several)"
    )
    print("| distance | complexes | " + " | ".join(f"{k} ({v})" for k, v in models.items()) + " |")
    print("|---|---:|" + "---:|" * len(models))
    for i, a in enumerate(next(iter(tables.values()))):
        cells = " | ".join(pm(tables[k][i]["mae_seeds"], ".2f") for k in models)
        print(f"| {a['range']} | {a['n']} | {cells} |")
    for label in models:
        print(f"force MAE on the test-split complexes, {label} ({len(seeds[label])} seed(s)): "
              f"{pm(result['force_mae_complexes_seeds'][label])} meV/Å")  # fmt: skip
    if "MuSE" in models:
        result["muse_mae_beyond_6A"] = result["mae_beyond_6A"]["MuSE"]
        print(
            f"MuSE beyond 6 Å: {pm(result['mae_beyond_6A_seeds']['MuSE'], '.2f')} meV "
            f"(target <= 1.5); overall {pm(tables['MuSE'][-1]['mae_seeds'], '.2f')} meV "
            f"(target <= 3); forces {pm(result['force_mae_complexes_seeds']['MuSE'])} meV/Å "
            "(target <= 20)"
        )
    _print_bias("energy error per atom, C54H18 test split", result["energy_bias_per_atom"])
    for key, value in _test_only_sets(seeds).items():
        result[key] = value
    result["backbones"] = _backbone_rows(result, tables)
    from muse_explore.atomic import atomic_open

    out = Path(args.out)
    with atomic_open(out.with_suffix(".json")) as fh:
        fh.write(json.dumps(result, indent=1) + "\n")
    _plot(ref_rows, e_ref, result, out.with_suffix(".png"))
    written = [out.with_suffix(".json"), out.with_suffix(".png")]
    if result["backbones"]:
        written.append(out.with_name(out.name + "_backbones.png"))
        _plot_backbones(result["backbones"], written[-1])
    print(f"wrote {', '.join(map(str, written))} in {time.perf_counter() - t0:.0f} s")


def _plot_backbones(rows: dict, path: Path) -> None:
    """MuSE against its own baseline, per backbone: grouped bars, seed spread as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (("all", "E_int, all distances"), ("beyond_6A", "E_int beyond 6 Å"),
              ("transfer_beyond_6A", "E_int beyond 6 Å, C96H24 (held out)"),
              ("forces", "forces (meV/Å)"))  # fmt: skip
    backbones = list(rows)
    x = np.arange(len(backbones))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.4))
    for ax, (key, title) in zip(axes, panels, strict=True):
        for k, (role, color) in enumerate((("MuSE", "C0"), ("baseline", "C3"))):
            values = [rows[b][role].get(key, [np.nan]) for b in backbones]
            means = [np.mean(v) for v in values]
            sds = [np.std(v, ddof=1) if len(v) > 1 else 0.0 for v in values]
            ax.bar(x + (k - 0.5) * 0.38, means, 0.38, yerr=sds, capsize=3, color=color,
                   label=role)  # fmt: skip
        ax.set_xticks(x, backbones)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("MAE (meV)")
    axes[0].legend()
    fig.suptitle("MuSE against its own backbone, per backbone (mean ± sd over seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _mean_table(tables: list[list[dict]]) -> list[dict]:
    """One :func:`errors_by_range` table per seed -> the mean table, with each seed's MAE."""
    out = []
    for rows in zip(*tables, strict=True):
        maes = [r["mae"] for r in rows]
        m, sd = mean_sd(maes)
        out.append({"range": rows[0]["range"], "n": rows[0]["n"], "mae": m, "mae_sd": sd,
                    "mae_seeds": maes})  # fmt: skip
    return out


def _mean_dict(dicts: list[dict]) -> dict:
    return {k: float(np.mean([d[k] for d in dicts])) for k in dicts[0]}


def _backbone_rows(result: dict, tables: dict) -> dict:
    """Per backbone with both models shipped: MuSE against its own baseline (means, sds, seeds)."""
    rows = {}
    for backbone in GRAPHENE_PAIRS:
        pair = {role: label for label in tables if (b := backbone_of(label)) and b[0] == backbone
                for role in [b[1]]}  # fmt: skip
        if set(pair) != {"MuSE", "baseline"}:
            continue
        row = {"labels": pair}
        for role, label in pair.items():
            entry = {
                "seeds": len(result["seeds"][label]),
                "all": tables[label][-1]["mae_seeds"],
                "beyond_6A": result["mae_beyond_6A_seeds"][label],
                "forces": result["force_mae_complexes_seeds"][label],
            }
            if "transfer_beyond_6A_seeds" in result:
                entry["transfer_beyond_6A"] = result["transfer_beyond_6A_seeds"][label]
            row[role] = entry
        rows[backbone] = row
    if rows:
        print("\nPer backbone, MuSE against its own baseline (MAE, mean ± sd over seeds):")
        print("| backbone | seeds | E_int all (meV) | beyond 6 Å (meV) | C96H24 beyond 6 Å (meV) | "
              "forces (meV/Å) |")  # fmt: skip
        print("|---|---:|---:|---:|---:|---:|")
        for backbone, row in rows.items():
            m, b = row["MuSE"], row["baseline"]
            cells = [f"{m['seeds']}/{b['seeds']}"]
            for key, fmt in (("all", ".1f"), ("beyond_6A", ".1f"), ("transfer_beyond_6A", ".1f"),
                             ("forces", ".0f")):  # fmt: skip
                cells.append(f"{pm(m[key], fmt)} / {pm(b[key], fmt)}" if key in m else "-")
            print(f"| {backbone} | " + " | ".join(cells) + " |")
    return rows


def _test_only_sets(seeds: dict[str, list[str]]) -> dict:
    """E_int by range on the C96H24 transfer set, force MAE on the rattled set (when present)."""
    out = {}
    transfer, rattled = DATA / "graphene_transfer.extxyz.xz", DATA / "graphene_rattled.extxyz.xz"
    if transfer.is_file():
        frames = read_structures([transfer])
        e_frames = np.array([a.get_potential_energy() for a in frames])
        rows = interaction_energies(frames, e_frames)
        heights = np.array([r["height"] for r in rows])
        e_ref = np.array([r["e_int"] for r in rows])
        out["transfer_tables"], out["transfer_beyond_6A_seeds"] = {}, {}
        print(f"transfer set (C96H24, {len(rows)} complexes no model trained on), E_int MAE, meV")
        for label, names in seeds.items():
            tables, biases = [], []
            for name in names:
                pred = predict(mx.load_model(pretrained_path(name)), frames)
                e = np.array([r["e_int"] for r in interaction_energies(frames, pred)])
                tables.append(errors_by_range(heights, 1000 * (e - e_ref)))
                biases.append(_bias_by_part(frames, pred, e_frames))
            table = _mean_table(tables)
            out["transfer_tables"][label] = table
            out["transfer_beyond_6A_seeds"][label] = [_beyond_6(t) for t in tables]
            print(f"  {label:<15}" + "  ".join(f"{t['range']}: {pm(t['mae_seeds'], '.2f')}"
                                              for t in table))  # fmt: skip
            out.setdefault("transfer_energy_bias_per_atom", {})[label] = _mean_dict(biases)
        bias = out["transfer_energy_bias_per_atom"]
        _print_bias("energy error per atom, C96H24 transfer set", bias)
        if "MuSE" in seeds:
            far = out["transfer_beyond_6A_seeds"]["MuSE"]
            out["transfer_muse_mae_beyond_6A"] = mean_sd(far)[0]
            print(f"MuSE beyond 6 Å on C96H24: {pm(far, '.2f')} meV (target <= 5)")
    if rattled.is_file():
        frames = read_structures([rattled])
        out["rattled_force_mae"] = {}
        for label, names in seeds.items():
            per = []
            for name in names:
                _, forces = predict(mx.load_model(pretrained_path(name)), frames, forces=True)
                by_part = {}
                for part in ("flake", "complex"):
                    idx = [i for i, a in enumerate(frames) if a.info["part"] == part]
                    err = np.concatenate([forces[i] - frames[i].get_forces() for i in idx])
                    by_part[part] = float(1000 * np.abs(err).mean())
                per.append(by_part)
            out["rattled_force_mae"][label] = _mean_dict(per)
            out.setdefault("rattled_force_mae_seeds", {})[label] = {
                part: [d[part] for d in per] for part in ("flake", "complex")
            }
            print(
                f"rattled set (0.05 Å on thermal flakes), force MAE, {label}: flakes "
                f"{pm([d['flake'] for d in per])}, complexes {pm([d['complex'] for d in per])} "
                "meV/Å" + (" (target <= 50)" if label == "MuSE" else "")
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
        print(f"  {label:<15}" + "  ".join(f"{p} {v:+.2f}" for p, v in parts.items()))


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
