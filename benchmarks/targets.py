"""Issue #15's targets, each against the shipped models' numbers: met or not, with the spread.

    python benchmarks/targets.py                  # reads the committed JSON, a second
    python benchmarks/targets.py --json /tmp/t.json

Runs no model. It reads what the benchmark scripts wrote (``long_range.json``,
``hessian.json``, ``conformers.json`` and the folding runs' states in ``folding/state/``)
and prints two tables:

* **the targets**: every target of issue #15 with MuSE-PaiNN's value (the headline pair,
  mean ± sd over training seeds), its baseline's and LES's beside it, and whether it is met;
* **per backbone**: the targets that compare MuSE with its own baseline (beyond 6 Å on the
  training flake and on C96H24, the Hessian lines), for each backbone trained.

A threshold target (``≤ x``) is met with every seed ("yes"), by the mean of the seeds but
not every seed ("mean only"), or not ("no"; "no (k of n seeds)" when some seeds meet it).
A comparison with another model ("below the baseline") is met when MuSE's mean is lower
and the two are apart by more than their seeds' spread ("yes"), lower but within the spread
("within spread"), or not lower ("no"); with one seed on a side there is no spread to
compare ("yes, one seed"). The intermolecular modes are judged per mode (``hessian.json``'s
``systems``): the stiff ones, GFN2-xTB |ν| ≥ 30 cm⁻¹, each within 25 %, and the MAE of all
six, of the stiff and of the soft ones (the near-free slides and spins of each adsorbate)
against LES. Folding counts the finished runs of the shipped models only (the same model
file's fingerprint). Hessian lines use the autograd Hessian; the
largest relative difference from the finite-difference one at GFN2-xTB's step
(``hessian.json``) is printed, and whether it gives the same verdicts. Rerun the scripts
after retraining, then this one; writes ``benchmarks/targets.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from _models import mean_sd, pm
from hessian import STIFF_CM  # the near-free slides and spins below it (cm⁻¹)

ROOT = Path(__file__).resolve().parent

#: label of each backbone's MuSE model and of its baseline, as the graphene scripts name them
BACKBONES = {
    "PaiNN": ("MuSE", "baseline"),
    "MACE": ("MuSE-MACE", "MACE"),
    "SO3krates": ("MuSE-SO3krates", "SO3krates"),
}


def threshold_verdict(values, limit: float, at_least: bool = False) -> str:
    """Whether seeds' values are at most ``limit`` (at least, with ``at_least``): yes, mean
    only, no (k of n seeds), no."""
    v = np.atleast_1d(np.asarray(values, dtype=float))
    if v.size == 0:
        raise ValueError("no values to judge")
    ok = v >= limit if at_least else v <= limit
    k = int(ok.sum())
    if k == len(v):
        return "yes"
    if (v.mean() >= limit) if at_least else (v.mean() <= limit):
        return "mean only"
    return f"no ({k} of {len(v)} seeds)" if k else "no"


def below_verdict(ours, theirs) -> str:
    """Whether ``ours`` (seeds) is below ``theirs`` (seeds), beyond the seeds' spread.

    With one seed on either side there is no spread to compare with: "yes, one seed".
    """
    (m1, s1), (m2, s2) = mean_sd(ours), mean_sd(theirs)
    if m1 >= m2:
        return "no"
    if min(np.size(ours), np.size(theirs)) == 1:
        return "yes, one seed"
    return "yes" if m1 + s1 < m2 - s2 else "within spread"


def every_backbone_verdict(backbones: dict) -> str:
    """MuSE below its baseline beyond 6 Å on each of the three backbones: met only if every
    backbone is trained and every comparison says yes."""
    missing = [name for name in BACKBONES if name not in backbones]
    verdicts = {
        name: below_verdict(d["MuSE"]["beyond_6A"], d["baseline"]["beyond_6A"])
        for name, d in backbones.items()
        if name in BACKBONES
    }
    lost = [name for name, v in verdicts.items() if v == "no"]
    close = [name for name, v in verdicts.items() if v == "within spread"]
    if lost or missing:
        why = [f"not below on {', '.join(lost)}"] if lost else []
        return "no: " + "; ".join(why + ([f"{', '.join(missing)} not trained"] if missing else []))
    if close:
        return f"within spread on {', '.join(close)}"
    one = [name for name, v in verdicts.items() if v == "yes, one seed"]
    return "yes" + (f" ({', '.join(one)}: one seed)" if one else "")


def _row(group, target, kind, limit, muse, baseline=None, les=None, fmt=".1f", unit=""):
    """One target: the seeds' values of each model, and the verdict."""
    if kind == "max":
        verdict = threshold_verdict(muse, limit)
    elif kind == "min":
        verdict = threshold_verdict(muse, limit, at_least=True)
    elif kind == "below baseline":
        verdict = below_verdict(muse, baseline)
    elif kind == "below LES":
        verdict = below_verdict(muse, les)
    else:
        raise ValueError(kind)
    return {
        "demonstration": group,
        "target": target,
        "unit": unit,
        "fmt": fmt,
        "MuSE": list(map(float, muse)),
        "baseline": None if baseline is None else list(map(float, baseline)),
        "LES": None if les is None else list(map(float, les)),
        "met": verdict,
    }


