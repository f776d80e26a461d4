"""Hessian benchmark: MuSE, its backbone-only baselines and LES against GFN2-xTB.

    OMP_NUM_THREADS=1 python benchmarks/hessian.py      # about 2 min on 2 CPU cores

Systems: the GFN2-xTB minima of ``sample_data/data/minima/`` (``muse_explore.reference.
minima``: relaxed to 0.002 eV/Å, Hessians by central differences of the forces at 0.005 Å):
the isolated molecules benzene, pyridine, water and naphthalene (full Hessians; the six
rigid-body modes left out of the frequency errors), and benzene, pyridine and water on the
relaxed circumcoronene, held fixed, with a partial Hessian over the adsorbate (ASE's
FixAtoms + Vibrations convention): its six lowest modes are the intermolecular ones
(frustrated translations and rotations against the flake). The same minima seed the
training data's curvature set, never these exact geometries.

Each model's Hessian is measured two ways: by autograd (float64), and by central differences
of the model's own forces at the reference's step (0.005 Å), so that both sides are measured
alike. Prints element-wise Hessian MAE (eV/Å²), frequency MAE (cm⁻¹), the MAE of the six
intermolecular modes and the relative error of the stiff ones (``STIFF_CM``) for the
complexes, and, for each MuSE model, each scale's own curvature along the reference's stiff
intermolecular modes (which scale makes a mode too stiff or too soft). The models are every
shipped graphene model of the protocol (``MuSE``, ``baseline`` and ``LES`` on PaiNN;
``MuSE-MACE``/``MACE`` and ``MuSE-SO3krates``/``SO3krates`` once shipped) or ``--models``; a
model's retrainings with other seeds (``NAME-seed1``, ...) are found and the summary is mean
± sd over seeds. Writes benchmarks/hessian.json and a plot of model against reference
frequencies (first seed), benchmarks/hessian.png (or ``--out``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _models import (
    DATA,
    add_graphene_models,
    calculator,
    graphene_labels,
    mean_sd,
    parse_models,
    pm,
    seed_models,
)

ROOT = Path(__file__).resolve().parent
MINIMA = DATA / "minima"
MOLECULES = ("benzene", "pyridine", "water", "naphthalene")
ADSORBATES = ("benzene", "pyridine", "water")
#: Intermolecular modes below this (cm⁻¹) are the nearly free sliding and spinning of the
#: adsorbate on the flake (GFN2-xTB: -18 to 15 cm⁻¹, some imaginary at the frozen-flake
#: minimum): relative errors are taken over the stiffer ones only (the bounce and the two
#: tilts, 70-115 cm⁻¹).
STIFF_CM = 30.0


def references() -> tuple[dict, float]:
    """The GFN2-xTB minima and Hessians, by system name."""
    from muse_explore.reference.minima import DELTA, minimum

    out = {name: minimum(name, folder=MINIMA) for name in MOLECULES}
    out.update({f"{m}/circumcoronene": minimum(f"{m}/circumcoronene", folder=MINIMA)
                for m in ADSORBATES})  # fmt: skip
    return out, DELTA


def fd_hessian(calc, atoms, indices, delta: float) -> np.ndarray:
    """Central differences of the model's forces over ``indices`` at step ``delta`` (Å)."""
    from muse_explore.reference.xtb import hessian

    return hessian(atoms, indices, delta=delta, calc=calc)


