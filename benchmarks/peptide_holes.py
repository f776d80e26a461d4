"""Holes in the peptide models' energy surfaces: what a geometry fault costs, against GFN2-xTB.

    OMP_NUM_THREADS=1 python benchmarks/peptide_holes.py            # references cached: minutes
    OMP_NUM_THREADS=1 python benchmarks/peptide_holes.py --quick    # 12 draws, scratch cache
    python benchmarks/peptide_holes.py --models MuSE=runs/x/best_model.pt --out /tmp/holes.json

The folding runs (benchmarks/README.md, "Peptide folding") showed every peptide model walking
into geometries its training data never reached (two hydrogens pressed together, a bond
angle folded shut) where its energy was far below GFN2-xTB's. This benchmark measures that
directly, with no MD: draws of ``muse_explore.reference.peptide_faults`` (Ac-(Ala)n-NHMe,
n = 4…15, one hydrogen turned about its parent into a contact or a folded angle) from their
own seed (:data:`SEED`, not the ``peptide-faults`` training set's, so that set can join the
training data without touching this test), each with its undistorted chain. For every draw
and model the **fault's cost** is ΔE = E(faulted) − E(undistorted chain); reported per model
(mean ± sd over the shipped training seeds), for contacts and folded angles apart:

* the mean signed error of ΔE (negative: the model makes the fault too cheap) and its MAE;
* **downhill**: the share of draws where the model's ΔE is negative, i.e. the model would
  pull the chain into the fault (GFN2-xTB's ΔE is positive for every draw);
* **under half**: the share where the model's ΔE is below half of GFN2-xTB's;
* the force MAE on the faulted structures.

GFN2-xTB energies and forces are cached in benchmarks/peptide_holes_reference.json (written
atomically every 10 draws: a killed run resumes). Writes benchmarks/peptide_holes.json.

**The folding runs' own faults.** The draws above come from the generator the ``peptide-faults``
training set comes from, so a model trained on that set is tested in its own distribution.
The second part tests it on geometries no generator made: frames of earlier folding runs
(benchmarks/peptide_holes_md.extxyz.xz), each labelled by GFN2-xTB. ``--collect-md TRAJ ...``
builds that file from folding trajectories (benchmarks/folding/KEY.extxyz.xz): in every run,
up to :data:`MD_FAULTS_PER_RUN` frames with a geometry fault
(``muse_explore.analysis.geometry_faults``) and :data:`MD_CLEAN_PER_RUN` without one, evenly
spread over the run (written atomically every 10 frames: a killed collection resumes). For
every model the **depth of a hole** is its energy error on a fault frame minus its mean error
on the clean frames of the same run (which removes the model's constant offset on that run):
negative means the fault is too cheap; reported with the share of *deep* holes (deeper than
:data:`DEEP_EV`) and the force MAE on both kinds of frame; a third table lists every fault
frame deeper than :data:`DEEP_EV` for any model, with each model's depth there (each frame's
depth is in the JSON, ``md.per_seed.LABEL[i].depths_eV``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _models import calculator, parse_models, pm, provenance, seed_models

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "peptide_holes_reference.json"
MD_FRAMES = ROOT / "peptide_holes_md.extxyz.xz"
MD_FAULTS_PER_RUN = 12
MD_CLEAN_PER_RUN = 6
#: a hole deeper than this counts as "deep": about twice the clean frames' energy scatter (eV)
DEEP_EV = 0.5
MODELS = {"MuSE": "muse-painn-peptide", "baseline": "painn-peptide", "LES": "painn-lr-peptide"}
#: The draws' seed: not the training set's (``make-data peptide-faults`` uses 6).
SEED = 60
DRAWS = 120
KINDS = ("contact", "folded angle")


def _structures(spec: dict):
    from muse_explore.reference.peptide import alanine_peptide
    from muse_explore.reference.peptide_faults import build_fault_frames

    return build_fault_frames(spec)[0], alanine_peptide(
        spec["residues"], phi=spec["phi"], psi=spec["psi"]
    )


def references(specs: list[dict], cache: Path) -> list[dict]:
    """GFN2-xTB energy of each draw's faulted and undistorted chain, forces of the faulted."""
    from muse_explore.atomic import atomic_open
    from muse_explore.reference.xtb import single_point

    data = json.loads(cache.read_text()) if cache.is_file() else {}
    if data.get("specs") != specs:
        data = {"specs": specs, "rows": []}
    for spec in specs[len(data["rows"]) :]:
        faulted, chain = _structures(spec)
        f, c = single_point(faulted), single_point(chain)
        data["rows"].append({
            "faulted": float(f.get_potential_energy()), "chain": float(c.get_potential_energy()),
            "forces": np.round(f.get_forces(), 6).tolist(),
        })  # fmt: skip
        if len(data["rows"]) % 10 == 0 or len(data["rows"]) == len(specs):
            with atomic_open(cache) as fh:
                json.dump(data, fh)
            print(f"  GFN2-xTB: {len(data['rows'])} / {len(specs)} draws", flush=True)
    return data["rows"]