def _growth_row(group, target, muse, baseline, les):
    """Growth with n at most 3 meV per residue in size, and smaller than the baseline's."""
    row = _row(group, target, "max", 3.0, np.abs(muse), baseline, les, "+.1f", "meV/residue")
    row["MuSE"] = list(map(float, muse))  # signed, as the benchmark reports it
    if not row["met"].startswith("no"):
        below = below_verdict(np.abs(muse), np.abs(baseline))
        if below == "no":
            row["met"] = "no: not smaller than the baseline's"
        elif below == "within spread":
            row["met"] = f"{row['met']}, smaller than the baseline's within spread"
    return row


def graphene_rows(lr: dict) -> list[dict]:
    """The molecule-over-graphene targets (E_int, C96H24, forces, rattled forces)."""
    g = "molecule over graphene"
    bb = lr["backbones"]["PaiNN"]
    seeds = lr["mae_beyond_6A_seeds"]
    rattled = lr.get("rattled_force_mae_seeds", {})
    les_all = [t["mae_seeds"] for t in lr["tables"]["LES"] if t["range"] == "all"][0]
    rows = [
        _row(g, "E_int MAE ≤ 3 meV overall", "max", 3.0, bb["MuSE"]["all"], bb["baseline"]["all"],
             les_all, ".2f", "meV"),
        _row(g, "E_int MAE ≤ 1.5 meV beyond 6 Å", "max", 1.5, bb["MuSE"]["beyond_6A"],
             bb["baseline"]["beyond_6A"], seeds.get("LES"), ".2f", "meV"),
        _row(g, "E_int MAE ≤ 5 meV beyond 6 Å on C96H24", "max", 5.0,
             bb["MuSE"]["transfer_beyond_6A"], bb["baseline"]["transfer_beyond_6A"],
             lr["transfer_beyond_6A_seeds"].get("LES"), ".1f", "meV"),
        _row(g, "force MAE ≤ 20 meV/Å (test complexes)", "max", 20.0, bb["MuSE"]["forces"],
             bb["baseline"]["forces"], lr["force_mae_complexes_seeds"].get("LES"), ".1f", "meV/Å"),
    ]  # fmt: skip
    if rattled:
        rows.append(
            _row(g, "force MAE ≤ 50 meV/Å on rattled flakes", "max", 50.0,
                 rattled["MuSE"]["flake"], rattled["baseline"]["flake"],
                 rattled.get("LES", {}).get("flake"), ".1f", "meV/Å")
        )  # fmt: skip
    row = _row(g, "MuSE below its baseline beyond 6 Å, every backbone (values: PaiNN)",
               "below baseline", None, bb["MuSE"]["beyond_6A"], bb["baseline"]["beyond_6A"],
               seeds.get("LES"), ".2f", "meV")  # fmt: skip
    row["met"] = every_backbone_verdict(lr["backbones"])
    rows.append(row)
    return rows


