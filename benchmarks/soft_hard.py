"""Soft against hard assignments: the ablation the paper's referees asked for.

    OMP_NUM_THREADS=1 python benchmarks/soft_hard.py                  # every shipped MuSE model
    OMP_NUM_THREADS=1 python benchmarks/soft_hard.py --task peptide   # that task only
    OMP_NUM_THREADS=1 python benchmarks/soft_hard.py --task graphene --models MuSE \\
        hard=runs/experiments/muse-painn-graphene-hard/best_model.pt

MuSE's pooling shares each atom smoothly among coarse nodes (docs/method.md, Section 3). Its
hard ablation (``hard=True``) gives each atom wholly to its most probable node, so the
partition, and with it the energy, jumps wherever an atom's most probable node changes, while
the forces (autograd of the energy between jumps) do not see the jumps. Each MuSE model is
evaluated as trained (soft) and with the same weights switched to hard assignments
(``set_pooling(hard=True)``, no retraining); a model trained hard (``hard: true`` in its
model section) likewise, its "hard" row being the model as trained. Per model and mode:

* **accuracy** on the task's data that no model trained on: for graphene the test split's
  complexes, E_int MAE (meV) and force MAE (meV/Å); for peptides the held-out MD run, energy
  MAE (meV/atom) and force MAE;
* **smoothness** along thermal paths: ``--paths`` straight lines, each between two copies of
  a test structure rattled by 0.05 Å (the size of a thermal displacement), 121 frames. Over
  each pair of steps the energy change is compared with the change the forces account for,
  −∫F·dr (:func:`muse_explore.testing.path_energy_and_work`); reported are the jumps (pairs
  of steps where they differ by more than 1 meV) per path and the largest mismatch (meV);
* **energy conservation**: ``--nve-ps`` of NVE (velocity Verlet, 0.5 fs, velocities drawn at
  300 K with a fixed seed, centre-of-mass motion and rotation removed) from the first test
  structure: the total energy's spread (max − min, meV) and the largest change in one step.

Models: ``--models`` labels of the shipped MuSE models (graphene: ``MuSE``, ``MuSE-MACE``,
``MuSE-SO3krates``; peptide: ``MuSE``) or ``LABEL=NAME_OR_PATH``; shipped seeds are averaged
(mean ± sd). The data and split are those of the task's shipped MuSE-PaiNN model, shared by
every model and seed of a protocol (``data.split_seed``). The calculators keep the first
frame's covalent topology (``freeze_topology``), so that only the assignments can switch.
A model trained hard learns no assignment term: the one-hot weights carry no gradient, so its
query and key projections keep their initial values. Writes benchmarks/soft_hard.json after
each task; with ``--task`` one task, the file's other task is kept as it was (it must have been
measured with the same settings: ``--limit``, ``--paths``, ``--nve-ps``), so that retraining
one task's models reruns only that task.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
import torch
from _models import graphene_labels, model_file, parse_models, pm, provenance, seed_models

import muse_explore as mx
from muse_explore.analysis import interaction_energies, predict
from muse_explore.pretrained import model_data, models_dir
from muse_explore.testing import interpolate, path_energies_forces, path_energy_and_work, rattle
from muse_explore.training.dataset import load_splits, read_structures

ROOT = Path(__file__).resolve().parents[1]
#: the task's shipped MuSE-PaiNN model, whose data and split every model of the task shares
TASK_MODEL = {"graphene": "muse-painn-graphene", "peptide": "muse-painn-peptide"}
#: a mismatch between the energy change and what the forces account for above this is a jump
JUMP = 1e-3  # eV
FRAMES = 121  # frames per path
RATTLE = 0.05  # Å, each end of a path
TIMESTEP = 0.5  # fs, NVE


def labels(task: str) -> dict[str, str]:
    """The shipped MuSE models of a task: label -> name."""
    if task == "peptide":
        return {"MuSE": "muse-painn-peptide"}
    return {k: v for k, v in graphene_labels().items() if k.startswith("MuSE")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--task", choices=["graphene", "peptide", "both"], default="both")
    p.add_argument("--models", nargs="+", default=None,
                   help="labels of the task's shipped MuSE models or LABEL=NAME_OR_PATH "
                        "(default: every shipped MuSE model of the task)")  # fmt: skip
    p.add_argument("--limit", type=int, default=200,
                   help="test structures for the accuracy (the first; default 200)")  # fmt: skip
    p.add_argument("--paths", type=int, default=4, help="thermal paths per model (default 4)")
    p.add_argument("--nve-ps", type=float, default=1.0, help="NVE length in ps (0: skip)")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "soft_hard.json"))
    args = p.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    tasks = ["graphene", "peptide"] if args.task == "both" else [args.task]
    if args.models is not None and len(tasks) > 1:
        raise SystemExit("--models belong to one task: give --task graphene or --task peptide")
    chosen = {task: parse_models(args.models, labels(task)) for task in tasks}  # checked first
    settings = {k: getattr(args, k) for k in ("limit", "paths", "nve_ps")}
    settings |= {"frames": FRAMES, "jump_ev": JUMP, "rattle_a": RATTLE, "timestep_fs": TIMESTEP}
    out = Path(args.out)
    result = {"settings": settings, "tasks": kept_tasks(out, settings, tasks)}
    for task, models in chosen.items():
        test = _test_structures(task)
        rows = {}
        for label, spec in models.items():
            names = seed_models(spec)
            runs = [_measure(_load(n), task, test, args) for n in names]
            rows[label] = {"seeds": names, "provenance": provenance({label: names}),
                           "soft": _stack([r["soft"] for r in runs]),
                           "hard": _stack([r["hard"] for r in runs]),
                           "trained_hard": runs[0]["trained_hard"]}  # fmt: skip
            print(f"{task} {label}: done ({time.perf_counter() - t0:.0f} s)", flush=True)
        result["tasks"][task] = rows
        result["tasks"] = dict(sorted(result["tasks"].items()))  # graphene, then peptide
        _print(task, rows)
        _write(out, result)  # after each task: a later failure loses nothing measured
    print(f"wrote {out} in {time.perf_counter() - t0:.0f} s")


def kept_tasks(out: Path, settings: dict, tasks: list[str]) -> dict:
    """The tasks of an earlier ``out`` that this run does not measure, to be kept beside its own.

    A file measured with other settings cannot share a table with this run: that is an error
    naming the settings that differ, before anything is measured. A file that is not a result
    of this script is an error too, never silently overwritten.
    """
    if not out.is_file():
        return {}
    try:
        earlier = json.loads(out.read_text())
        old_settings, old_tasks = earlier["settings"], earlier["tasks"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        msg = f"{out} is not a soft_hard.py result ({err}); give another --out"
        raise SystemExit(msg) from None
    other = {t: rows for t, rows in old_tasks.items() if t not in tasks}
    if other and old_settings != settings:
        differ = [f"{k}: {old_settings.get(k)} there, {settings.get(k)} here"
                  for k in sorted(settings.keys() | old_settings.keys())
                  if settings.get(k) != old_settings.get(k)]  # fmt: skip
        raise SystemExit(
            f"{out} holds the {', '.join(sorted(other))} task measured with other settings "
            f"({'; '.join(differ)}); rerun with the same settings, with --task both, or give "
            "another --out"
        )
    return other


def _write(out: Path, result: dict) -> None:
    from muse_explore.atomic import atomic_open

    with atomic_open(out) as fh:
        fh.write(json.dumps(result, indent=1) + "\n")


def _load(spec: str):
    return mx.load_model(model_file(spec))


def _test_structures(task: str) -> list:
    """The task's test structures: whole triples (graphene) or the held-out MD run."""
    name = TASK_MODEL[task]
    data = model_data(name)
    splits = load_splits(models_dir() / f"{name}.splits.json")
    structures = read_structures([ROOT / f for f in data["files"]])
    return [structures[i] for i in splits["test"]]


