"""Holes on the Ramachandran map: one residue's (φ, ψ) scanned, each model against GFN2-xTB.

    OMP_NUM_THREADS=1 python benchmarks/ramachandran.py             # about 5 minutes
    OMP_NUM_THREADS=1 python benchmarks/ramachandran.py --quick     # a 60° grid, scratch cache
    python benchmarks/ramachandran.py --models MuSE=runs/x/best_model.pt --out /tmp/rama.json

The earlier peptide models' folding runs walked into geometries no training set reached;
one of them (benchmarks/README.md, "Holes in the peptide models") held a residue near
(φ, ψ) = (−165°, 0°), where the amide hydrogens of two neighbouring residues press together,
and every model's energy there was far too low. The peptide training sets sample the helix,
PPII and strand basins and MD around them, not the whole map. This scan does: in
Ac-(Ala)n-NHMe (default n = 4, the other residues in a context conformation, default the
extended strand) residue ``--residue`` takes every (φ, ψ) of a ``--step``° grid, rigidly
(bond lengths and angles as built, no relaxation), and each structure is evaluated with
GFN2-xTB and with every model. Energies are relative to the all-context chain, each method
against its own.

Per model (mean ± sd over its shipped training seeds; the number of holes and the deepest one
are listed seed by seed, ``;`` between seeds):

* **accessible MAE**: the error over the grid points GFN2-xTB puts within
  :data:`ACCESSIBLE_EV` of the all-context chain, where a run at 300–700 K can go;
* **holes**: grid points the model puts within :data:`ACCESSIBLE_EV` of the chain (where its
  own dynamics can go) while GFN2-xTB puts them more than :data:`HOLE_EV` higher: their
  number, their share of the map and the deepest with its (φ, ψ);
* **too low**: the share of the whole map where the model is more than :data:`HOLE_EV` below
  GFN2-xTB (barriers too low, also where both are far uphill);
* **uphill** (a second table): the mean and the most negative error where GFN2-xTB is above
  :data:`FAR_EV`, and the lowest model energy anywhere GFN2-xTB puts above
  :data:`ACCESSIBLE_EV` (with GFN2-xTB's energy there): how close the model's own dynamics
  can come to ground it should not reach, hole or not.

Grid points with two atoms more than two bonds apart closer than :data:`OVERLAP_A` (atoms
built on top of each other, tens of eV up) are left out of both and counted. GFN2-xTB
energies are cached in benchmarks/ramachandran_reference.json (written atomically every 50
points: a killed run resumes); another scan (``--n``, ``--residue``, ``--step``,
``--context``) keeps its own beside it, ``ramachandran_reference_CONTEXT_nN_rR_STEPdeg.json``.
Writes benchmarks/ramachandran.json and ramachandran.png
(GFN2-xTB's map and each model's error map).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _models import calculator, parse_models, pm, provenance, seed_models

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "ramachandran_reference.json"
MODELS = {"MuSE": "muse-painn-peptide", "baseline": "painn-peptide", "LES": "painn-lr-peptide"}
#: GFN2-xTB energy (above the all-context chain) up to which a grid point counts as accessible
ACCESSIBLE_EV = 0.5
#: a model energy this far below GFN2-xTB's (relative energies) is too low; a hole if the
#: model also puts the point within ACCESSIBLE_EV
HOLE_EV = 0.3
#: GFN2-xTB energy above which a grid point counts as far uphill (the second table)
FAR_EV = 2.0
#: grid points with a non-bonded pair (more than two bonds apart) closer than this are skipped
OVERLAP_A = 0.8


def scan(n: int, residue: int, step: float, context: str) -> list[dict]:
    """The grid: each point's (φ, ψ), its structure and its closest non-bonded pair."""
    from muse_explore.reference.peptide import (
        CONFORMATIONS,
        alanine_peptide,
        bond_hops,
        peptide_bonds,
    )

    if not 1 <= residue <= n:
        raise SystemExit(f"--residue must be between 1 and n = {n}, got {residue}")
    if 360 % step:
        raise SystemExit(f"--step must divide 360, got {step}")
    phi0, psi0 = CONFORMATIONS[context]
    far = bond_hops(peptide_bonds(n), 10 * n + 12) > 2
    grid = np.arange(-180.0, 180.0, step)
    points = []
    for phi in grid:
        for psi in grid:
            phis, psis = [phi0] * n, [psi0] * n
            phis[residue - 1], psis[residue - 1] = float(phi), float(psi)
            atoms = alanine_peptide(n, phi=phis, psi=psis)
            d = atoms.get_all_distances()
            points.append({"phi": float(phi), "psi": float(psi), "atoms": atoms,
                           "closest": float(d[far].min())})  # fmt: skip
    return points


#: The scan whose GFN2-xTB energies are cached in :data:`CACHE` (the defaults).
DEFAULT_SCAN = {"n": 4, "residue": 2, "step": 15.0, "context": "extended"}