def intermolecular_modes(h: dict, how: str = "autograd") -> dict:
    """Per model label and training seed, over the adsorbates' six intermolecular modes: the
    share of the stiff ones (GFN2-xTB |ν| ≥ 30 cm⁻¹) within 25 % of GFN2-xTB, and the MAE
    (cm⁻¹) of the stiff ones and of the soft ones."""
    out: dict[str, dict[str, list[float]]] = {}
    complexes = [key for key in h["systems"] if "/" in key]
    for label in h["systems"][complexes[0]]:
        seeds = len(h["systems"][complexes[0]][label])
        within, stiff_mae, soft_mae = [], [], []
        for s in range(seeds):
            rel, stiff_err, soft_err = [], [], []
            for key in complexes:
                c = h["systems"][key][label][s][how]
                fm = np.asarray(c["frequencies"][:6])
                fr = np.asarray(c["reference_frequencies"][:6])
                stiff = np.abs(fr) >= STIFF_CM
                rel += list(np.abs(fm[stiff] - fr[stiff]) / np.abs(fr[stiff]))
                stiff_err += list(np.abs(fm[stiff] - fr[stiff]))
                soft_err += list(np.abs(fm[~stiff] - fr[~stiff]))
            within.append(float(np.mean(np.asarray(rel) <= 0.25)))
            stiff_mae.append(float(np.mean(stiff_err)))
            soft_mae.append(float(np.mean(soft_err)))
        out[label] = {"stiff_within_25": within, "stiff_mae": stiff_mae, "soft_mae": soft_mae}
    return out


def soft_reference_range(h: dict) -> tuple[float, float]:
    """The lowest and highest GFN2-xTB frequency (cm⁻¹) among the adsorbates' soft modes."""
    soft = []
    for key in (k for k in h["systems"] if "/" in k):
        label = next(iter(h["systems"][key]))
        fr = np.asarray(h["systems"][key][label][0]["autograd"]["reference_frequencies"][:6])
        soft += list(fr[np.abs(fr) < STIFF_CM])
    return float(min(soft)), float(max(soft))


def hessian_rows(h: dict) -> list[dict]:
    """The Hessian targets (item 5 of #15), autograd Hessians."""
    g = "Hessians"
    s = {label: d["autograd"] for label, d in h["summary_seeds"].items()}
    les = s.get("LES", {})
    modes = intermolecular_modes(h)
    m_les = modes.get("LES", {})
    return [
        _row(g, "MuSE ≤ its baseline on the molecules' frequency MAE", "below baseline", None,
             s["MuSE"]["molecules_frequency_mae"], s["baseline"]["molecules_frequency_mae"],
             les.get("molecules_frequency_mae"), ".1f", "cm⁻¹"),
        _row(g, "adsorbate-block Hessian MAE ≤ 0.1 eV/Å²", "max", 0.1,
             s["MuSE"]["adsorbate_hessian_mae"], s["baseline"]["adsorbate_hessian_mae"],
             les.get("adsorbate_hessian_mae"), ".3f", "eV/Å²"),
        _row(g, "every stiff intermolecular mode within 25 % of GFN2-xTB (values: the share "
             "within)", "min", 1.0, modes["MuSE"]["stiff_within_25"],
             modes["baseline"]["stiff_within_25"], m_les.get("stiff_within_25"), ".2f",
             "of the modes"),
        _row(g, "MuSE ahead of LES on the intermolecular modes: all six (MAE)", "below LES",
             None, s["MuSE"]["intermolecular_mode_mae"], s["baseline"]["intermolecular_mode_mae"],
             les.get("intermolecular_mode_mae"), ".1f", "cm⁻¹"),
        _row(g, "MuSE ahead of LES on the intermolecular modes: the stiff ones (MAE)",
             "below LES", None, modes["MuSE"]["stiff_mae"], modes["baseline"]["stiff_mae"],
             m_les.get("stiff_mae"), ".1f", "cm⁻¹"),
        _row(g, "MuSE ahead of LES on the intermolecular modes: the soft ones (MAE)",
             "below LES", None, modes["MuSE"]["soft_mae"], modes["baseline"]["soft_mae"],
             m_les.get("soft_mae"), ".1f", "cm⁻¹"),
    ]  # fmt: skip