def _spread(items: list, k: int) -> list:
    """Up to ``k`` items, evenly spread over ``items`` (first and last included)."""
    if len(items) <= k:
        return list(items)
    return [items[i] for i in np.unique(np.linspace(0, len(items) - 1, k).round().astype(int))]


def collect_md(trajs: list[Path], out: Path) -> list:
    """Fault and clean frames of folding trajectories, labelled by GFN2-xTB, written to ``out``.

    Each frame keeps where it came from (``info``: ``source`` run, ``time_ps``, the ``model``
    that ran it) and its worst fault (``fault``: ``contact``, ``folded angle`` or ``none``;
    ``fault_atoms``, ``fault_distance``). Frames already in ``out`` are not labelled again.
    """
    from ase import Atoms
    from ase.io import read, write

    from muse_explore.analysis import geometry_faults
    from muse_explore.atomic import atomic_path
    from muse_explore.reference.peptide import alanine_peptide, peptide_bonds
    from muse_explore.reference.xtb import single_point

    picked = []
    for path in trajs:
        traj = read(path, ":")
        residues = int(traj[0].info["n_residues"])
        start, bonds = alanine_peptide(residues, conformation="extended"), peptide_bonds(residues)
        faulted, clean = [], []
        for f in traj:
            worst = geometry_faults(f, bonds, start)[:1]
            (faulted if worst else clean).append((f, worst[0] if worst else None))
        print(f"  {path.name}: {len(traj)} frames, {len(faulted)} with a fault", flush=True)
        for f, w in _spread(faulted, MD_FAULTS_PER_RUN) + _spread(clean, MD_CLEAN_PER_RUN):
            atoms = Atoms(f.numbers, f.positions)
            atoms.info = {
                "source": path.name.removesuffix(".extxyz.xz"), "model": f.info.get("model", ""),
                "time_ps": float(f.info["time_ps"]), "n_residues": residues,
                "fault": w["kind"] if w else "none",
                "fault_atoms": list(map(int, w["atoms"])) if w else [],
                "fault_distance": round(float(w["distance"]), 4) if w else 0.0,
            }  # fmt: skip
            picked.append(atoms)
    done = read(out, ":") if out.is_file() else []
    have = {(a.info["source"], round(float(a.info["time_ps"]), 4)) for a in done}
    todo = [a for a in picked if (a.info["source"], round(a.info["time_ps"], 4)) not in have]
    for i, atoms in enumerate(todo, 1):
        done.append(single_point(atoms))
        if i % 10 == 0 or i == len(todo):
            with atomic_path(out) as tmp:
                write(tmp, done, format="extxyz")
            print(f"  GFN2-xTB: {i} / {len(todo)} frames", flush=True)
    return done


def _md_measures(frames: list, energies, forces) -> dict:
    """Hole depths (eV) and force MAEs (meV/Å) of one model on the labelled folding frames."""
    err = np.array(energies) - np.array([f.get_potential_energy() for f in frames])
    fmae = np.array(
        [np.abs(m - f.get_forces()).mean() for m, f in zip(forces, frames, strict=True)]
    )
    natoms = np.array([len(f) for f in frames])
    kind = np.array([f.info["fault"] for f in frames])
    source = np.array([f.info["source"] for f in frames])
    depth = np.full(len(frames), np.nan)
    for src in np.unique(source):
        clean = (source == src) & (kind == "none")
        if not clean.any():  # no offset to take: its fault frames are left out
            print(f"  {src}: no clean frame, its fault frames are left out", flush=True)
            continue
        depth[source == src] = err[source == src] - err[clean].mean()
    out = {}
    for name in ("contact", "folded angle", "all"):
        m = (kind != "none" if name == "all" else kind == name) & np.isfinite(depth)
        if not m.any():
            continue
        out[name] = {
            "frames": int(m.sum()),
            "depth_mean_eV": float(depth[m].mean()),
            "depth_worst_eV": float(depth[m].min()),
            "deep": float((depth[m] < -DEEP_EV).mean()),
            "depth_mean_meV_per_atom": float(1000 * np.mean(depth[m] / natoms[m])),
            "forces_mae_meV_per_A": float(1000 * fmae[m].mean()),
        }  # fmt: skip
    clean = (kind == "none") & np.isfinite(depth)
    out["clean"] = {
        "frames": int(clean.sum()),
        # about each run's own mean: one degree of freedom per run
        "energy_sd_meV_per_atom": float(
            1000 * np.std(depth[clean] / natoms[clean], ddof=len(np.unique(source[clean])))
        ),
        "forces_mae_meV_per_A": float(1000 * fmae[clean].mean()),
    }
    # each frame's depth (None for clean frames and for runs left out): which frames stay deep
    out["depths_eV"] = [
        None if k == "none" or not np.isfinite(d) else round(float(d), 4)
        for k, d in zip(kind, depth, strict=True)
    ]
    return out


