"""Folding benchmark: Langevin MD of Ac-(Ala)6-NHMe from the extended chain, MuSE against the
PaiNN baseline, the LES long-range baseline and GFN2-xTB itself.

    OMP_NUM_THREADS=1 python benchmarks/folding.py            # ~35 min on 2 cores (--jobs 2)
    OMP_NUM_THREADS=1 python benchmarks/folding.py --quick    # ~2 min: 0.5 ps, one seed

Every run starts from the same extended β strand (phi, psi = -135°, 135°) with Maxwell–
Boltzmann velocities of its seed, and is thermostatted by ASE's Langevin integrator (300 K,
1 fs, friction 0.01 fs⁻¹, centre of mass fixed): the same seeds for every model, so the runs
differ only by their potential energy surface. Tracked every 10 fs: end-to-end distance (acetyl C
to N-methyl N), heavy-atom radius of gyration, backbone N–H···O=C hydrogen bonds
(d(H···O) <= 2.5 Å, angle >= 120°) and the potential energy. For the ML models, 25 frames of each
trajectory are recomputed with GFN2-xTB: the energy and force errors *along the model's own
trajectory* show whether it stays where it was trained. Speed is the wall time per MD step
on one CPU core (float64 calculators), converted to simulated time per wall-clock day. Energy
conservation: 0.5 ps of NVE (velocity Verlet, 0.5 fs) from the last frame of seed 0, its
drift (linear fit, meV/atom/ps) and RMS fluctuation of the total energy.

Each finished run is cached in benchmarks/folding_runs.json (written atomically, so a killed
benchmark resumes where it stopped; --recompute redoes everything) and its trajectory, every
100 fs, in benchmarks/folding/LABEL-seedK-Tps.extxyz.xz (notebook 05 opens MuSE's). Writes the
summary benchmarks/folding.json and the plot benchmarks/folding.png.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "folding_runs.json"
TRAJ_DIR = ROOT / "folding"
#: label -> pretrained model name (or a .pt path); "GFN2-xTB" is the reference itself.
MODELS = {
    "MuSE": "muse-painn-peptide",
    "baseline": "painn-peptide",
    "LES": "painn-lr-peptide",
    "GFN2-xTB": "GFN2-xTB",
}
RESIDUES = 6
SAMPLE_EVERY_FS = 10.0
TRAJ_EVERY_FS = 100.0
CHECK_FRAMES = 25


def _calculator(spec: str):
    """A fresh calculator for a pretrained name, a checkpoint path or "GFN2-xTB"."""
    import muse_explore as mx
    from muse_explore.pretrained import list_pretrained
    from muse_explore.reference.xtb import gfn2_calculator

    if spec == "GFN2-xTB":
        return gfn2_calculator()
    if spec in list_pretrained():
        return mx.load_pretrained(spec, dtype="float64")
    if Path(spec).is_file():
        return mx.MuSECalculator(mx.load_model(spec), dtype="float64")
    raise SystemExit(f"unknown model {spec!r}: not pretrained ({list_pretrained()}) nor a file")


def _observables(frame) -> dict:
    from muse_explore.analysis.peptide import (
        count_backbone_hbonds,
        end_to_end_distance,
        radius_of_gyration,
    )

    return {
        "end_to_end": end_to_end_distance(frame),
        "rg": radius_of_gyration(frame),
        "hbonds": count_backbone_hbonds(frame),
        "energy": float(frame.get_potential_energy()),
    }


def _nve(atoms, calc, *, steps: int, timestep: float) -> dict:
    """Total energy along a velocity-Verlet run: drift (meV/atom/ps) and RMS fluctuation."""
    from ase import units
    from ase.md.verlet import VelocityVerlet

    work = atoms.copy()
    work.calc = calc
    n = len(work)
    etot, times = [], []

    def record() -> None:
        etot.append(work.get_potential_energy() + work.get_kinetic_energy())
        times.append(dyn.nsteps * timestep / 1000.0)  # ps

    dyn = VelocityVerlet(work, timestep * units.fs)
    dyn.attach(record, interval=5)
    dyn.run(steps)
    e = (np.array(etot) - etot[0]) * 1000.0 / n  # meV/atom
    t = np.array(times)
    slope = float(np.polyfit(t, e, 1)[0])
    return {
        "steps": steps,
        "timestep_fs": timestep,
        "drift_mev_per_atom_ps": slope,
        "rms_fluctuation_mev_per_atom": float(np.std(e)),
        "max_deviation_mev_per_atom": float(np.abs(e).max()),
        "final_temperature_K": float(work.get_temperature()),
    }


def run_one(
    label: str, spec: str, seed: int, ps: float, temperature: float, nve_ps: float,
    traj_dir: Path = TRAJ_DIR,
):  # fmt: skip
    """One Langevin run (and, for seed 0, the NVE check); returns its cache entry."""
    import torch

    from muse_explore.atomic import atomic_path
    from muse_explore.reference.peptide import alanine_peptide, peptide_md
    from muse_explore.reference.xtb import gfn2_calculator

    torch.set_num_threads(1)
    timestep = 1.0
    steps = int(round(ps * 1000 / timestep))
    every = int(round(SAMPLE_EVERY_FS / timestep))
    start = alanine_peptide(RESIDUES, conformation="extended")
    calc = _calculator(spec)
    start.calc = calc
    first = _observables(start)  # also the warm-up call (model load, first graph): not timed
    t0 = time.perf_counter()
    frames = peptide_md(start, calc, temperature=temperature, steps=steps, timestep=timestep,
                        sample_every=every, seed=seed)  # fmt: skip
    wall = time.perf_counter() - t0
    series = {k: [v] for k, v in first.items()}
    series["time_ps"] = [0.0]
    for a in frames:
        series["time_ps"].append(a.info["md_step"] * timestep / 1000.0)
        for k, v in _observables(a).items():
            series[k].append(v)
    entry = {
        "label": label, "model": spec, "seed": seed, "temperature_K": temperature,
        "timestep_fs": timestep, "steps": steps, "atoms": len(start),
        "wall_s": wall, "ms_per_step": 1000.0 * wall / max(steps, 1),
        "torch_threads": torch.get_num_threads(), "series": series,
    }  # fmt: skip
    if spec != "GFN2-xTB" and frames:
        pick = np.unique(np.linspace(0, len(frames) - 1, CHECK_FRAMES).round().astype(int))
        de, df = [], []
        for i in pick:
            ref = frames[i].copy()
            ref.calc = gfn2_calculator()
            de.append((frames[i].get_potential_energy() - ref.get_potential_energy()) / len(ref))
            df.append(np.abs(frames[i].get_forces() - ref.get_forces()).mean())
        entry["check"] = {
            "frames": len(pick),
            "energy_mae_mev_per_atom": float(1000 * np.mean(np.abs(de))),
            "energy_mean_error_mev_per_atom": float(1000 * np.mean(de)),
            "forces_mae_mev_per_a": float(1000 * np.mean(df)),
        }
    stride = max(1, int(round(TRAJ_EVERY_FS / SAMPLE_EVERY_FS)))
    traj = [f for f in frames if (f.info["md_step"] // every) % stride == 0]
    if traj:
        from ase.io import write

        path = Path(traj_dir) / f"{label}-seed{seed}-{ps:g}ps.extxyz.xz"
        for f in traj:
            f.info.update(model=spec, seed=seed, time_ps=f.info["md_step"] * timestep / 1000.0)
        with atomic_path(path) as tmp:
            write(tmp, traj, format="extxyz")
        inside = path.is_relative_to(ROOT.parent)
        entry["trajectory"] = str(path.relative_to(ROOT.parent) if inside else path)
    if seed == 0 and nve_ps > 0 and frames:
        entry["nve"] = _nve(frames[-1], calc, steps=int(round(nve_ps * 2000)), timestep=0.5)
    return entry


def _save(cache: dict, path: Path) -> None:
    from muse_explore.atomic import atomic_open

    with atomic_open(path) as fh:
        json.dump(cache, fh)


def _summary(cache: dict, labels: list[str], seeds: list[int], ps: float) -> dict:
    out = {}
    for label in labels:
        runs = [cache[f"{label}/{s}/{ps}"] for s in seeds if f"{label}/{s}/{ps}" in cache]
        if not runs:
            continue
        late = {}
        for key in ("end_to_end", "rg", "hbonds"):
            vals = []
            for r in runs:
                t = np.array(r["series"]["time_ps"])
                vals.append(np.mean(np.array(r["series"][key])[t >= t[-1] / 2]))
            late[key] = float(np.mean(vals))
        first = []
        for r in runs:
            hb = np.array(r["series"]["hbonds"])
            t = np.array(r["series"]["time_ps"])
            first.append(float(t[np.argmax(hb > 0)]) if (hb > 0).any() else None)
        ms = float(np.mean([r["ms_per_step"] for r in runs]))
        s = {
            "model": runs[0]["model"], "runs": len(runs), "ms_per_step": ms,
            "ns_per_day": 86400.0 / (ms / 1000.0) * runs[0]["timestep_fs"] * 1e-6,
            "second_half_mean": late, "first_hbond_ps": first,
        }  # fmt: skip
        checks = [r["check"] for r in runs if "check" in r]
        if checks:
            s["check"] = {k: float(np.mean([c[k] for c in checks])) for k in checks[0]}
        nve = [r["nve"] for r in runs if "nve" in r]
        if nve:
            s["nve"] = nve[0]
        out[label] = s
    return out


def _print(summary: dict, ps: float, temperature: float, seeds: list[int]) -> None:
    print(f"\nAc-(Ala){RESIDUES}-NHMe, Langevin {temperature:.0f} K, {ps:g} ps x {len(seeds)} "
          f"seed(s) from the extended chain; means over the second half of each run")  # fmt: skip
    print("| model | ms/step (1 core) | ns/day | end-to-end (Å) | Rg (Å) | backbone H-bonds | "
          "first H-bond (ps) | E err. on own traj. (meV/atom) | F err. (meV/Å) | "
          "NVE drift (meV/atom/ps) | NVE RMS (meV/atom) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, s in summary.items():
        late, chk, nve = s["second_half_mean"], s.get("check"), s.get("nve")
        first = ", ".join("-" if f is None else f"{f:.2f}" for f in s["first_hbond_ps"])
        cells = [
            f"{s['ms_per_step']:.1f}", f"{s['ns_per_day']:.2f}", f"{late['end_to_end']:.2f}",
            f"{late['rg']:.2f}", f"{late['hbonds']:.2f}", first,
            f"{chk['energy_mae_mev_per_atom']:.2f}" if chk else "reference",
            f"{chk['forces_mae_mev_per_a']:.0f}" if chk else "reference",
            f"{nve['drift_mev_per_atom_ps']:.3f}" if nve else "-",
            f"{nve['rms_fluctuation_mev_per_atom']:.3f}" if nve else "-",
        ]  # fmt: skip
        print(f"| {label} | " + " | ".join(cells) + " |")


def _plot(cache: dict, labels, seeds, ps, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"MuSE": "C0", "baseline": "C3", "LES": "C2", "GFN2-xTB": "k"}
    keys = (("end_to_end", "end-to-end distance (Å)"), ("rg", "radius of gyration (Å)"),
            ("hbonds", "backbone H-bonds"), ("energy", "E − E(start) (eV)"))  # fmt: skip
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    for ax, (key, name) in zip(axes.flat, keys, strict=True):
        for label in labels:
            for k, s in enumerate(seeds):
                r = cache.get(f"{label}/{s}/{ps}")
                if r is None:
                    continue
                t, y = np.array(r["series"]["time_ps"]), np.array(r["series"][key], float)
                if key == "energy":
                    y = y - y[0]
                if key == "hbonds":  # 100 fs running mean: counts flicker
                    w = 10
                    y = np.convolve(y, np.ones(w) / w, mode="same")
                style = ("-", "--", ":", "-.")[k % 4]
                ax.plot(t, y, color=colors.get(label), lw=1.0, alpha=0.85, ls=style,
                        label=label if k == 0 else None)  # fmt: skip
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("time (ps)")
    axes[0, 0].legend()
    fig.suptitle(f"Ac-(Ala){RESIDUES}-NHMe from the extended chain, Langevin MD "
                 f"(seeds as line styles)")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--ps", type=float, default=10.0, help="length of each Langevin run (ps)")
    p.add_argument("--seeds", type=int, default=2, help="runs per model")
    p.add_argument("--temperature", type=float, default=300.0)
    p.add_argument("--nve-ps", type=float, default=0.5, help="NVE check length (ps), 0 skips")
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--models", nargs="+", default=list(MODELS),
                   help=f"labels from {list(MODELS)}, or LABEL=NAME_OR_PATH")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="0.5 ps, one seed, 0.1 ps NVE")
    p.add_argument("--recompute", action="store_true", help="ignore the cached runs")
    args = p.parse_args()
    if args.quick:
        args.ps, args.seeds, args.nve_ps = 0.5, 1, 0.1
    models = {}
    for item in args.models:
        label, _, spec = item.partition("=")
        if not spec and label not in MODELS:
            raise SystemExit(f"unknown model label {label!r}; use one of {list(MODELS)}")
        models[label] = spec or MODELS[label]
    seeds = list(range(args.seeds))
    cache_path, traj_dir = CACHE, TRAJ_DIR
    if args.quick:  # a smoke test: nothing cached, nothing written next to the real results
        scratch = Path(tempfile.mkdtemp(prefix="muse-folding-"))
        cache_path, traj_dir = scratch / "runs.json", scratch
    fresh = args.recompute or not cache_path.is_file()
    cache = {} if fresh else json.loads(cache_path.read_text())
    todo = [(label, spec, s) for label, spec in models.items() for s in seeds
            if cache.get(f"{label}/{s}/{args.ps}", {}).get("model") != spec]  # fmt: skip
    print(f"{len(todo)} run(s) to do, {len(models) * len(seeds) - len(todo)} cached", flush=True)
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        job = (args.ps, args.temperature, args.nve_ps, traj_dir)
        futures = {pool.submit(run_one, lab, spec, s, *job): (lab, s) for lab, spec, s in todo}
        for fut in futures:
            entry = fut.result()
            label, s = futures[fut]
            cache[f"{label}/{s}/{args.ps}"] = entry
            _save(cache, cache_path)
            msg = f"  {label} seed {s}: {entry['ms_per_step']:.1f} ms/step"
            if "check" in entry:
                c = entry["check"]
                msg += (f", along its trajectory vs GFN2-xTB: E {c['energy_mae_mev_per_atom']:.2f}"
                        f" meV/atom, F {c['forces_mae_mev_per_a']:.0f} meV/Å")  # fmt: skip
            print(msg, flush=True)
    labels = list(models)
    summary = _summary(cache, labels, seeds, args.ps)
    _print(summary, args.ps, args.temperature, seeds)
    if not args.quick:
        result = {"ps": args.ps, "seeds": seeds, "temperature_K": args.temperature,
                  "residues": RESIDUES, "summary": summary}  # fmt: skip
        (ROOT / "folding.json").write_text(json.dumps(result, indent=1) + "\n")
        _plot(cache, labels, seeds, args.ps, ROOT / "folding.png")
        print("wrote benchmarks/folding.json, benchmarks/folding.png and "
              f"{TRAJ_DIR.relative_to(ROOT.parent)}/")  # fmt: skip


if __name__ == "__main__":
    main()