def main() -> None:
    known = graphene_labels()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_graphene_models(p, known, files=True)
    p.add_argument("--out", default=str(ROOT / "hessian"))
    args = p.parse_args()
    import torch

    import muse_explore as mx
    from muse_explore.analysis.vibrations import compare_hessians

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    ref, delta = references()
    models = parse_models(args.models, known)
    seeds = {label: seed_models(name) for label, name in models.items()}
    calcs = {name: calculator(name) for names in seeds.values() for name in names}
    rows, result = [], {"models": models, "seeds": seeds, "fd_step": delta, "systems": {}}
    for key, m in ref.items():
        atoms, idx = m.atoms, None if m.indices is None else m.indices.tolist()
        result["systems"][key] = {}
        for label, names in seeds.items():
            per_seed = []  # one entry per training seed
            for name in names:
                calc, entry = calcs[name], {}
                for how, h in (
                    ("autograd", mx.hessian(calc, atoms, indices=idx)),
                    ("fd", fd_hessian(calc, atoms, idx, delta)),
                ):
                    cmp = compare_hessians(h, m.hessian, atoms, idx)
                    if idx is None:  # the molecule's softest modes: model against reference
                        cmp["lowest_mode_curvature_ratio"] = _mode_ratios(h, m.hessian, atoms)
                    fm, fr = np.array(cmp["frequencies"]), np.array(cmp["reference_frequencies"])
                    if idx is not None:  # the stiff intermolecular modes: relative error
                        stiff = np.abs(fr[:6]) >= STIFF_CM
                        cmp["low_mode_relative"] = float(np.mean(
                            np.abs(fm[:6][stiff] - fr[:6][stiff]) / np.abs(fr[:6][stiff])
                        ))  # fmt: skip
                    entry[how] = cmp
                per_seed.append(entry)
                rows.append((key, label if len(names) == 1 else f"{label}/{name}", entry))
            result["systems"][key][label] = per_seed
    print(f"Hessians against GFN2-xTB minima ({', '.join(f'{k}: {v}' for k, v in models.items())})")
    print(f"{'system':<26}{'model':>9}{'how':>9}{'H MAE eV/Å²':>13}{'freq MAE':>10}{'6 low':>8}")
    for key, label, entry in rows:
        for how, c in entry.items():
            low = f"{c['low_mode_mae']:.1f}" if c["low_mode_mae"] is not None else "-"
            print(f"{key:<26}{label:>9}{how:>9}{c['hessian_mae']:>13.4f}"
                  f"{c['frequency_mae']:>10.1f}{low:>8}")  # fmt: skip
    summary, spread = {}, {}
    for label, names in seeds.items():
        summary[label], spread[label] = {}, {}
        for how in ("autograd", "fd"):
            per = [_summary([(k, result["systems"][k][label][s][how]) for k in ref])
                   for s in range(len(names))]  # fmt: skip
            spread[label][how] = {metric: [p[metric] for p in per] for metric in per[0]}
            summary[label][how] = {k: mean_sd(v)[0] for k, v in spread[label][how].items()}
    result["summary"], result["summary_seeds"] = summary, spread
    print()
    print("| model | seeds | Hessian | molecules: freq. MAE (cm⁻¹) | adsorbate block: H MAE "
          "(eV/Å²) | the same molecules free: H MAE (eV/Å²) | intermolecular modes: MAE "
          "(cm⁻¹) | stiff ones: relative (%) |")  # fmt: skip
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for label, per in spread.items():
        for how, s in per.items():
            cells = [
                pm(s["molecules_frequency_mae"], ".1f"),
                pm(s["adsorbate_hessian_mae"], ".4f"),
                pm(s["adsorbates_free_hessian_mae"], ".4f"),
                pm(s["intermolecular_mode_mae"], ".1f"),
                pm(100 * np.array(s["intermolecular_mode_relative"]), ".0f"),
            ]
            print(f"| {label} | {len(seeds[label])} | {how} | " + " | ".join(cells) + " |")
    print()
    print("Curvature along GFN2-xTB's three lowest vibrations of each molecule, model / "
          "reference (first seed, autograd; 1 is exact, 0.5 a mode √2 too soft)")  # fmt: skip
    print("| molecule | modes (cm⁻¹) | " + " | ".join(seeds) + " |")
    print("|---|---|" + "---|" * len(seeds))
    for key, m in ref.items():
        if m.indices is not None:
            continue
        fr = result["systems"][key][next(iter(seeds))][0]["autograd"]["reference_frequencies"]
        cells = [", ".join(f"{r:.2f}" for r in result["systems"][key][label][0]["autograd"]
                           ["lowest_mode_curvature_ratio"]) for label in seeds]  # fmt: skip
        print(f"| {key} | {', '.join(f'{f:.0f}' for f in fr[6:9])} | " + " | ".join(cells) + " |")
    result["scale_curvatures"] = {}
    for label, names in seeds.items():
        calc = calcs[names[0]]
        if not calc.model.levels:
            continue
        per = {key: _scale_curvatures(calc, m, delta) for key, m in ref.items()
               if m.indices is not None}  # fmt: skip
        result["scale_curvatures"][label] = per
        print()
        print(f"{label} (first seed): curvature along GFN2-xTB's stiff intermolecular modes, "
              "each scale's own, by central differences of the scale energies at "
              f"{delta} Å, eV/Å²")  # fmt: skip
        header = " | ".join(_scale_names(calc))
        print(f"| adsorbate | mode (cm⁻¹) | GFN2-xTB | {header} | sum |")
        print("|---|---:|---:|" + "---:|" * (calc.model.levels + 2))
        for key, rows in per.items():
            for r in rows:
                cells = " | ".join(f"{c:+.3f}" for c in r["scales"])
                print(f"| {key.split('/')[0]} | {r['cm']:.0f} | {r['reference']:+.3f} | {cells} "
                      f"| {sum(r['scales']):+.3f} |")  # fmt: skip
    from muse_explore.atomic import atomic_open

    out = Path(args.out)
    with atomic_open(out.with_suffix(".json")) as fh:
        fh.write(json.dumps(result, indent=1) + "\n")
    _plot(result, out.with_suffix(".png"))
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')} in "
          f"{time.perf_counter() - t0:.0f} s")  # fmt: skip