def folding_rows(states: Path) -> list[dict]:
    """The folding runs of the shipped peptide models: finished 100 ps runs of Ac-(Ala)15-NHMe
    per model (#15: 3 seeds or more), read from the runs' states (``folding.py``); a run
    counts only if its model file is the shipped one (the same sha256 fingerprint)."""
    from _models import fingerprint
    from folding import MODELS, run_key

    counts = []
    for label, name in MODELS.items():
        shipped, done = fingerprint(name), 0
        for path in sorted(
            states.glob(run_key(label, 15, 0, 100.0).replace("seed0", "seed*") + ".json")
        ):
            st = json.loads(path.read_text())
            done += bool(st["done"] and st["fingerprint"] == shipped and st["residues"] == 15)
        counts.append(done)
    row = _row("peptide folding", "Ac-(Ala)15-NHMe: 3 MD seeds or more of 100 ps per model, "
               "with the shipped models (values: runs)", "min", 3.0, *([n] for n in counts), ".0f",
               "runs")  # fmt: skip
    row["met"] = "yes" if min(counts) >= 3 else f"no (fewest: {min(counts)} of 3)"
    return [row]


def peptide_rows(c: dict) -> list[dict]:
    """The helix- and PPII-against-extended targets, Ac-(Ala)n-NHMe, n = 4…15."""
    g = "peptide conformers"
    s = c["summary"]
    rows = []
    for key, name in (("helix", "α helix"), ("ppii", "PPII")):
        m, b, les = s["MuSE"][key], s["baseline"][key], s.get("LES", {}).get(key, {})
        rows.append(
            _row(g, f"{name} − extended: error ≤ 50 meV at every n", "max", 50.0,
                 m["max_abs_error_meV"], b["max_abs_error_meV"], les.get("max_abs_error_meV"),
                 ".0f", "meV")
        )  # fmt: skip
        rows.append(
            _growth_row(g, f"{name} − extended: growth with n within ±3 meV/residue, "
                        "smaller than the baseline's", m["slope_meV_per_residue"],
                        b["slope_meV_per_residue"], les.get("slope_meV_per_residue"))
        )  # fmt: skip
    return rows


#: the hessian.json lines the tables use
HESSIAN_LINES = (
    "molecules_frequency_mae",
    "adsorbate_hessian_mae",
    "intermolecular_mode_relative",
    "intermolecular_mode_mae",
)


def fd_difference(h: dict) -> float:
    """The largest relative difference between the autograd and the finite-difference value
    of a Hessian line the tables use, over every model and seed."""
    worst = 0.0
    for d in h["summary_seeds"].values():
        for key in HESSIAN_LINES:
            a, f = np.asarray(d["autograd"][key]), np.asarray(d["fd"][key])
            worst = max(worst, float(np.max(np.abs(a - f) / np.maximum(np.abs(a), 1e-12))))
    return worst