def _measure(model, task: str, test: list, args) -> dict:
    """Accuracy, path smoothness and NVE of ``model`` soft and hard."""
    trained_hard = bool(model.config.hard)
    model = model.double().eval()
    out = {"trained_hard": trained_hard}
    for mode in ("soft", "hard"):
        m = copy.deepcopy(model)
        m.set_pooling(hard=mode == "hard")
        row = _accuracy(m, task, test, args.limit)
        row |= _paths(m, task, test, args.paths)
        if args.nve_ps > 0:
            row |= _nve(m, _first(task, test), args.nve_ps)
        out[mode] = row
    return out


def _first(task: str, test: list):
    """The structure the paths and the NVE run start from: a complex, or an MD frame."""
    if task == "graphene":
        return next(a for a in test if a.info["part"] == "complex")
    return test[0]


def _accuracy(model, task: str, test: list, limit: int) -> dict:
    if task == "graphene":  # whole triples, so E_int is defined for each complex
        groups = []
        for a in test:
            key = (a.info["set"], int(a.info["config"]))
            if key not in groups:
                groups.append(key)
        keep = set(groups[: max(limit // 3, 1)])
        frames = [a for a in test if (a.info["set"], int(a.info["config"])) in keep]
    else:
        frames = test[:limit]
    energy, forces = predict(model, frames, forces=True)
    ref_e = np.array([a.get_potential_energy() for a in frames])
    f_err = np.concatenate([f - a.get_forces() for f, a in zip(forces, frames, strict=True)])
    row = {"structures": len(frames), "forces_mae": 1000 * float(np.abs(f_err).mean())}
    if task == "graphene":
        pred = np.array([r["e_int"] for r in interaction_energies(frames, energy)])
        ref = np.array([r["e_int"] for r in interaction_energies(frames, ref_e)])
        row["e_int_mae"] = 1000 * float(np.abs(pred - ref).mean())
    else:
        natoms = np.array([len(a) for a in frames])
        row["energy_mae_per_atom"] = 1000 * float(np.abs((energy - ref_e) / natoms).mean())
    return row


def _paths(model, task: str, test: list, count: int) -> dict:
    """Jumps per path and the largest energy-work mismatch (meV) along thermal paths."""
    calc = mx.MuSECalculator(model, freeze_topology=True)  # seeds fixed: only S can jump
    start = _first(task, test)
    jumps, worst = [], 0.0
    for k in range(count):
        a = rattle(start, RATTLE, seed=2 * k + 1)
        b = rattle(start, RATTLE, seed=2 * k + 2)
        frames = interpolate(a, b, FRAMES)
        e, f = path_energies_forces(calc, frames)
        change, work = path_energy_and_work(e, f, np.array([x.positions for x in frames]))
        mismatch = np.abs(change - work)
        jumps.append(int((mismatch > JUMP).sum()))
        worst = max(worst, float(mismatch.max()))
    return {"jumps_per_path": float(np.mean(jumps)), "largest_mismatch": 1000 * worst}


def _nve(model, atoms, ps: float) -> dict:
    """Total energy's spread and largest one-step change (meV) over ``ps`` of NVE."""
    from ase import units
    from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta
    from ase.md.verlet import VelocityVerlet

    work = atoms.copy()
    work.calc = mx.MuSECalculator(model, freeze_topology=True)
    thermalize_momenta(work, temperature_K=300, rng=np.random.default_rng(0))
    Stationary(work)
    ZeroRotation(work)
    dyn = VelocityVerlet(work, timestep=TIMESTEP * units.fs)
    total = [work.get_total_energy()]
    steps = round(ps * 1000 / TIMESTEP)
    for _ in range(steps):
        dyn.run(1)
        total.append(work.get_total_energy())
    total = np.array(total)
    return {"nve_spread": 1000 * float(total.max() - total.min()),
            "nve_largest_step": 1000 * float(np.abs(np.diff(total)).max()),
            "nve_steps": steps}  # fmt: skip


def _stack(rows: list[dict]) -> dict:
    """Per key, the list over seeds."""
    return {k: [r[k] for r in rows] for k in rows[0]}


def _print(task: str, rows: dict) -> None:
    acc = ("e_int_mae", "E_int MAE (meV)") if task == "graphene" else (
        "energy_mae_per_atom", "energy MAE (meV/atom)")  # fmt: skip
    print(f"\n{task}: soft against hard assignments (mean ± sd over seeds)")
    print(f"| model | mode | {acc[1]} | force MAE (meV/Å) | jumps per path | largest "
          "energy-work mismatch (meV) | NVE spread (meV) | NVE largest step (meV) |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, r in rows.items():
        for mode in ("soft", "hard"):
            v = r[mode]
            name = f"{label} (trained hard)" if r["trained_hard"] else label
            cells = [pm(v[acc[0]]), pm(v["forces_mae"]), pm(v["jumps_per_path"]),
                     pm(v["largest_mismatch"], ".3g")]  # fmt: skip
            cells += [
                pm(v[k], ".3g") if k in v else "–" for k in ("nve_spread", "nve_largest_step")
            ]
            print(f"| {name} | {mode} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