def _mode_ratios(h_model, h_ref, atoms, n: int = 3) -> list[float]:
    """Model curvature / reference curvature along the reference's ``n`` lowest vibrations
    (normal modes of a full Hessian, the six rigid-body modes skipped)."""
    from muse_explore.analysis.vibrations import normal_modes

    u = normal_modes(h_ref, atoms)[1][:, 6 : 6 + n]
    return [float(v @ h_model @ v / (v @ h_ref @ v)) for v in u.T]


def _scale_names(calc) -> list[str]:
    return ["atoms"] + [f"level {lev}" for lev in range(1, calc.model.levels + 1)]


def _scale_curvatures(calc, m, delta: float) -> list[dict]:
    """Each scale's curvature along the reference's stiff intermolecular modes.

    The mode is GFN2-xTB's mass-weighted eigenvector over the adsorbate, turned into a unit
    Cartesian displacement u; each scale energy E_l is differenced along it,
    (E_l(+δu) + E_l(−δu) − 2 E_l(0)) / δ², so that the scales add up to the model's u·H·u,
    compared with the reference's u·H_ref·u. It says which scale makes a mode too stiff or
    too soft.
    """
    from muse_explore.analysis.vibrations import frequencies, normal_modes

    atoms, idx = m.atoms, np.asarray(m.indices)
    modes = normal_modes(m.hessian, atoms, idx)[1]
    cm = frequencies(m.hessian, atoms, idx)
    pos = atoms.get_positions()

    def scale_energies(step):
        a = atoms.copy()
        a.positions = pos.copy()
        a.positions[idx] += step.reshape(-1, 3)
        a.calc = calc
        a.get_potential_energy()
        return np.asarray(calc.results["scale_energies"], dtype=float)

    e0, rows = scale_energies(np.zeros(3 * len(idx))), []
    for j in range(6):
        if abs(cm[j]) < STIFF_CM:
            continue
        u = modes[:, j]
        curv = (scale_energies(delta * u) + scale_energies(-delta * u) - 2 * e0) / delta**2
        rows.append({"cm": float(cm[j]), "reference": float(u @ m.hessian @ u),
                     "scales": curv.tolist()})  # fmt: skip
    return rows


def _summary(per_system: list[tuple[str, dict]]) -> dict:
    """The headline numbers of one model (one seed, one way of measuring) over the systems.

    ``adsorbates_free_hessian_mae`` is the Hessian MAE of the adsorbates as free molecules (at
    their own minima), beside ``adsorbate_hessian_mae``, their blocks on the flake: how much of
    a block's error the molecule carries by itself.
    """
    mol = [c for k, c in per_system if "/" not in k]
    cpx = [c for k, c in per_system if "/" in k]
    free = [c for k, c in per_system if k in ADSORBATES]
    return {
        "molecules_frequency_mae": float(np.mean([c["frequency_mae"] for c in mol])),
        "molecules_hessian_mae": float(np.mean([c["hessian_mae"] for c in mol])),
        "adsorbate_hessian_mae": float(np.mean([c["hessian_mae"] for c in cpx])),
        "adsorbates_free_hessian_mae": float(np.mean([c["hessian_mae"] for c in free])),
        "adsorbate_frequency_mae": float(np.mean([c["frequency_mae"] for c in cpx])),
        "intermolecular_mode_mae": float(np.mean([c["low_mode_mae"] for c in cpx])),
        "intermolecular_mode_relative": float(np.mean([c["low_mode_relative"] for c in cpx])),
    }


def _plot(result, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    styles = {"MuSE": "C0s", "baseline": "C3^", "LES": "C2v"}
    for key, per_model in result["systems"].items():
        ax = axes[1] if "/" in key else axes[0]
        for label, per_seed in per_model.items():
            c = per_seed[0]["autograd"]  # the first seed
            fr, fm = np.array(c["reference_frequencies"]), np.array(c["frequencies"])
            first = key in ("benzene", "benzene/circumcoronene")
            ax.plot(fr, fm, styles.get(label, "o"), ms=3, alpha=0.6, label=label if first else None)
    for ax, title in zip(axes, ("isolated molecules", "adsorbate on a frozen flake"), strict=True):
        lim = ax.get_xlim()
        ax.plot(lim, lim, color="0.6", lw=0.8)
        ax.set_xlabel("GFN2-xTB frequency (cm⁻¹)")
        ax.set_ylabel("model frequency (cm⁻¹)")
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
