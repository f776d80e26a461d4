"""Profile benchmark: molecule–graphene E_int(d) curves, MuSE against its baselines and LES.

    python benchmarks/graphene_profiles.py      # under a minute on 2 CPU cores

The ten profile scans of sample_data/data/graphene_scans.extxyz.xz (benzene, pyridine,
naphthalene, water and 1,8-naphthyridine over circumcoronene, two orientations each, 22
heights from 2.6 to 20 Å; never used in training): E_int(d) = E(complex) − E(flake) −
E(molecule) for each model and for GFN2-xTB. Reports, per model, the error per distance range
(averaged over all scans) and the position and depth of the well (a natural cubic spline
through the 22 points, :func:`muse_explore.analysis.profile_minimum`): the mean absolute
error of d_min (Å) and of E_min (meV) against GFN2-xTB's, and the mean relative error of the
depth (its sign says whether a model over- or underbinds). The models are every shipped
graphene model of the protocol (or ``--models``); with retrainings on other seeds
(``NAME-seed1``, ...) the summary is mean ± sd over seeds and the curves are the first
seed's. Writes benchmarks/graphene_profiles.json and the curves,
benchmarks/graphene_profiles.png.
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
    add_graphene_models,
    graphene_labels,
    mean_sd,
    parse_models,
    pm,
    seed_models,
)

import muse_explore as mx
from muse_explore.analysis import errors_by_range, interaction_energies, predict, profile_minimum
from muse_explore.pretrained import pretrained_path
from muse_explore.training.dataset import read_structures

ROOT = Path(__file__).resolve().parents[1]
SCANS = DATA / "graphene_scans.extxyz.xz"


def profiles(structures, energies) -> dict[int, dict]:
    """Per scan: molecule, heights (Å) and E_int (eV), sorted by height."""
    out: dict[int, dict] = {}
    for r in interaction_energies(structures, energies):
        scan = out.setdefault(r["group"][1], {"molecule": r["molecule"], "d": [], "e": []})
        scan["d"].append(r["height"])
        scan["e"].append(r["e_int"])
    for scan in out.values():
        order = np.argsort(scan["d"])
        scan["d"] = np.array(scan["d"])[order]
        scan["e"] = np.array(scan["e"])[order]
    return out


def main() -> None:
    known = graphene_labels()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_graphene_models(p, known)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "graphene_profiles"))
    args = p.parse_args()
    torch.set_num_threads(2)
    t0 = time.perf_counter()
    frames = read_structures([SCANS])
    ref = profiles(frames, [a.get_potential_energy() for a in frames])
    models = parse_models(args.models, known)
    seeds = {label: seed_models(name) for label, name in models.items()}
    pred = {}  # label -> one set of profiles per seed
    for label, names in seeds.items():
        pred[label] = [profiles(frames, predict(mx.load_model(pretrained_path(n)), frames))
                       for n in names]  # fmt: skip

    result = {"models": models, "seeds": seeds, "scans": {}, "summary": {}}
    for scan, r in ref.items():
        well = profile_minimum(r["d"], r["e"])
        entry = {"molecule": r["molecule"], "heights": r["d"].tolist(),
                 "reference": {"e_int": r["e"].tolist(), **well}}  # fmt: skip
        for label in models:
            wells = [profile_minimum(r["d"], p[scan]["e"]) for p in pred[label]]
            entry[label] = {"e_int": pred[label][0][scan]["e"].tolist(), **wells[0],
                            "seeds": wells}  # fmt: skip
        result["scans"][str(scan)] = entry

    names = ", ".join(sorted({r["molecule"] for r in ref.values()}))
    heights = len(next(iter(ref.values()))["d"])
    print(f"{len(ref)} E_int(d) profiles ({names}), {heights} heights each, against GFN2-xTB "
          "(wells of the first seed)")  # fmt: skip
    header = f"{'scan':<22}{'GFN2-xTB d_min, E_min':>24}" + "".join(f"{k:>22}" for k in models)
    print(header)
    for scan, e in result["scans"].items():
        cells = "".join(f"{e[k]['d_min']:>11.2f} Å{1000 * e[k]['e_min']:>7.0f} meV" for k in models)
        ref_cell = f"{e['reference']['d_min']:>11.2f} Å{1000 * e['reference']['e_min']:>8.0f} meV"
        print(f"{e['molecule'] + ' #' + scan:<22}{ref_cell}{cells}")

    d_all = np.concatenate([r["d"] for r in ref.values()])
    for label in models:
        per_seed = [_summary(ref, p, [e[label]["seeds"][s] for e in result["scans"].values()],
                             [e["reference"] for e in result["scans"].values()], d_all)
                    for s, p in enumerate(pred[label])]  # fmt: skip
        ranges = [r["range"] for r in per_seed[0]["ranges"]]
        summary = {
            "ranges": [{"range": rng, "n": per_seed[0]["ranges"][i]["n"],
                        "mae": mean_sd([p["ranges"][i]["mae"] for p in per_seed])[0],
                        "mae_seeds": [p["ranges"][i]["mae"] for p in per_seed]}
                       for i, rng in enumerate(ranges)],
            "seeds": len(per_seed),
        }  # fmt: skip
        for key in ("d_min_mae", "e_min_mae_mev", "e_min_mean_rel_error"):
            summary[key] = mean_sd([p[key] for p in per_seed])[0]
            summary[f"{key}_seeds"] = [p[key] for p in per_seed]
        result["summary"][label] = summary
    ranges = [t["range"] for t in result["summary"][next(iter(models))]["ranges"]]
    print()
    print("| model | seeds | " + " | ".join(f"E_int MAE {r} (meV)" for r in ranges)
          + " | well position MAE (Å) | well depth MAE (meV) | mean depth error (%) |")  # fmt: skip
    print("|---|---:|" + "---:|" * (len(ranges) + 3))
    for label, s in result["summary"].items():
        cells = [pm(t["mae_seeds"], ".1f") for t in s["ranges"]]
        cells += [pm(s["d_min_mae_seeds"], ".3f"), pm(s["e_min_mae_mev_seeds"], ".1f"),
                  pm(100 * np.array(s["e_min_mean_rel_error_seeds"]), "+.1f")]  # fmt: skip
        print(f"| {label} | {s['seeds']} | " + " | ".join(cells) + " |")
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    _plot(result, models, out.with_suffix(".png"))
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')} "
          f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip


def _summary(ref: dict, pred: dict, wells: list[dict], ref_wells: list[dict], d_all) -> dict:
    """One model's (one seed's) errors over the scans: by range, and of the wells."""
    err = np.concatenate([pred[s]["e"] - ref[s]["e"] for s in ref])
    pairs = list(zip(wells, ref_wells, strict=True))
    return {
        "ranges": errors_by_range(d_all, 1000 * err),
        "d_min_mae": float(np.mean([abs(w["d_min"] - r["d_min"]) for w, r in pairs])),
        "e_min_mae_mev": float(1000 * np.mean([abs(w["e_min"] - r["e_min"]) for w, r in pairs])),
        "e_min_mean_rel_error": float(np.mean([(w["e_min"] - r["e_min"]) / abs(r["e_min"])
                                               for w, r in pairs])),
    }  # fmt: skip


def _plot(result: dict, models: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = {"MuSE": ("C0", "-"), "baseline": ("C3", "--"), "LES": ("C2", "-.")}
    scans = list(result["scans"].values())
    cols = (len(scans) + 1) // 2
    fig, axes = plt.subplots(2, cols, figsize=(3.2 * cols, 6.4), sharex=True)
    for ax, e in zip(axes.T.flat, scans, strict=False):
        d = np.array(e["heights"])
        ax.plot(d, 1000 * np.array(e["reference"]["e_int"]), "ko", ms=3, label="GFN2-xTB")
        for label in models:
            color, ls = styles.get(label, ("C1", ":"))
            ax.plot(d, 1000 * np.array(e[label]["e_int"]), color=color, ls=ls, lw=1.2, label=label)
        depth = 1000 * e["reference"]["e_min"]
        ax.set_ylim(1.25 * depth, -0.35 * depth)
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_xscale("log")
        ax.set_xticks([3, 5, 10, 20], ["3", "5", "10", "20"])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(e["molecule"], fontsize=10)
    for ax in axes[:, 0]:
        ax.set_ylabel("E_int (meV)")
    for ax in axes[-1]:
        ax.set_xlabel("height d (Å)")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