def cache_path(n: int, residue: int, step: float, context: str, *, quick: bool = False) -> Path:
    """Where a scan's GFN2-xTB energies are cached: :data:`CACHE` for the default scan, a file
    of its own for any other, so that no other scan overwrites the default's."""
    if quick:
        return CACHE.with_name("ramachandran_reference_quick.json")
    scan_key = {"n": n, "residue": residue, "step": float(step), "context": context}
    if scan_key == DEFAULT_SCAN:
        return CACHE
    return CACHE.with_name(f"ramachandran_reference_{context}_n{n}_r{residue}_{step:g}deg.json")


def references(points: list[dict], chain, key: dict, cache: Path) -> tuple[float, list]:
    """GFN2-xTB energy of the all-context chain and of every grid point (None: overlap)."""
    from muse_explore.atomic import atomic_open
    from muse_explore.reference.xtb import gfn2_calculator, single_point

    data = json.loads(cache.read_text()) if cache.is_file() else {}
    if data.get("key") != key:
        data = {"key": key, "chain": None, "energies": []}
    calc = gfn2_calculator()
    if data["chain"] is None:
        data["chain"] = float(single_point(chain, calc).get_potential_energy())
    for p in points[len(data["energies"]) :]:
        ok = p["closest"] >= OVERLAP_A
        data["energies"].append(
            float(single_point(p["atoms"], calc).get_potential_energy()) if ok else None
        )
        done = len(data["energies"])
        if done % 50 == 0 or done == len(points):
            with atomic_open(cache) as fh:
                json.dump(data, fh)
            print(f"  GFN2-xTB: {done} / {len(points)} grid points", flush=True)
    return data["chain"], data["energies"]


def _measures(points, ref, model) -> dict:
    """Accessible MAE and holes of one model's relative energies (eV) against GFN2-xTB's."""
    ok = np.array([r is not None for r in ref])
    ref_e = np.array([r if r is not None else np.nan for r in ref])
    model = np.array(model)
    err = model - ref_e
    access = ok & (ref_e <= ACCESSIBLE_EV)
    low = ok & (err < -HOLE_EV)
    hole = low & (model <= ACCESSIBLE_EV)
    far = ok & (ref_e > FAR_EV)
    uphill = np.flatnonzero(ok & (ref_e > ACCESSIBLE_EV))
    lowest = int(uphill[np.argmin(model[uphill])]) if uphill.size else None
    out = {
        "accessible_points": int(access.sum()),
        "accessible_mae_meV": float(1000 * np.abs(err[access]).mean()),
        "accessible_mean_error_meV": float(1000 * err[access].mean()),
        "holes": int(hole.sum()),
        "hole_share": float(hole.sum() / ok.sum()),  # of the points not left out
        "deepest_hole_eV": float(err[hole].min()) if hole.any() else None,
        "deepest_hole_at": None,
        "too_low_share": float(low.sum() / ok.sum()),
        "far_points": int(far.sum()),
        "far_mean_error_meV": float(1000 * err[far].mean()) if far.any() else None,
        "far_worst_error_eV": float(err[far].min()) if far.any() else None,
        "lowest_uphill_eV": None if lowest is None else float(model[lowest]),
        "lowest_uphill_reference_eV": None if lowest is None else float(ref_e[lowest]),
        "errors_eV": [None if not o else round(float(e), 4) for o, e in zip(ok, err, strict=True)],
    }
    if hole.any():
        i = int(np.flatnonzero(hole)[np.argmin(err[hole])])
        out["deepest_hole_at"] = [points[i]["phi"], points[i]["psi"]]
    return out


def _per_seed(values, fmt: str) -> str:
    """One value per seed, ``-`` for a seed without one (a model with no hole has no deepest)."""
    return "; ".join("-" if v is None else format(v, fmt) for v in values)


def _pm_some(values, fmt: str) -> str:
    """:func:`pm` over the seeds that have a value (a model with no hole has no deepest)."""
    have = [v for v in values if v is not None]
    return pm(have, fmt) if have else "-"


