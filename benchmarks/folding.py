"""Folding benchmark: Langevin MD of Ac-(Ala)15-NHMe from the extended chain, MuSE against the
PaiNN baseline and the LES long-range baseline, with GFN2-xTB spot checks along every run.

    OMP_NUM_THREADS=1 python benchmarks/folding.py --max-hours 2   # resumes; stops after 2 h
    OMP_NUM_THREADS=1 python benchmarks/folding.py --quick         # ~1 min: Ala4, 0.2 ps, scratch
    OMP_NUM_THREADS=1 python benchmarks/folding.py --speed         # ms per step of each model
    OMP_NUM_THREADS=1 python benchmarks/folding.py --report        # the tables; writes nothing
    OMP_NUM_THREADS=1 python benchmarks/folding.py --out runs/folding \
        --models MuSE=runs/protocol/muse-painn-peptide/best_model.pt ...  # models not shipped yet

Every run starts from the same extended β strand (phi, psi = -135°, 135°) of Ac-(Ala)n-NHMe (n = 15
by default, 162 atoms) with Maxwell–Boltzmann velocities of its seed, and is thermostatted by ASE's
Langevin integrator (300 K, 1 fs, friction 0.01 fs⁻¹, centre of mass fixed): the same seeds for
every model, so the runs differ only by their potential energy surface. The default is 3 seeds ×
100 ps per model. Tracked every 50 fs: helix content (the fraction of residues in the α basin of
the Ramachandran map), end-to-end distance (acetyl C to N-methyl N), heavy-atom radius of gyration,
α-helical (i ← i+4) and all backbone H-bonds, and the potential energy; at every trajectory frame
(1 ps apart, below): the C7eq (γ-turn) content, the fraction of residues in that basin
(``muse_explore.analysis.c7_fraction``; ``c7`` in a run's state, for runs recorded before it as
well). When a run is complete, 20 frames of its trajectory are recomputed with GFN2-xTB: the energy
and force errors *along the model's own trajectory* show whether it stays where it was trained. The
energy error is reported as its mean absolute value and as its spread (standard deviation over the
frames): a constant offset, shared by every conformation of the chain, does not change the
dynamics; the spread is the error of the energy differences between the frames, which does. How
that error follows the chain's backbone H-bonds is its least-squares slope on their count over the
checked frames (meV per H-bond, and the correlation r; ``error_per_hbond`` in the summary): a model
that binds an H-bond more or less than GFN2-xTB does drifts with every one its run forms (the runs
from the strand form γ turns, C7, one residue at a time). Every trajectory frame is also checked
for geometry faults (``muse_explore.analysis.geometry_faults``: two atoms more than two bonds apart
within 1.4 Å, or a bond angle folded below 75 % of its 1–3 distance in the start): where the run
walked into a hole of its model (``--training-extremes`` shows how close the training sets come to
one). A run still under way reports its faults so far (``faults_so_far`` in its state, ``runs`` in
folding.json, and a table printed at the end). Seed 0 then runs 0.5 ps of NVE (velocity Verlet, 0.5
fs) from its last frame: the drift (linear fit, meV/atom/ps) and RMS fluctuation of the total
energy. Speed is the CPU time per MD step on one core (float64 calculators; the run's
process, so that a run paused or waiting for a busy core is not counted slower; its wall time
stays in the state as ``wall_s``).

A run is advanced in chunks (--chunk-ps) and its state (positions, momenta, the noise
generator, the sampled series) is saved atomically after each chunk in
benchmarks/folding/state/KEY.json, its trajectory every 1 ps (runs under 20 ps: 20 frames) in
benchmarks/folding/KEY.extxyz.xz (KEY = LABEL-nN-seedS-Tps). A killed or time-limited
benchmark resumes where it stopped, bit for bit the same trajectory; a run whose model file
changed (sha256) starts again. Writes the summary benchmarks/folding.json (mean ± standard
deviation over seeds, of the complete runs), where every run stands (``runs``: time reached,
ms per step), and the plot benchmarks/folding.png of every run so far. ``--out DIR`` puts all
of it under DIR instead (DIR/folding/ for the states and trajectories), so that runs of models
not shipped yet leave the committed results alone; a run's state follows it when moved into
benchmarks/folding/ (the same key, and the same model file's sha256 once it is shipped).
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
from _models import DATA, calculator, fingerprint, parse_models

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "folding"
#: label -> pretrained model name (or a .pt path); "GFN2-xTB" runs the reference itself.
MODELS = {"MuSE": "muse-painn-peptide", "baseline": "painn-peptide", "LES": "painn-lr-peptide"}
SAMPLE_EVERY_FS = 50.0
TRAJ_EVERY_FS = 1000.0
CHECK_FRAMES = 20
TIMESTEP_FS = 1.0
SERIES = ("helix", "end_to_end", "rg", "alpha_hbonds", "hbonds", "energy")


def run_key(label: str, residues: int, seed: int, ps: float) -> str:
    return f"{label}-n{residues}-seed{seed}-{ps:g}ps"


def _observables(frame) -> dict:
    from muse_explore.analysis.peptide import (
        backbone_hbonds,
        end_to_end_distance,
        helix_fraction,
        peptide_indices,
        radius_of_gyration,
    )

    idx = peptide_indices(frame)
    hb = backbone_hbonds(frame)
    alpha = sum(idx["N"].index(n) + 1 - idx["O"].index(o) == 4 for n, _, o in hb)
    return {
        "helix": round(helix_fraction(frame), 4),
        "end_to_end": round(end_to_end_distance(frame), 3),
        "rg": round(radius_of_gyration(frame), 3),
        "alpha_hbonds": int(alpha),
        "hbonds": len(hb),
        "energy": round(float(frame.get_potential_energy()), 5),
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
    return {
        "steps": steps,
        "timestep_fs": timestep,
        "drift_mev_per_atom_ps": float(np.polyfit(t, e, 1)[0]),
        "rms_fluctuation_mev_per_atom": float(np.std(e)),
        "max_deviation_mev_per_atom": float(np.abs(e).max()),
        "final_temperature_K": float(work.get_temperature()),
    }


def _spot_checks(traj_path: Path) -> dict:
    """GFN2-xTB energy and force errors on CHECK_FRAMES frames of a finished trajectory."""
    from ase.io import read

    from muse_explore.reference.xtb import gfn2_calculator

    frames = read(traj_path, ":")
    pick = np.unique(np.linspace(0, len(frames) - 1, CHECK_FRAMES).round().astype(int))
    de, df = [], []
    for i in pick:
        ref = frames[i].copy()
        ref.calc = gfn2_calculator()
        de.append((frames[i].get_potential_energy() - ref.get_potential_energy()) / len(ref))
        df.append(np.abs(frames[i].get_forces() - ref.get_forces()).mean())
    de = 1000 * np.array(de)
    return {
        "frames": len(pick),
        "energy_mae_mev_per_atom": float(np.mean(np.abs(de))),
        "energy_mean_error_mev_per_atom": float(np.mean(de)),
        # what is left once the offset is taken out: the error that differs between frames,
        # i.e. the error of the energy differences that drive the run
        "energy_sd_mev_per_atom": float(np.std(de, ddof=1)) if len(de) > 1 else 0.0,
        "forces_mae_mev_per_a": float(1000 * np.mean(df)),
        "energy_errors_mev_per_atom": [round(float(x), 4) for x in de],
        "times_ps": [round(float(frames[i].info.get("time_ps", np.nan)), 4) for i in pick],
    }


def _faults(traj_path: Path, residues: int) -> dict:
    """Geometry faults (``muse_explore.analysis.geometry_faults``) in every trajectory frame.

    Contacts (atoms more than two bonds apart within 1.4 Å) and folded bond angles (a 1–3
    pair below 75 % of its distance in the extended start): where the run walked into a hole
    of its model. The first frame with one, how many frames have one, and each such frame's
    worst fault.
    """
    from ase.io import read

    from muse_explore.analysis import geometry_faults
    from muse_explore.reference.peptide import alanine_peptide, peptide_bonds

    start, bonds = alanine_peptide(residues, conformation="extended"), peptide_bonds(residues)
    frames = read(traj_path, ":")
    found = []
    for f in frames:
        worst = geometry_faults(f, bonds, start)[:1]
        if worst:
            w = worst[0]
            found.append({"time_ps": round(float(f.info["time_ps"]), 4), "kind": w["kind"],
                          "atoms": list(w["atoms"]), "symbols": "".join(w["symbols"]),
                          "distance": round(w["distance"], 3)})  # fmt: skip
    return {
        "frames": len(frames),
        "frames_with_faults": len(found),
        "first_fault_ps": found[0]["time_ps"] if found else None,
        "faults": found,
    }


def _refresh_c7(st: dict, traj_path: Path, frames: int) -> bool:
    """Recompute a run's C7eq content when its trajectory holds ``frames`` frames it has not
    seen (also for a state recorded before it); a done run's is read once. True if it did."""
    if not traj_path.is_file() or (st["done"] and "c7" in st):
        return False
    if st.get("c7", {}).get("frames") == frames:
        return False
    st["c7"] = _c7_content(traj_path)
    return True