def backbone_rows(lr: dict, h: dict) -> list[dict]:
    """MuSE against its own baseline, per backbone trained."""
    rows = []
    s = {label: d["autograd"] for label, d in h["summary_seeds"].items()}
    for backbone, (muse, base) in BACKBONES.items():
        if backbone not in lr["backbones"] or muse not in s or base not in s:
            continue
        bb = lr["backbones"][backbone]
        pairs = [
            ("E_int beyond 6 Å", bb["MuSE"]["beyond_6A"], bb["baseline"]["beyond_6A"], ".2f",
             "meV"),
            ("E_int beyond 6 Å on C96H24", bb["MuSE"]["transfer_beyond_6A"],
             bb["baseline"]["transfer_beyond_6A"], ".1f", "meV"),
            ("molecules' frequency MAE", s[muse]["molecules_frequency_mae"],
             s[base]["molecules_frequency_mae"], ".1f", "cm⁻¹"),
            ("adsorbate-block Hessian MAE", s[muse]["adsorbate_hessian_mae"],
             s[base]["adsorbate_hessian_mae"], ".3f", "eV/Å²"),
            ("intermolecular-mode MAE", s[muse]["intermolecular_mode_mae"],
             s[base]["intermolecular_mode_mae"], ".1f", "cm⁻¹"),
        ]  # fmt: skip
        for what, ours, theirs, fmt, unit in pairs:
            row = _row(backbone, f"MuSE below its baseline: {what}", "below baseline", None,
                       ours, theirs, None, fmt, unit)  # fmt: skip
            rows.append(row)
    return rows


def _cell(values, fmt) -> str:
    if values is None:
        return "–"
    return f"{pm(values, fmt)}" + (f" ({len(values)})" if len(values) > 1 else "")


def markdown(rows: list[dict], first: str) -> str:
    lines = [
        f"| {first} | target | MuSE | baseline | LES | unit | met |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['demonstration']} | {r['target']} | {_cell(r['MuSE'], r['fmt'])} | "
            f"{_cell(r['baseline'], r['fmt'])} | {_cell(r['LES'], r['fmt'])} | {r['unit']} | "
            f"{r['met']} |"
        )
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", default=str(ROOT), help="folder with the benchmarks' JSON files")
    p.add_argument("--json", default=str(ROOT / "targets.json"))
    args = p.parse_args()
    folder = Path(args.dir)
    try:
        lr, h, c = (json.loads((folder / f"{n}.json").read_text())
                    for n in ("long_range", "hessian", "conformers"))  # fmt: skip
    except FileNotFoundError as err:
        raise SystemExit(f"{err.filename} is missing: run its benchmark script first") from None
    targets = (
        graphene_rows(lr)
        + hessian_rows(h)
        + peptide_rows(c)
        + folding_rows(folder / "folding" / "state")
    )
    per_backbone = backbone_rows(lr, h)
    print("Issue #15's targets (mean ± sd over training seeds, the number of seeds in brackets):\n")
    print(markdown(targets, "demonstration"))
    print("\nMuSE against its own baseline, per backbone:\n")
    print(markdown(per_backbone, "backbone"))
    lo, hi = soft_reference_range(h)
    print(f"\nThe adsorbates' soft intermolecular modes (GFN2-xTB |ν| < {STIFF_CM:g} cm⁻¹, "
          f"slides and spins) lie between {lo:.0f} and {hi:.0f} cm⁻¹ in GFN2-xTB")  # fmt: skip
    fd = fd_difference(h)
    h_fd = json.loads(json.dumps(h))
    for d in h_fd["summary_seeds"].values():
        d["autograd"] = d["fd"]
    for system in h_fd["systems"].values():
        for per_seed in system.values():
            for d in per_seed:
                d["autograd"] = d["fd"]
    same = [r["met"] for r in targets if r["demonstration"] == "Hessians"] + [
        r["met"] for r in per_backbone
    ] == [r["met"] for r in hessian_rows(h_fd) + backbone_rows(lr, h_fd)]
    verdicts = "the same" if same else "other"
    print(f"\nHessian lines: autograd; the finite-difference values differ by at most "
          f"{100 * fd:.1f} % (relative) and give {verdicts} verdicts")  # fmt: skip
    out = {"targets": targets, "per_backbone": per_backbone, "hessian_fd_max_relative": fd,
           "hessian_fd_same_verdicts": same,
           "soft_mode_reference_range_cm": [lo, hi],
           "sources": ["long_range.json", "hessian.json", "conformers.json",
                       "folding/state/*.json"]}  # fmt: skip
    path = Path(args.json)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