def _plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.array(result["grid"])
    m = len(grid)
    panels = [("GFN2-xTB (eV above the chain)", result["reference_eV"], "viridis", (0, 2))]
    for label, seeds in result["per_seed"].items():
        panels.append((f"{label}: error (eV), seed 0", seeds[0]["errors_eV"], "RdBu",
                       (-1, 1)))  # fmt: skip
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.8), squeeze=False)
    for ax, (title, values, cmap, lim) in zip(axes[0], panels, strict=True):
        z = np.array([np.nan if v is None else v for v in values], float).reshape(m, m).T
        im = ax.pcolormesh(grid, grid, z, cmap=cmap, vmin=lim[0], vmax=lim[1], shading="nearest")
        ax.set(title=title, xlabel="φ (°)", ylabel="ψ (°)", aspect="equal")
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.suptitle(result["title"], fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    from muse_explore.reference.peptide import CONFORMATIONS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=4, help="residues of Ac-(Ala)n-NHMe")
    p.add_argument("--residue", type=int, default=2, help="the scanned residue (1 … n)")
    p.add_argument("--step", type=float, default=15.0, help="grid step (degrees)")
    p.add_argument("--context", default="extended", choices=sorted(CONFORMATIONS),
                   help="conformation of the other residues")  # fmt: skip
    p.add_argument("--quick", action="store_true", help="a 60° grid, a scratch reference cache")
    p.add_argument("--models", nargs="+", default=None,
                   help=f"labels from {list(MODELS)} or LABEL=NAME_OR_PATH")  # fmt: skip
    p.add_argument("--out", default=str(ROOT / "ramachandran.json"))
    args = p.parse_args()
    import torch

    from muse_explore.reference.peptide import alanine_peptide

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    if args.quick:
        args.step = 60.0
    cache = cache_path(args.n, args.residue, args.step, args.context, quick=args.quick)
    points = scan(args.n, args.residue, args.step, args.context)
    chain = alanine_peptide(args.n, conformation=args.context)
    key = {"n": args.n, "residue": args.residue, "step": args.step, "context": args.context,
           "overlap_A": OVERLAP_A}  # fmt: skip
    ref_chain, ref_abs = references(points, chain, key, cache)
    ref = [None if e is None else e - ref_chain for e in ref_abs]
    ok = [r is not None for r in ref]
    models = {k: seed_models(v) for k, v in parse_models(args.models, MODELS).items()}
    title = (f"Ac-(Ala){args.n}-NHMe, residue {args.residue} scanned, the others "
             f"{args.context}, {args.step:g}° grid, rigid")  # fmt: skip
    result = {
        "title": title, **key, "models": models, "provenance": provenance(models),
        "grid": np.arange(-180.0, 180.0, args.step).tolist(),
        "points": len(points), "overlaps": int(len(points) - sum(ok)),
        "accessible_eV": ACCESSIBLE_EV, "hole_eV": HOLE_EV,
        "reference_eV": [None if r is None else round(r, 4) for r in ref],
        "per_seed": {}, "summary": {},
    }  # fmt: skip
    for label, names in models.items():
        per_seed = []
        for name in names:
            calc = calculator(name)
            chain.calc = calc
            e_chain = float(chain.get_potential_energy())
            rel = []
            for pt, good in zip(points, ok, strict=True):
                if good:
                    pt["atoms"].calc = calc
                    rel.append(float(pt["atoms"].get_potential_energy()) - e_chain)
                else:
                    rel.append(np.nan)
            per_seed.append(_measures(points, ref, rel))
        result["per_seed"][label] = per_seed
        result["summary"][label] = {
            k: [s[k] for s in per_seed] for k in per_seed[0] if k != "errors_eV"
        }
    print(f"\n{title}: {len(points)} points, {result['overlaps']} left out (atoms within "
          f"{OVERLAP_A} Å); GFN2-xTB from {np.nanmin(np.array(ref, float)):.2f} eV, "
          f"{sum(r is not None and r <= ACCESSIBLE_EV for r in ref)} points within "
          f"{ACCESSIBLE_EV} eV of the chain")  # fmt: skip
    print(f"| model | accessible MAE (meV) | its mean error (meV) | holes | share of the map "
          f"| deepest hole (eV) | at (φ, ψ) | > {HOLE_EV} eV too low |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---|---:|")
    for label, s in result["summary"].items():
        at = "; ".join(
            "-" if a is None else f"({a[0]:g}°, {a[1]:g}°)" for a in s["deepest_hole_at"]
        )
        holes = "; ".join(str(h) for h in s["holes"])
        print(f"| {label} | {pm(s['accessible_mae_meV'], '.0f')} | "
              f"{pm(s['accessible_mean_error_meV'], '+.0f')} | {holes} | "
              f"{pm([100 * x for x in s['hole_share']], '.1f')} % | "
              f"{_per_seed(s['deepest_hole_eV'], '+.2f')} | {at} | "
              f"{pm([100 * x for x in s['too_low_share']], '.0f')} % |")  # fmt: skip
    far_n = next(iter(result["summary"].values()))["far_points"][0]
    print(f"\nUphill: the {far_n} points GFN2-xTB puts above {FAR_EV} eV, and the lowest model "
          f"energy where GFN2-xTB is above {ACCESSIBLE_EV} eV (eV)")  # fmt: skip
    print(
        f"| model | mean error above {FAR_EV} eV (meV) | most negative error (eV) "
        "| lowest model energy uphill (eV) | GFN2-xTB there (eV) |"
    )
    print("|---|---:|---:|---:|---:|")
    for label, s in result["summary"].items():
        print(f"| {label} | {_pm_some(s['far_mean_error_meV'], '+.0f')} | "
              f"{_pm_some(s['far_worst_error_eV'], '+.2f')} | "
              f"{_pm_some(s['lowest_uphill_eV'], '.2f')} | "
              f"{_pm_some(s['lowest_uphill_reference_eV'], '.2f')} |")  # fmt: skip
    if not args.quick:
        from muse_explore.atomic import atomic_open

        out = Path(args.out)
        with atomic_open(out) as fh:
            fh.write(json.dumps(result, indent=1) + "\n")
        _plot(result, out.with_suffix(".png"))
        print(f"wrote {out} and {out.with_suffix('.png').name}")
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