def _c7_content(traj_path: Path) -> dict:
    """The C7eq (γ-turn) content of every trajectory frame: times (ps) and fractions."""
    from ase.io import iread

    from muse_explore.analysis import c7_fraction

    times, c7 = [], []
    for f in iread(traj_path):
        times.append(round(float(f.info["time_ps"]), 4))
        c7.append(round(c7_fraction(f), 4))
    return {"frames": len(c7), "time_ps": times, "c7": c7}


#: The MD and relaxation sets (the ones the earlier folding runs' models trained on); the
#: ``peptide_faults`` and ``peptide_ramachandran`` sets put structures on the faults on purpose.
PEPTIDE_SETS = ("peptide", "peptide_lengths", "peptide_segments")


def training_extremes() -> dict:
    """How close the peptide training sets come to a geometry fault, per set.

    The closest pair more than two bonds apart (and the closest such H···H pair), and the
    smallest 1–3 distance as a fraction of its distance in the extended chain of that length:
    the same measures as :func:`_faults`, on every structure of :data:`PEPTIDE_SETS`.
    """
    from ase.io import read

    from muse_explore.reference.peptide import (
        alanine_peptide,
        bond_hops,
        peptide_bonds,
        residue_count,
    )

    out, topology = {}, {}
    for name in PEPTIDE_SETS:
        contact, hh, folded = [], [], []
        for f in read(DATA / f"{name}.extxyz.xz", ":"):
            n = residue_count(f)
            if n not in topology:
                start = alanine_peptide(n, conformation="extended")
                hydrogen = start.numbers == 1
                topology[n] = (start.get_all_distances(), bond_hops(peptide_bonds(n), len(start)),
                               hydrogen[:, None] & hydrogen[None, :])  # fmt: skip
            d0, hops, both_h = topology[n]
            d = f.get_all_distances()
            contact.append(d[hops > 2].min())
            hh.append(d[(hops > 2) & both_h].min())
            folded.append((d[hops == 2] / d0[hops == 2]).min())
        out[name] = {"structures": len(contact), "closest_contact": round(float(min(contact)), 3),
                     "closest_hh_contact": round(float(min(hh)), 3),
                     "most_folded_13_fraction": round(float(min(folded)), 3)}  # fmt: skip
    return out