def _print_deep_frames(frames: list, per_seed: dict) -> None:
    """The fault frames deeper than :data:`DEEP_EV` for any model: each model's depth there
    (mean over its seeds), so that one sees which holes every model shares."""
    labels = list(per_seed)
    depth = {
        label: np.array(
            [[np.nan if d is None else d for d in s["depths_eV"]] for s in seeds], dtype=float
        ).mean(axis=0)
        for label, seeds in per_seed.items()
    }
    deep = [i for i in range(len(frames)) if any(depth[m][i] < -DEEP_EV for m in labels)]
    print(f"\nFault frames deeper than {DEEP_EV} eV for any model: depth (eV), mean over seeds")
    print("| run | time (ps) | fault | atoms | distance (Å) | " + " | ".join(labels) + " |")
    print("|---|---:|---|---|---:|" + "---:|" * len(labels))
    for i in deep:
        info = frames[i].info
        atoms = "–".join(str(int(a)) for a in np.atleast_1d(info["fault_atoms"]))
        print(f"| {info['source']} | {info['time_ps']:g} | {info['fault']} | {atoms} | "
              f"{float(info['fault_distance']):.2f} | "
              + " | ".join(f"{depth[m][i]:+.2f}" for m in labels) + " |")  # fmt: skip


def _measures(ref_de, model_de, kinds, force_mae) -> dict:
    out = {}
    for kind in (*KINDS, "all"):
        m = np.ones(len(kinds), bool) if kind == "all" else np.array(kinds) == kind
        err = model_de[m] - ref_de[m]
        out[kind] = {
            "draws": int(m.sum()),
            "mean_error_meV": float(1000 * err.mean()),
            "mae_meV": float(1000 * np.abs(err).mean()),
            "downhill": float((model_de[m] < 0).mean()),
            "under_half": float((model_de[m] < 0.5 * ref_de[m]).mean()),
            "forces_mae_meV_per_A": float(1000 * np.mean(np.array(force_mae)[m])),
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="12 draws, a scratch reference cache")
    p.add_argument("--models", nargs="+", default=None,
                   help=f"labels from {list(MODELS)} or LABEL=NAME_OR_PATH")  # fmt: skip
    p.add_argument("--out", default=str(ROOT / "peptide_holes.json"))
    p.add_argument("--collect-md", nargs="+", type=Path, metavar="TRAJ",
                   help=f"label fault and clean frames of these folding trajectories into "
                        f"{MD_FRAMES.name} (then evaluate as usual)")  # fmt: skip
    args = p.parse_args()
    import torch

    from muse_explore.reference.peptide_faults import fault_specs

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    draws = 12 if args.quick else DRAWS
    cache = CACHE.with_name("peptide_holes_reference_quick.json") if args.quick else CACHE
    specs = fault_specs(draws, seed=SEED)
    ref = references(specs, cache)
    ref_de = np.array([r["faulted"] - r["chain"] for r in ref])
    if args.collect_md and args.quick:
        raise SystemExit(f"--collect-md writes {MD_FRAMES.name}: run it without --quick")
    if args.collect_md:
        missing = [str(t) for t in args.collect_md if not t.is_file()]
        if missing:
            raise SystemExit(f"--collect-md: no such trajectory: {', '.join(missing)}")
        collect_md(args.collect_md, MD_FRAMES)
    md_frames = []
    if MD_FRAMES.is_file() and not args.quick:
        from ase.io import read

        md_frames = read(MD_FRAMES, ":")
    kinds = [s["fault"] for s in specs]
    models = {k: seed_models(v) for k, v in parse_models(args.models, MODELS).items()}
    result = {"seed": SEED, "draws": draws, "models": models, "provenance": provenance(models),
              "reference": {"kinds": {k: kinds.count(k) for k in KINDS},
                            "cost_eV": {"min": float(ref_de.min()),
                                        "median": float(np.median(ref_de)),
                                        "max": float(ref_de.max())}},
              "per_seed": {}, "summary": {},
              "md": {"frames": len(md_frames),
                     "sources": sorted({f.info["source"] for f in md_frames}),
                     "per_seed": {}, "summary": {}}}  # fmt: skip
    for label, names in models.items():
        per_seed, md_seed = [], []
        for name in names:
            calc = calculator(name)
            de, fmae = [], []
            for spec, r in zip(specs, ref, strict=True):
                faulted, chain = _structures(spec)
                faulted.calc, chain.calc = calc, calc
                e_f = float(faulted.get_potential_energy())
                fmae.append(float(np.abs(faulted.get_forces() - np.array(r["forces"])).mean()))
                de.append(e_f - float(chain.get_potential_energy()))
            per_seed.append(_measures(ref_de, np.array(de), kinds, fmae))
            if md_frames:
                e_md, f_md = [], []
                for f in md_frames:
                    atoms = f.copy()
                    atoms.calc = calc
                    e_md.append(float(atoms.get_potential_energy()))
                    f_md.append(atoms.get_forces())
                md_seed.append(_md_measures(md_frames, e_md, f_md))
        result["per_seed"][label] = per_seed
        result["summary"][label] = {
            kind: {key: [s[kind][key] for s in per_seed] for key in per_seed[0][kind]}
            for kind in (*KINDS, "all")
        }
        if md_frames:
            result["md"]["per_seed"][label] = md_seed
            result["md"]["summary"][label] = {
                kind: {key: [s[kind][key] for s in md_seed] for key in md_seed[0][kind]}
                for kind in md_seed[0]
                if kind != "depths_eV"
            }
    ref_cost = result["reference"]["cost_eV"]
    print(f"\nGeometry faults in Ac-(Ala)n-NHMe, {draws} draws (seed {SEED}); GFN2-xTB's cost "
          f"of a fault {ref_cost['min']:.2f} to {ref_cost['max']:.2f} eV (median "
          f"{ref_cost['median']:.2f}); mean ± sd over training seeds")  # fmt: skip
    print("| model | fault | draws | ΔE mean error (meV) | ΔE MAE (meV) | downhill | under half "
          "| F MAE (meV/Å) |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, s in result["summary"].items():
        for kind in (*KINDS, "all"):
            k = s[kind]
            print(f"| {label} | {kind} | {k['draws'][0]} | {pm(k['mean_error_meV'], '+.0f')} | "
                  f"{pm(k['mae_meV'], '.0f')} | {pm([100 * x for x in k['downhill']], '.0f')} % "
                  f"| {pm([100 * x for x in k['under_half']], '.0f')} % | "
                  f"{pm(k['forces_mae_meV_per_A'], '.0f')} |")  # fmt: skip
    if md_frames:
        print(f"\nThe folding runs' own faults: {len(md_frames)} frames of "
              f"{', '.join(result['md']['sources'])}; depth = energy error on a fault frame "
              f"minus the mean error on the same run's clean frames")  # fmt: skip
        print("| model | fault | frames | depth mean (eV) | (meV/atom) | worst (eV) | deep "
              "| F MAE (meV/Å) | clean: E sd (meV/atom) | clean: F MAE (meV/Å) |")  # fmt: skip
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for label, s in result["md"]["summary"].items():
            c = s["clean"]
            for kind in ("contact", "folded angle", "all"):
                if kind not in s:
                    continue
                k = s[kind]
                print(f"| {label} | {kind} | {k['frames'][0]} | {pm(k['depth_mean_eV'], '+.2f')} | "
                      f"{pm(k['depth_mean_meV_per_atom'], '+.1f')} | "
                      f"{pm(k['depth_worst_eV'], '+.2f')} | "
                    f"{pm([100 * x for x in k['deep']], '.0f')} % | "
                      f"{pm(k['forces_mae_meV_per_A'], '.0f')} | "
                      f"{pm(c['energy_sd_meV_per_atom'], '.2f')} | "
                      f"{pm(c['forces_mae_meV_per_A'], '.0f')} |")  # fmt: skip
        _print_deep_frames(md_frames, result["md"]["per_seed"])
    if not args.quick:
        from muse_explore.atomic import atomic_open

        with atomic_open(Path(args.out)) as fh:
            fh.write(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.out}")
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