def _save(path: Path, data: dict) -> None:
    from muse_explore.atomic import atomic_open

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path) as fh:
        json.dump(data, fh, separators=(",", ":"))


def advance(
    label: str, spec: str, seed: int, ps: float, *, residues: int, temperature: float,
    nve_ps: float, chunk_ps: float, deadline: float, out: Path = OUT,
) -> dict:  # fmt: skip
    """Advance one run until it is complete or ``deadline`` (time.time()) passes; return it."""
    import torch
    from ase.io import read, write

    from muse_explore.atomic import atomic_path
    from muse_explore.reference.peptide import PeptideLangevin, alanine_peptide

    torch.set_num_threads(1)
    key = run_key(label, residues, seed, ps)
    state_path, traj_path = out / "state" / f"{key}.json", out / f"{key}.extxyz.xz"
    total = int(round(ps * 1000 / TIMESTEP_FS))
    every = int(round(SAMPLE_EVERY_FS / TIMESTEP_FS))
    stride = int(round(min(TRAJ_EVERY_FS / TIMESTEP_FS, total / 20))) // every * every
    stride = max(every, stride)  # short runs still keep about 20 frames
    print_ = fingerprint(spec)
    st = json.loads(state_path.read_text()) if state_path.is_file() else None
    if st is not None and st.get("fingerprint") != print_:
        print(f"  {key}: the model changed since this run started; starting again", flush=True)
        st = None
    if st is not None and st["md"] is not None and not traj_path.is_file():
        # the spot checks read the trajectory: a resume without its earlier frames would
        # check only part of the run
        print(f"  {key}: its trajectory {traj_path.name} is missing; starting again", flush=True)
        st = None
    if st is not None:
        st["model"] = spec  # the same file (fingerprint): a run moved from --out is shipped now
    start = alanine_peptide(residues, conformation="extended")
    calc = calculator(spec)
    if st is None:
        traj_path.unlink(missing_ok=True)
        start.calc = calc
        first = _observables(start)  # also the warm-up call (model load, first graph): not timed
        st = {
            "label": label, "model": spec, "fingerprint": print_, "seed": seed,
            "residues": residues, "atoms": len(start), "temperature_K": temperature,
            "timestep_fs": TIMESTEP_FS, "steps": total, "wall_s": 0.0, "done": False,
            "series": {"time_ps": [0.0], **{k: [v] for k, v in first.items()}}, "md": None,
        }  # fmt: skip
    md = PeptideLangevin(start, calc, temperature=temperature, timestep=TIMESTEP_FS, seed=seed,
                         state=st["md"])  # fmt: skip
    if st["md"] is not None:
        _observables(md.atoms)  # warm-up after a resume: not timed
    chunk = max(every, int(round(chunk_ps * 1000 / TIMESTEP_FS)) // every * every)
    while md.step < total and time.time() < deadline:
        t0, c0, step0 = time.perf_counter(), time.process_time(), md.step
        frames = md.run(min(chunk, total - md.step), sample_every=every)
        st["wall_s"] += time.perf_counter() - t0
        # CPU time of the steps timed so (runs begun before it was kept: their later chunks)
        st["cpu_s"] = st.get("cpu_s", 0.0) + time.process_time() - c0
        st["cpu_steps"] = st.get("cpu_steps", 0) + md.step - step0
        for f in frames:
            st["series"]["time_ps"].append(round(f.info["md_step"] * TIMESTEP_FS / 1000.0, 4))
            for k, v in _observables(f).items():
                st["series"][k].append(v)
        keep = [f for f in frames if f.info["md_step"] % stride == 0]
        if keep:
            for f in keep:
                f.info.update(model=spec, seed=seed, time_ps=f.info["md_step"] * TIMESTEP_FS / 1e3)
            old = read(traj_path, ":") if traj_path.is_file() else []
            with atomic_path(traj_path) as tmp:
                write(tmp, old + keep, format="extxyz")
        st["md"], st["ms_per_step"] = md.state(), 1000.0 * st["cpu_s"] / max(st["cpu_steps"], 1)
        _save(state_path, st)
        print(f"  {key}: {md.step * TIMESTEP_FS / 1000:g} / {ps:g} ps, "
              f"{st['ms_per_step']:.1f} ms/step", flush=True)  # fmt: skip
    if _refresh_c7(st, traj_path, md.step // stride):
        _save(state_path, st)
    if "faults" not in st and traj_path.is_file():
        # where a run still under way stands: its faults so far (recomputed as frames arrive)
        if st.get("faults_so_far", {}).get("frames") != md.step // stride:
            st["faults_so_far"] = _faults(traj_path, residues)
            _save(state_path, st)
    if md.step >= total and time.time() < deadline:
        if spec != "GFN2-xTB" and "energy_sd_mev_per_atom" not in st.get("check", {}):
            # (also the checks of a run finished before the spread was recorded)
            st["check"] = _spot_checks(traj_path)
            _save(state_path, st)
        if "faults" not in st:
            st["faults"] = _faults(traj_path, residues)
            _save(state_path, st)
        if seed == 0 and nve_ps > 0 and "nve" not in st:
            final = md.atoms.copy()
            final.set_constraint()
            st["nve"] = _nve(final, calc, steps=int(round(nve_ps * 2000)), timestep=0.5)
            _save(state_path, st)
        st["done"] = True
        _save(state_path, st)
    return st


def _mean_sd(values) -> dict:
    """Mean, sample sd and count over seeds, and the per-seed values behind them."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if not len(v):
        return {"mean": None, "sd": None, "n": 0, "values": []}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "n": int(len(v)), "values": v.tolist()}  # fmt: skip


def summarise(runs: list[dict]) -> dict:
    """Per label: second-half means, time to half helix, checks and NVE, mean ± sd over seeds."""
    out = {}
    for label in dict.fromkeys(r["label"] for r in runs):
        mine = [r for r in runs if r["label"] == label and r["done"]]
        if not mine:
            continue
        late, half, c7 = {k: [] for k in SERIES[:-1]}, [], []
        for r in mine:
            t = np.array(r["series"]["time_ps"])
            for k in late:
                late[k].append(float(np.mean(np.array(r["series"][k])[t >= t[-1] / 2])))
            helix = np.array(r["series"]["helix"])
            half.append(float(t[np.argmax(helix >= 0.5)]) if (helix >= 0.5).any() else None)
            c7.append(_late_c7(r))
        s = {
            "model": mine[0]["model"], "runs": len(mine), "seeds": [r["seed"] for r in mine],
            "ms_per_step": _mean_sd([r["ms_per_step"] for r in mine]),
            "second_half": {**{k: _mean_sd(v) for k, v in late.items()}, "c7": _mean_sd(c7)},
            "half_helix_ps": half,
        }  # fmt: skip
        checks = [r["check"] for r in mine if "check" in r]
        if checks:
            scalar = [k for k, v in checks[0].items() if not isinstance(v, list)]
            s["check"] = {k: _mean_sd([c.get(k) for c in checks]) for k in scalar}
            s["error_per_hbond"] = {
                k: _mean_sd([hbond_trend(r)[k] for r in mine if "check" in r])
                for k in ("slope_mev", "r")
            }
        faults = [r["faults"] for r in mine if "faults" in r]
        if faults:
            s["first_fault_ps"] = [f["first_fault_ps"] for f in faults]
            s["frames_with_faults"] = _mean_sd(
                [f["frames_with_faults"] / f["frames"] for f in faults]
            )
        nve = [r["nve"] for r in mine if "nve" in r]
        if nve:
            s["nve"] = nve[0]
        out[label] = s
    return out


def _late_c7(run: dict) -> float | None:
    """Mean C7eq content over the trajectory frames of a run's second half."""
    frames = run.get("c7")
    if not frames or not frames["c7"]:
        return None
    t, c7 = np.array(frames["time_ps"]), np.array(frames["c7"])
    end = run["series"]["time_ps"][-1]
    return float(c7[t >= end / 2].mean()) if (t >= end / 2).any() else None


def hbond_trend(run: dict) -> dict:
    """How the chain's energy error along the spot checks follows its backbone H-bonds.

    Least squares of each checked frame's energy error (meV for the whole chain) on the
    number of backbone N-H···O=C bonds in that frame: the slope (meV per H-bond; negative: the
    model binds each H-bond more than GFN2-xTB does) and the correlation r. None where the
    count does not change over the checked frames.
    """
    t = np.array(run["series"]["time_ps"], float)
    hb = np.interp(run["check"]["times_ps"], t, np.array(run["series"]["hbonds"], float))
    err = np.array(run["check"]["energy_errors_mev_per_atom"], float) * run["atoms"]
    if np.ptp(hb) == 0:
        return {"slope_mev": None, "r": None}
    return {"slope_mev": float(np.polyfit(hb, err, 1)[0]), "r": float(np.corrcoef(hb, err)[0, 1])}


def _fmt(ms: dict, digits: int) -> str:
    if ms["mean"] is None:
        return "-"
    return f"{ms['mean']:.{digits}f} ± {ms['sd']:.{digits}f}" if ms["n"] > 1 else \
        f"{ms['mean']:.{digits}f}"  # fmt: skip


def _print(summary: dict, residues: int, ps: float, temperature: float) -> None:
    print(f"\nAc-(Ala){residues}-NHMe, Langevin {temperature:.0f} K, {ps:g} ps per run from the "
          "extended chain; second-half means, mean ± sd over seeds")  # fmt: skip
    print("| model | runs | helix content | C7eq content | end-to-end (Å) | Rg (Å) | α H-bonds | "
          "all backbone H-bonds | time to half helix (ps) | first geometry fault (ps) | "
          "frames with one | E err. on own traj. (meV/atom) | its spread (meV/atom) | "
          "E err. per H-bond (meV) | r | F err. (meV/Å) | NVE drift (meV/atom/ps) | "
          "ms/step (1 core) |")  # fmt: skip
    print("|---|" + "---:|" * 17)
    for label, s in summary.items():
        late, chk, nve = s["second_half"], s.get("check"), s.get("nve")
        trend = s.get("error_per_hbond")
        half = ", ".join("-" if h is None else f"{h:.0f}" for h in s["half_helix_ps"])
        first = ", ".join("-" if h is None else f"{h:.0f}" for h in s.get("first_fault_ps", []))
        share = s.get("frames_with_faults")
        cells = [
            str(s["runs"]), _fmt(late["helix"], 2), _fmt(late["c7"], 2),
            _fmt(late["end_to_end"], 1),
            _fmt(late["rg"], 2), _fmt(late["alpha_hbonds"], 1), _fmt(late["hbonds"], 1),
            half, first or "-",
            _fmt({k: v if k == "n" or v is None else 100 * v for k, v in share.items()}, 0) + " %"
            if share else "-",
            _fmt(chk["energy_mae_mev_per_atom"], 2) if chk else "reference",
            _fmt(chk["energy_sd_mev_per_atom"], 2) if chk else "reference",
            _fmt(trend["slope_mev"], 0) if trend else "-",
            _fmt(trend["r"], 2) if trend else "-",
            _fmt(chk["forces_mae_mev_per_a"], 0) if chk else "reference",
            f"{nve['drift_mev_per_atom_ps']:.3f}" if nve else "-", _fmt(s["ms_per_step"], 0),
        ]  # fmt: skip
        print(f"| {label} | " + " | ".join(cells) + " |")


def running_mean(t: np.ndarray, y: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Centred means over ``w`` samples, only where the window is full (no edge artefacts)."""
    if len(y) <= w:
        return t, y
    means = np.convolve(y, np.ones(w) / w, mode="valid")
    return t[w // 2 : w // 2 + len(means)], means


def progress(runs: list[dict]) -> list[dict]:
    """Where each run stands: label, model, seed, time reached (ps), speed, done, and its
    geometry faults so far (first one, share of the frames saved so far)."""
    out = []
    for r in runs:
        f = r.get("faults") or r.get("faults_so_far") or {}
        out.append({
            "label": r["label"], "model": r["model"], "seed": r["seed"],
            "time_ps": r["series"]["time_ps"][-1], "of_ps": r["steps"] * r["timestep_fs"] / 1000,
            "ms_per_step": r.get("ms_per_step"), "done": r["done"],
            "frames": f.get("frames"), "frames_with_faults": f.get("frames_with_faults"),
            "first_fault_ps": f.get("first_fault_ps"),
        })  # fmt: skip
    return out


def _plot(runs: list[dict], residues: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"MuSE": "C0", "baseline": "C3", "LES": "C2", "GFN2-xTB": "k"}
    keys = (("helix", "helix content"), ("c7", "C7eq (γ-turn) content"),
            ("end_to_end", "end-to-end distance (Å)"), ("rg", "radius of gyration (Å)"),
            ("alpha_hbonds", "α (i ← i+4) H-bonds"),
            ("hbonds", "all backbone H-bonds"))  # fmt: skip
    fig, axes = plt.subplots(3, 2, figsize=(11, 10), sharex=True)
    for ax, (key, name) in zip(axes.flat, keys, strict=True):
        for r in runs:
            if key == "c7":  # from the trajectory's frames, 1 ps apart: no running mean
                frames = r.get("c7") or {"time_ps": [], "c7": []}
                t, y = np.array(frames["time_ps"]), np.array(frames["c7"], float)
            else:
                t, y = np.array(r["series"]["time_ps"]), np.array(r["series"][key], float)
                t, y = running_mean(t, y, 20)  # 1 ps: the observables flicker
            if len(t) < 2:  # not started
                continue
            style = ("-", "--", ":", "-.")[r["seed"] % 4]
            ax.plot(t, y, color=colors.get(r["label"]), lw=1.0, alpha=0.85, ls=style,
                    label=f"{r['label']} seed {r['seed']}")  # fmt: skip
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("time (ps)")
    if any(ax.lines for ax in axes.flat):
        axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"Ac-(Ala){residues}-NHMe from the extended chain, Langevin MD, 300 K, the runs "
                 "so far\n(seeds as line styles; 1 ps running means, C7eq at every trajectory "
                 "frame)")  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def speed(spec: str, residues: int, temperature: float, steps: int = 300) -> float:
    """CPU time per Langevin step (ms, one thread) of a model, without touching any run.

    CPU time of this process, what a run costs one core whatever else the machine runs.
    """
    import torch

    from muse_explore.reference.peptide import PeptideLangevin, alanine_peptide

    torch.set_num_threads(1)
    start = alanine_peptide(residues, conformation="extended")
    md = PeptideLangevin(start, calculator(spec), temperature=temperature,
                         timestep=TIMESTEP_FS, seed=0, state=None)  # fmt: skip
    md.run(20, sample_every=10)  # warm-up: model load, first graphs
    t0 = time.process_time()
    md.run(steps, sample_every=50)
    return 1000.0 * (time.process_time() - t0) / steps


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--residues", type=int, default=15, help="n of Ac-(Ala)n-NHMe")
    p.add_argument("--ps", type=float, default=100.0, help="length of each Langevin run (ps)")
    p.add_argument("--seeds", type=int, default=3, help="runs per model")
    p.add_argument("--temperature", type=float, default=300.0)
    p.add_argument("--nve-ps", type=float, default=0.5, help="NVE check length (ps), 0 skips")
    p.add_argument("--chunk-ps", type=float, default=2.0, help="save the state every this long")
    p.add_argument("--max-hours", type=float, default=float("inf"),
                   help="stop starting chunks after this wall time (resume later)")  # fmt: skip
    p.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--models", nargs="+", default=list(MODELS),
                   help=f"labels from {list(MODELS)}, GFN2-xTB, or LABEL=NAME_OR_PATH")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="Ala4, 0.2 ps, one seed, 0.05 ps NVE")
    p.add_argument("--out", type=Path, default=None,
                   help="a folder for the runs' states and trajectories, folding.json and "
                   "folding.png (default: benchmarks/folding/ and benchmarks/), for runs of "
                   "models not shipped yet; resume with the same --out")  # fmt: skip
    p.add_argument("--report", action="store_true",
                   help="only print the tables of the runs' saved states (with --out and "
                   "--models as they were run); writes nothing, runs nothing")  # fmt: skip
    p.add_argument("--training-extremes", action="store_true",
                   help="only print how close the peptide training sets come to a geometry "
                   "fault (about a minute)")  # fmt: skip
    p.add_argument("--speed", action="store_true",
                   help="only time 300 steps per model (ms/step, one thread) and the hours a run "
                   "takes; runs and results are left as they are")  # fmt: skip
    args = p.parse_args()
    if args.quick and args.out is not None:
        p.error("--quick writes to a scratch folder of its own; leave out --out")
    if args.speed:
        for label, spec in parse_models(args.models, MODELS, reference=True).items():
            ms = speed(spec, args.residues, args.temperature)
            hours = ms * args.ps * 1000 / TIMESTEP_FS / 3.6e6
            print(f"{label} ({spec}): {ms:.0f} ms/step, {hours:.1f} h per {args.ps:g} ps run",
                  flush=True)  # fmt: skip
        return
    if args.training_extremes:
        print("| set | structures | closest contact (Å) | closest H···H contact (Å) | "
              "most folded 1–3 pair (of its extended-chain distance) |")  # fmt: skip
        print("|---|---:|---:|---:|---:|")
        for name, e in training_extremes().items():
            cells = (
                f"`{name}`",
                str(e["structures"]),
                f"{e['closest_contact']:.2f}",
                f"{e['closest_hh_contact']:.2f}",
                f"{e['most_folded_13_fraction']:.0%}",
            )
            print("| " + " | ".join(cells) + " |")
        return
    if args.quick:
        args.residues, args.ps, args.seeds, args.nve_ps, args.chunk_ps = 4, 0.2, 1, 0.05, 0.1
    models = parse_models(args.models, MODELS, reference=True)
    results = ROOT if args.out is None else args.out
    if args.quick:
        out = Path(tempfile.mkdtemp(prefix="muse-folding-"))
    else:
        out = OUT if args.out is None else args.out / "folding"
    deadline = time.time() + 3600.0 * args.max_hours
    # seed-major: every model's seed 0 first, so that a partial run already compares them
    jobs = [(label, spec, s) for s in range(args.seeds) for label, spec in models.items()]
    if args.report:
        report(jobs, out, args)
        return
    t0 = time.perf_counter()
    runs = []
    with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        opts = dict(residues=args.residues, temperature=args.temperature, nve_ps=args.nve_ps,
                    chunk_ps=args.chunk_ps, deadline=deadline, out=out)  # fmt: skip
        futures = [pool.submit(advance, lab, spec, s, args.ps, **opts) for lab, spec, s in jobs]
        for fut in futures:
            r = fut.result()
            runs.append(r)
            if r["done"] and "check" in r:
                c = r["check"]
                print(f"  {run_key(r['label'], r['residues'], r['seed'], args.ps)} done; along "
                      f"its trajectory vs GFN2-xTB: E {c['energy_mae_mev_per_atom']:.2f} "
                      f"meV/atom (spread {c['energy_sd_mev_per_atom']:.2f}), "
                      f"F {c['forces_mae_mev_per_a']:.0f} meV/Å", flush=True)  # fmt: skip
    left = [r for r in runs if not r["done"]]
    summary = _print_all(runs, args)
    if not args.quick:
        from muse_explore.atomic import atomic_open

        result = {"ps": args.ps, "residues": args.residues, "temperature_K": args.temperature,
                  "complete": len(runs) - len(left), "incomplete": len(left),
                  "runs": progress(runs), "summary": summary}  # fmt: skip
        results.mkdir(parents=True, exist_ok=True)
        with atomic_open(results / "folding.json") as fh:
            fh.write(json.dumps(result, indent=1) + "\n")
        _plot(runs, args.residues, results / "folding.png")
        print(f"wrote {results / 'folding.json'} and {results / 'folding.png'} in "
              f"{time.perf_counter() - t0:.0f} s")  # fmt: skip


def _print_all(runs: list[dict], args) -> dict:
    """Print the summary table of the complete runs and where the others stand; the summary."""
    summary = summarise(runs)
    _print(summary, args.residues, args.ps, args.temperature)
    left = [r for r in runs if not r["done"]]
    if left:
        how = "run without --report" if args.report else "rerun the same command"
        print(f"{len(left)} run(s) not complete; {how} to continue")
        print("| run | reached (ps) | frames | with a geometry fault | first fault (ps) |")
        print("|---|---:|---:|---:|---:|")
        for r in progress(left):
            if r["frames"] is None:  # no frame checked yet
                first = frames = faulted = "-"
            else:
                frames, faulted = r["frames"], r["frames_with_faults"]
                first = "none" if r["first_fault_ps"] is None else f"{r['first_fault_ps']:g}"
            print(f"| {r['label']} seed {r['seed']} | {r['time_ps']:g} | {frames} | {faulted} "
                  f"| {first} |")  # fmt: skip
    return summary


def report(jobs: list[tuple], out: Path, args) -> None:
    """``--report``: the tables of the runs' saved states, read-only.

    Nothing is advanced, restarted or written. A run whose model file is no longer the one it
    ran with (another sha256) is reported with a warning: a real call would start it again.
    The C7eq content of a state recorded before it is computed from its trajectory here.
    """
    runs = []
    for label, spec, seed in jobs:
        key = run_key(label, args.residues, seed, args.ps)
        state_path, traj_path = out / "state" / f"{key}.json", out / f"{key}.extxyz.xz"
        if not state_path.is_file():
            continue
        st = json.loads(state_path.read_text())
        if st.get("fingerprint") != fingerprint(spec):
            print(f"  {key}: ran with another model file than {spec}; a run would start again")
        if "c7" not in st and traj_path.is_file():
            st["c7"] = _c7_content(traj_path)
        runs.append(st)
    if not runs:
        print(f"no run states in {out / 'state'} for these models and settings")
        return
    _print_all(runs, args)


if __name__ == "__main__":
    main()
