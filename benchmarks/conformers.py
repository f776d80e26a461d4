"""Helix against extended chain: conformational energies of Ac-(Ala)n-NHMe against GFN2-xTB.

    OMP_NUM_THREADS=1 python benchmarks/conformers.py            # references: hours, cached
    OMP_NUM_THREADS=1 python benchmarks/conformers.py --quick    # n = 4 and 6, loose relaxation
    python benchmarks/conformers.py --models MuSE=runs/protocol/muse-painn-peptide/best_model.pt \
        --out /tmp/conformers.json                                # a run, the results kept apart

For n = 4, 6, 8, 10, 12 and 15 residues, the α helix, the polyproline II chain, the chain of
γ turns (C7eq at every residue, the 2.2₇ ribbon that the folding runs walk into) and the
extended β strand (``muse_explore.reference.peptide.alanine_peptide``) are briefly relaxed
with GFN2-xTB (BFGS to 0.05 eV/Å, at most 300 steps: they stay in their basins), and every
model is evaluated at those geometries. Reported per n: ΔE(helix − extended), ΔE(PPII −
extended) and ΔE(C7 − extended) of GFN2-xTB and of each model, the model's error, and the
slope of the error against n (meV per residue, a least-squares line), and whether the model
orders the extended, helix and PPII chains as GFN2-xTB does (the conformer ranking). The helix
macrodipole grows with n, so a model that misses long-range interactions should miss the
helix's stabilisation more and more with n. For a multiscale model it also prints each
gap (helix, PPII and C7 against extended) split by scale (atoms, level 1, level 2) and its
number of coarse nodes per level at each n: where its error comes from, and whether each
scale's share is as smooth in n as the reference's gap.

Why a model misses: its fit. For the same models it also prints the error of the total energy
on the peptide protocol's training-only sets (``peptide-lengths``: MD of n = 4…15;
``peptide-segments``: relaxed chains of mixed helix and extended segments), per chain length:
the mean error (an offset that every conformation of that length shares, which cancels in a
conformational energy) and the standard deviation about it (which does not: a difference of
two structures of one length carries about √2 times it). These are structures the models
were trained on, so the spread is a floor under the conformer errors above, not a test
result (``--no-fit`` skips this part).

What the benchmark adds to that fit: the last stretch of relaxation. ``peptide-segments``
stops after 16 BFGS steps and holds all-helix, all-PPII and all-extended chains among its
mixed ones; the benchmark's chains are relaxed to convergence. Per n and conformation the
script prints GFN2-xTB's energy drop from those training chains to the benchmark's minimum,
each model's error on it, and each model's error of ΔE(helix − extended) and ΔE(PPII −
extended) on the training chains themselves (``relaxation`` in the JSON; also skipped by
``--no-fit``): a model's helix error on the benchmark is the last plus its error on the
helix's drop minus the strand's, and likewise for PPII.
The same drop on mixed chains (two or three segments) comes from ``peptide-minima``, from
its structures after 32 BFGS steps to their minima (``relaxation.mixed``): training data for
the models trained on that set, unseen by the others. Over all those chains it also prints the
share of GFN2-xTB's drop each model predicts and its miss per residue in each basin of the
Ramachandran map at the minimum (strand, helix, PPII, other; a least-squares fit of the
chains' errors on their residue counts and a constant per chain): whether a model
under-predicts the relaxation as a whole and which residues carry it. The same again on
``peptide-pure`` (chains all in one conformation at n = 5, 7, 9, 11, 13 and 14, none of the
benchmark's lengths) when that file exists (``relaxation.pure``), and on those chains, at their
minima, the benchmark's own quantities: ΔE(helix − extended) and ΔE(PPII − extended) per n,
each model's error and its growth with n (``relaxation.pure.gaps``). A model that misses
them there misses a gap it was trained on: a fit gap, not a lack of reach.

GFN2-xTB geometries and energies are cached in benchmarks/conformers_reference.json (written
atomically after every structure: a killed run resumes; --recompute redoes them). Writes
benchmarks/conformers.json and benchmarks/conformers.png.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _models import DATA, calculator, parse_models, pm, provenance, seed_models

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / "conformers_reference.json"
LENGTHS = (4, 6, 8, 10, 12, 15)
CONFORMATIONS = ("extended", "helix", "ppii", "c7")
#: The conformations compared with the extended strand, and their names in tables and plots.
COMPARED = {"helix": "helix", "ppii": "PPII", "c7": "C7"}
MODELS = {"MuSE": "muse-painn-peptide", "baseline": "painn-peptide", "LES": "painn-lr-peptide"}


def _save(cache: Path, data: dict) -> None:
    from muse_explore.atomic import atomic_open

    with atomic_open(cache) as fh:
        json.dump(data, fh)


def references(lengths, *, fmax: float, steps: int, cache: Path, recompute: bool) -> dict:
    """GFN2-xTB relaxed geometries and energies by "n/conformation" (cached)."""
    from muse_explore.reference.peptide import alanine_peptide
    from muse_explore.reference.xtb import gfn2_calculator, relax

    data = json.loads(cache.read_text()) if cache.is_file() and not recompute else {}
    for n in lengths:
        for conf in CONFORMATIONS:
            key = f"{n}/{conf}"
            if key in data and data[key]["fmax"] <= fmax:
                continue
            t0 = time.perf_counter()
            atoms = relax(alanine_peptide(n, conformation=conf), fmax=fmax, steps=steps)
            atoms.calc = gfn2_calculator()
            energy = float(atoms.get_potential_energy())
            residual = float(np.abs(atoms.get_forces()).max())
            data[key] = {
                "numbers": atoms.numbers.tolist(),
                "positions": atoms.positions.tolist(),
                "energy": energy,
                "fmax": fmax,
                "max_force": residual,
                "seconds": round(time.perf_counter() - t0, 1),
            }
            _save(cache, data)
            print(f"  GFN2-xTB {key}: {len(atoms)} atoms, {data[key]['seconds']:.0f} s, "
                  f"max force {residual:.3f} eV/Å", flush=True)  # fmt: skip
    return data


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="n = 4 and 6, relaxation to 0.2 eV/Å")
    p.add_argument("--recompute", action="store_true", help="redo the GFN2-xTB references")
    p.add_argument("--models", nargs="+", default=None,
                   help=f"labels from {list(MODELS)} or LABEL=NAME_OR_PATH")  # fmt: skip
    p.add_argument("--no-fit", action="store_true",
                   help="skip the per-length energy errors on the training-only sets")  # fmt: skip
    p.add_argument(
        "--out",
        default=None,
        help="results JSON, the plot beside it (default benchmarks/conformers.json)",
    )
    args = p.parse_args()
    from ase import Atoms

    lengths = (4, 6) if args.quick else LENGTHS
    fmax = 0.2 if args.quick else 0.05
    cache = CACHE.with_name("conformers_reference_quick.json") if args.quick else CACHE
    t0 = time.perf_counter()
    ref = references(lengths, fmax=fmax, steps=300, cache=cache, recompute=args.recompute)
    # label -> one model per training seed
    models = {k: seed_models(v) for k, v in parse_models(args.models, MODELS).items()}
    calcs = {label: [calculator(v) for v in specs] for label, specs in models.items()}
    result = {
        "models": models,
        "provenance": provenance(models),
        "fmax": fmax,
        "lengths": list(lengths),
        "rows": [],
    }
    for n in lengths:
        energies = {"GFN2-xTB": [{}]}
        scales = {}  # label -> per seed: conformation -> energy of each scale (eV)
        for conf in CONFORMATIONS:
            r = ref[f"{n}/{conf}"]
            atoms = Atoms(numbers=r["numbers"], positions=r["positions"])
            energies["GFN2-xTB"][0][conf] = r["energy"]
            for label, seeds in calcs.items():
                per_seed = energies.setdefault(label, [{} for _ in seeds])
                per_scale = scales.setdefault(label, [{} for _ in seeds])
                for e, sc, calc in zip(per_seed, per_scale, seeds, strict=True):
                    work = atoms.copy()
                    work.calc = calc
                    e[conf] = float(work.get_potential_energy())
                    sc[conf] = np.asarray(calc.results["scale_energies"], dtype=float)
                    sc[f"{conf}:nodes"] = [len(e) for e in calc.results["node_energies"][1:]]
        row = {"n": n}
        for label, per_seed in energies.items():
            for conf in COMPARED:
                de = [1000 * (e[conf] - e["extended"]) for e in per_seed]  # meV
                row[f"{label}:{conf}"] = float(np.mean(de))
                row[f"{label}:{conf}:seeds"] = de
                if label in scales and len(scales[label][0][conf]) > 1:  # a multiscale model
                    row[f"{label}:{conf}:scales"] = [
                        (1000 * (sc[conf] - sc["extended"])).tolist() for sc in scales[label]
                    ]  # per seed: ΔE of each scale, atoms first (meV)
                    row[f"{label}:nodes"] = scales[label][0][f"{conf}:nodes"]  # per level
        result["rows"].append(row)
    summary = {label: _summary(result["rows"], label, len(seeds)) for label, seeds in calcs.items()}
    result["summary"] = summary
    print("ΔE(conformation − extended), meV; GFN2-xTB and each model's error "
          "(mean ± sd over its training seeds)")  # fmt: skip
    head = "| n | " + " | ".join(f"GFN2-xTB {name}" for name in COMPARED.values()) + " | "
    head += " | ".join(f"{k} {name} err" for k in calcs for name in COMPARED.values())
    print(head + " |")
    print("|---:|" + "---:|" * (len(COMPARED) * (1 + len(calcs))))
    for r in result["rows"]:
        cells = [f"{r[f'GFN2-xTB:{conf}']:.0f}" for conf in COMPARED]
        for k in calcs:
            for conf in COMPARED:
                err = np.array(r[f"{k}:{conf}:seeds"]) - r[f"GFN2-xTB:{conf}"]
                cells.append(pm(err, "+.0f"))
        print(f"| {r['n']} | " + " | ".join(cells) + " |")
    for k, s in summary.items():
        parts = [f"{name} max |error| {pm(s[conf]['max_abs_error_meV'], '.0f')} meV, growth "
                 f"{pm(s[conf]['slope_meV_per_residue'], '+.1f')} meV/residue"
                 for conf, name in COMPARED.items()]  # fmt: skip
        print(f"{k} ({s['seeds']} seed(s)): " + "; ".join(parts) + "; conformer ranking "
              f"(extended, helix, PPII) right at {'/'.join(map(str, s['ranking_correct']))} of "
              f"{len(lengths)} lengths")  # fmt: skip
    _print_scales(result["rows"], list(calcs))
    if not (args.quick or args.no_fit):
        result["fit"] = fit_floor(models)
        _print_fit(result["fit"])
        result["relaxation"] = relaxation_gap(models, ref, lengths)
        result["relaxation"]["mixed"] = mixed_chain_drop(models)
        if (DATA / PURE_SET).exists():
            result["relaxation"]["pure"] = mixed_chain_drop(models, PURE_SET)
        _print_relaxation(result["relaxation"])
    from muse_explore.atomic import atomic_open

    name = "conformers_quick" if args.quick else "conformers"
    out = Path(args.out) if args.out else ROOT / f"{name}.json"
    with atomic_open(out) as fh:
        fh.write(json.dumps(result, indent=1) + "\n")
    _plot(result, list(calcs), out.with_suffix(".png"))
    print(f"wrote {out} and its .png in {time.perf_counter() - t0:.0f} s")


FIT_SETS = {
    "peptide-lengths": "peptide_lengths.extxyz.xz",
    "peptide-segments": "peptide_segments.extxyz.xz",
}


def fit_floor(models: dict[str, list[str]]) -> dict:
    """Per model, set, seed and chain length: mean and sd of the total-energy error (meV)."""
    from _models import model_file

    import muse_explore as mx
    from muse_explore.calc.evaluate import evaluate_batches
    from muse_explore.training.dataset import read_structures

    data_dir = DATA
    sets = {}  # name -> (structures, reference energies, chain lengths), each read once
    for name, file in FIT_SETS.items():
        structures = read_structures([data_dir / file])
        ref = np.array([a.get_potential_energy() for a in structures])
        sets[name] = (structures, ref, np.array([int(a.info["n_residues"]) for a in structures]))
    out: dict = {}
    for name, (_, _, n_res) in sets.items():
        lengths = sorted(set(n_res.tolist()))
        out[name] = {"lengths": lengths, "structures": [int((n_res == n).sum()) for n in lengths]}
    for label, specs in models.items():
        loaded = [mx.load_model(model_file(spec)) for spec in specs]  # each model loaded once
        for name, (structures, ref, n_res) in sets.items():
            lengths = out[name]["lengths"]
            per_seed = []
            for model in loaded:
                pred = []
                for _, _, res in evaluate_batches(model, structures, batch_size=16):
                    pred += res["energy"].detach().double().tolist()
                err = 1000.0 * (np.array(pred) - ref)
                per_seed.append(
                    {
                        "mean": [float(err[n_res == n].mean()) for n in lengths],
                        "sd": [float(err[n_res == n].std(ddof=1)) for n in lengths],
                    }
                )
            out[name][label] = per_seed
    return out


def relaxation_gap(models: dict[str, list[str]], ref: dict, lengths) -> dict:
    """The last stretch of relaxation, which no training structure covers.

    ``peptide-segments`` holds every chain of one conformation (all helix, all PPII, all
    extended) after a few BFGS steps of GFN2-xTB; the benchmark's geometries are the same
    chains relaxed to convergence. Per n and conformation: GFN2-xTB's energy drop from the
    segments' most relaxed frames (mean over their chains) to the benchmark's minimum, and
    each model's error on that drop (meV, one value per training seed). A model's conformer
    error is its error on the segments' conformational energy plus the difference of these
    errors between the two conformations.
    """
    from _models import model_file
    from ase import Atoms

    import muse_explore as mx
    from muse_explore.calc.evaluate import evaluate_batches
    from muse_explore.training.dataset import read_structures

    chains = read_structures([DATA / FIT_SETS["peptide-segments"]])
    rows = []
    for n in lengths:
        for conf in CONFORMATIONS:
            mine = [a for a in chains
                    if int(a.info["n_residues"]) == n and a.info["segments"] == conf]  # fmt: skip
            if not mine:
                continue
            step = max(int(a.info["relax_step"]) for a in mine)
            mine = [a for a in mine if int(a.info["relax_step"]) == step]
            r = ref[f"{n}/{conf}"]
            trained = np.mean([a.get_potential_energy() for a in mine])
            rows.append({
                "n": n, "conformation": conf, "chains": len(mine), "relax_step": step,
                "structures": mine + [Atoms(numbers=r["numbers"], positions=r["positions"])],
                "GFN2-xTB": 1000.0 * (r["energy"] - trained),
            })  # fmt: skip
    for label, specs in models.items():
        for row in rows:
            row[label] = []
        for spec in specs:
            model = mx.load_model(model_file(spec))
            for row in rows:
                pred = []
                for _, _, res in evaluate_batches(model, row["structures"], batch_size=16):
                    pred += res["energy"].detach().double().tolist()
                drop = 1000.0 * (pred[-1] - np.mean(pred[:-1]))
                row[label].append(drop - row["GFN2-xTB"])
                ref_trained = [a.get_potential_energy() for a in row["structures"][:-1]]
                row.setdefault(f"{label}:trained_error", []).append(
                    1000.0 * float(np.mean(np.array(pred[:-1]) - ref_trained))
                )  # the model's mean energy error on those training chains
    for row in rows:
        del row["structures"]
    return {"models": list(models), "rows": rows}


MINIMA_SET = "peptide_minima.extxyz.xz"
#: The same relaxations of chains all in one conformation, at lengths the benchmark leaves out.
PURE_SET = "peptide_pure.extxyz.xz"
#: the first structure kept along each peptide-minima relaxation (BFGS steps)
MIXED_FROM = 32
#: The basins the mixed chains' residues are counted in (:func:`residue_basins`).
BASINS = ("strand", "helix", "ppii", "other")
#: A basin with fewer residues over a set's chains stays in the fit but its miss is not shown.
MIN_BASIN_RESIDUES = 20


def mixed_chain_drop(models: dict[str, list[str]], set_file: str = MINIMA_SET) -> dict:
    """The last stretch of relaxation on ``set_file``'s chains, per chain length.

    That is ``peptide-minima`` (two or three segments in different basins) by default, or
    ``peptide-pure`` (:data:`PURE_SET`, one basin). Each of the set's chains is kept after
    :data:`MIXED_FROM` BFGS steps and at its GFN2-xTB minimum. Per n: GFN2-xTB's energy drop
    between the two (mean over the chains) and each model's error on it (mean over the chains,
    one value per training seed). A model trained on that set is tested on its own training
    structures here: a fit, not a test.
    """
    from _models import model_file

    import muse_explore as mx
    from muse_explore.analysis import residue_basins
    from muse_explore.calc.evaluate import evaluate_batches
    from muse_explore.training.dataset import read_structures

    chains: dict = {}
    for a in read_structures([DATA / set_file]):
        chains.setdefault(int(a.info["config"]), []).append(a)
    pairs = []  # (n, structure after MIXED_FROM steps, the minimum)
    for frames in chains.values():
        start = [a for a in frames if int(a.info["relax_step"]) == MIXED_FROM]
        end = max(frames, key=lambda a: int(a.info["relax_step"]))
        if start and end is not start[0] and bool(end.info["converged"]):
            pairs.append((int(end.info["n_residues"]), start[0], end))
    lengths = sorted({n for n, _, _ in pairs})
    n_of = np.array([n for n, _, _ in pairs])
    ref = 1000.0 * np.array([b.get_potential_energy() - a.get_potential_energy()
                             for _, a, b in pairs])  # fmt: skip
    out = {"from_step": MIXED_FROM, "lengths": lengths,
           "chains": [int((n_of == n).sum()) for n in lengths],
           "GFN2-xTB": [float(ref[n_of == n].mean()) for n in lengths]}  # fmt: skip
    # residues per basin at the minimum: the chain's drop is regressed on these counts
    counts = np.array([[basins.count(b) for b in BASINS]
                       for basins in (residue_basins(b) for _, _, b in pairs)], float)  # fmt: skip
    out["basin_residues"] = dict(zip(BASINS, counts.sum(axis=0).astype(int).tolist(), strict=True))
    out["share"], out["per_residue_miss"] = {}, {}
    flat = [s for _, a, b in pairs for s in (a, b)]
    conf = np.array([str(b.info.get("segments", "")) for _, _, b in pairs])
    pure = set(conf) == {"extended", *COMPARED_PURE}
    if pure:  # chains in one conformation: their conformational gaps at the minima too
        minima = np.array([b.get_potential_energy() for _, _, b in pairs])
        out["gaps"] = {"lengths": lengths, "GFN2-xTB": pure_gaps(n_of, conf, minima, lengths)}
    for label, specs in models.items():
        out[label], out["share"][label], out["per_residue_miss"][label] = [], [], []
        for spec in specs:
            model = mx.load_model(model_file(spec))
            pred = []
            for _, _, res in evaluate_batches(model, flat, batch_size=16):
                pred += res["energy"].detach().double().tolist()
            err = 1000.0 * (np.array(pred[1::2]) - np.array(pred[0::2])) - ref
            out[label].append([float(err[n_of == n].mean()) for n in lengths])
            # the share of the drop it predicts: least squares through the origin, all chains
            out["share"][label].append(float(((ref + err) @ ref) / (ref @ ref)))
            # per residue of each basin, plus a constant per chain (the caps' share, say)
            design = np.column_stack([counts, np.ones(len(counts))])
            miss, *_ = np.linalg.lstsq(design, err, rcond=None)
            keys = (*BASINS, "per chain")
            out["per_residue_miss"][label].append(dict(zip(keys, miss.tolist(), strict=True)))
            if pure:
                gaps = pure_gaps(n_of, conf, np.array(pred[1::2]), lengths)
                out["gaps"].setdefault(label, []).append(gaps)
    return out


#: The conformations of ``peptide-pure`` besides the extended strand.
COMPARED_PURE = ("helix", "ppii")


def pure_gaps(n_of, conf, energies, lengths) -> dict:
    """ΔE(helix − extended) and ΔE(PPII − extended) of chains in one conformation, meV.

    Per chain length in ``lengths``: the mean energy (eV) of that length's chains in each
    conformation (``conf``, one per chain, and ``n_of``, its length) minus that of its
    extended chains; ``None`` where a length lacks either.
    """
    out = {}
    for c in COMPARED_PURE:
        row = []
        for n in lengths:
            a, b = energies[(n_of == n) & (conf == c)], energies[(n_of == n) & (conf == "extended")]
            row.append(float(1000.0 * (a.mean() - b.mean())) if len(a) and len(b) else None)
        out[c] = row
    return out


def gap_errors(gaps: dict, label: str) -> dict:
    """Per conformation: each seed's error of ``label``'s gaps per length and its growth.

    From :func:`pure_gaps` results (``gaps["GFN2-xTB"]`` and one per seed of ``label``):
    ``errors`` (per seed, per length, meV) and ``slope`` (per seed, a least-squares line
    through the lengths that have both, meV per residue).
    """
    ref, lengths = gaps["GFN2-xTB"], gaps["lengths"]
    out = {}
    for c in COMPARED_PURE:
        errs, slopes = [], []
        for seed in gaps[label]:
            e = [None if m is None or r is None else m - r
                 for m, r in zip(seed[c], ref[c], strict=True)]  # fmt: skip
            ok = [k for k, x in enumerate(e) if x is not None]
            errs.append(e)
            fit = len(ok) >= 2
            slopes.append(float(np.polyfit([lengths[k] for k in ok], [e[k] for k in ok], 1)[0])
                          if fit else None)  # fmt: skip
        out[c] = {"errors": errs, "slope": slopes}
    return out


def _print_relaxation(block: dict) -> None:
    labels = block["models"]
    print("the last stretch of relaxation: energy drop from peptide-segments' most relaxed "
          "chains of one conformation (training) to the benchmark's minimum, meV; GFN2-xTB "
          "and each model's error on it (mean ± sd over training seeds)")  # fmt: skip
    print("| n | conformation | chains | BFGS steps in training | GFN2-xTB | "
          + " | ".join(f"{k} error" for k in labels) + " |")  # fmt: skip
    print("|---:|---|---:|---:|---:|" + "---:|" * len(labels))
    for r in block["rows"]:
        cells = " | ".join(pm(r[k], "+.0f") for k in labels)
        print(f"| {r['n']} | {r['conformation']} | {r['chains']} | {r['relax_step']} | "
              f"{r['GFN2-xTB']:.0f} | {cells} |")  # fmt: skip
    print("the same chains in training: the error of ΔE(helix − extended) and ΔE(PPII − "
          "extended) between peptide-segments' most relaxed chains of one conformation, meV "
          "(mean ± sd over training seeds); the benchmark's error is this plus the "
          "conformation's error on its last stretch of relaxation minus the extended "
          "chain's")  # fmt: skip
    print("| n | " + " | ".join(f"helix: {k} error" for k in labels) + " | "
          + " | ".join(f"PPII: {k} error" for k in labels) + " |")  # fmt: skip
    print("|---:|" + "---:|" * (2 * len(labels)))
    by = {(r["n"], r["conformation"]): r for r in block["rows"]}
    for n in sorted({r["n"] for r in block["rows"]}):
        e = by.get((n, "extended"))
        cells = []
        for conf in ("helix", "ppii"):
            c = by.get((n, conf))
            for k in labels:
                cells.append(
                    "–" if c is None or e is None else
                    pm(np.subtract(c[f"{k}:trained_error"], e[f"{k}:trained_error"]), "+.0f")
                )  # fmt: skip
        print(f"| {n} | " + " | ".join(cells) + " |")
    for key, what in (("mixed", "mixed chains (peptide-minima)"),
                      ("pure", "chains in one conformation (peptide-pure)")):  # fmt: skip
        if block.get(key):
            _print_chain_drop(block[key], labels, what)


def _print_chain_drop(mixed: dict, labels: list[str], what: str) -> None:
    if mixed:
        print(f"{what}: energy drop from {mixed['from_step']} BFGS steps "
              "to the GFN2-xTB minimum, meV, mean over the chains; GFN2-xTB and each model's "
              "error on it (mean ± sd over training seeds; training data for a model trained "
              "on that set)")  # fmt: skip
        print("| n | chains | GFN2-xTB | " + " | ".join(f"{k} error" for k in labels) + " |")
        print("|---:|---:|---:|" + "---:|" * len(labels))
        for i, n in enumerate(mixed["lengths"]):
            cells = " | ".join(pm([seed[i] for seed in mixed[k]], "+.0f") for k in labels)
            print(f"| {n} | {mixed['chains'][i]} | {mixed['GFN2-xTB'][i]:.0f} | {cells} |")
        if "share" in mixed:
            counts = mixed["basin_residues"]
            print("the same chains, all lengths: the share of GFN2-xTB's drop each model "
                  "predicts (least squares through the origin) and its miss per residue in "
                  "each basin at the minimum, with a constant per chain (least squares of the "
                  "error on the chain's residue counts; residues: "
                  + ", ".join(f"{b} {counts[b]}" for b in BASINS) + "), meV, mean ± sd over "
                  f"training seeds; – where a basin holds fewer than {MIN_BASIN_RESIDUES} "
                  "residues: fitted, too few to estimate")  # fmt: skip
            keys = (*BASINS, "per chain")
            print("| model | share of the drop | " + " | ".join(keys) + " |")
            print("|---|---:|" + "---:|" * len(keys))
            for k in labels:
                miss = [[seed[b] for seed in mixed["per_residue_miss"][k]] for b in keys]
                print(f"| {k} | {pm(mixed['share'][k], '.2f')} | " + " | ".join(
                    "–" if counts.get(b, MIN_BASIN_RESIDUES) < MIN_BASIN_RESIDUES else pm(m, "+.1f")
                    for b, m in zip(keys, miss, strict=True)) + " |")  # fmt: skip
        if "gaps" in mixed:
            _print_pure_gaps(mixed["gaps"], labels)


def _print_pure_gaps(gaps: dict, labels: list[str]) -> None:
    print("the same chains at their minima: ΔE(helix − extended) and ΔE(PPII − extended), "
          "meV, GFN2-xTB and each model's error (mean ± sd over training seeds), and the "
          "error's growth with n (meV/residue, a least-squares line): the conformer "
          "benchmark's gaps on chains the models trained on")  # fmt: skip
    errs = {k: gap_errors(gaps, k) for k in labels}
    print(
        "| n | "
        + " | ".join(f"GFN2-xTB {COMPARED[c]}" for c in COMPARED_PURE)
        + " | "
        + " | ".join(f"{k} {COMPARED[c]} err" for k in labels for c in COMPARED_PURE)
        + " |"
    )
    print("|---:|" + "---:|" * (len(COMPARED_PURE) * (1 + len(labels))))

    def cell(values, fmt):
        values = [v for v in values if v is not None]
        return pm(values, fmt) if values else "–"

    for i, n in enumerate(gaps["lengths"]):
        cells = [cell([gaps["GFN2-xTB"][c][i]], ".0f") for c in COMPARED_PURE]
        cells += [cell([s[i] for s in errs[k][c]["errors"]], "+.0f")
                  for k in labels for c in COMPARED_PURE]  # fmt: skip
        print(f"| {n} | " + " | ".join(cells) + " |")
    print(
        "| growth | "
        + " | ".join(["–"] * len(COMPARED_PURE))
        + " | "
        + " | ".join(cell(errs[k][c]["slope"], "+.1f") for k in labels for c in COMPARED_PURE)
        + " |"
    )


def _print_fit(fit: dict) -> None:
    """The fit table: per set and chain length, each model's error offset and spread (meV)."""
    for name, block in fit.items():
        labels = [k for k in block if k not in ("lengths", "structures")]
        print(f"{name} (training-only set): total-energy error per chain length, meV: "
              "mean (shared by the length's conformations) / sd about it "
              "(mean ± sd over training seeds)")  # fmt: skip
        print("| n | structures | " + " | ".join(f"{k} mean | {k} sd" for k in labels) + " |")
        print("|---:|---:|" + "---:|" * (2 * len(labels)))
        for i, n in enumerate(block["lengths"]):
            cells = []
            for k in labels:
                cells.append(pm([s["mean"][i] for s in block[k]], "+.0f"))
                cells.append(pm([s["sd"][i] for s in block[k]], ".0f"))
            print(f"| {n} | {block['structures'][i]} | " + " | ".join(cells) + " |")


def _print_scales(rows: list[dict], labels: list[str]) -> None:
    """Where a multiscale model's gap errors come from: ΔE(conformation − extended) per scale.

    The split of the energy over the scales is the model's own (nothing in training fixes
    it), so no single scale is "the" error; what the table shows is whether the coarse
    scales' share is smooth in n, as the reference's gap is, or jumps from length to length.
    """
    for label in labels:
        for conf, name in COMPARED.items():
            key = f"{label}:{conf}:scales"
            if key not in rows[0]:
                continue
            k = len(rows[0][key][0])
            names = ["atoms"] + [f"level {i}" for i in range(1, k)]
            print(f"{label}: ΔE({name} − extended) by scale, meV (mean over seeds), "
                  "against GFN2-xTB")  # fmt: skip
            print("| n | coarse nodes | GFN2-xTB | " + " | ".join(names) + " | sum − GFN2-xTB |")
            print("|---:|---:|---:|" + "---:|" * (k + 1))
            for r in rows:
                per_scale = np.mean(np.array(r[key]), axis=0)
                cells = " | ".join(f"{v:+.0f}" for v in per_scale)
                ref = r[f"GFN2-xTB:{conf}"]
                err = per_scale.sum() - ref
                nodes = "/".join(map(str, r[f"{label}:nodes"]))
                print(f"| {r['n']} | {nodes} | {ref:.0f} | {cells} | {err:+.0f} |")


def _summary(rows: list[dict], label: str, seeds: int) -> dict:
    """Per seed: largest and mean |error|, its growth with n, and the conformer ranking."""
    ns = np.array([r["n"] for r in rows], dtype=float)
    out = {"seeds": seeds, "ranking_correct": [], "ranking_wrong_at_n": []}
    for conf in COMPARED:
        err = np.array([np.array(r[f"{label}:{conf}:seeds"]) - r[f"GFN2-xTB:{conf}"] for r in rows])
        out[conf] = {  # lists over seeds
            "max_abs_error_meV": np.abs(err).max(0).tolist(),
            "mean_abs_error_meV": np.abs(err).mean(0).tolist(),
            "slope_meV_per_residue": [
                float(np.polyfit(ns, err[:, k], 1)[0]) if len(ns) > 1 else float("nan")
                for k in range(seeds)
            ],
        }
    for k in range(seeds):
        # the conformer ranking: the order of extended, helix and PPII by energy, per n
        wrong = [r["n"] for r in rows if _order(r, label, k) != _order(r, "GFN2-xTB", 0)]
        out["ranking_correct"].append(len(rows) - len(wrong))
        out["ranking_wrong_at_n"].append(wrong)
    return out


def _order(row: dict, label: str, seed: int) -> tuple[str, ...]:
    """Conformations from lowest to highest energy (extended is the zero of the row)."""
    energies = {
        "extended": 0.0,
        "helix": row[f"{label}:helix:seeds"][seed],
        "ppii": row[f"{label}:ppii:seeds"][seed],
    }
    return tuple(sorted(energies, key=energies.get))


def _plot(result, labels, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(COMPARED), figsize=(5 * len(COMPARED), 7.5), sharex=True)
    rows = result["rows"]
    ns = [r["n"] for r in rows]
    styles = {"MuSE": "C0-s", "baseline": "C3--^", "LES": "C2:v"}
    titles = {"helix": "α helix", "ppii": "PPII", "c7": "C7 (γ turns)"}
    for col, conf in enumerate(COMPARED):
        title = titles[conf]
        top, bottom = axes[0, col], axes[1, col]
        top.plot(ns, [r[f"GFN2-xTB:{conf}"] for r in rows], "k-o", label="GFN2-xTB")
        for k in labels:
            top.plot(ns, [r[f"{k}:{conf}"] for r in rows], styles.get(k, "o-"), label=k)
            err = np.array([np.array(r[f"{k}:{conf}:seeds"]) - r[f"GFN2-xTB:{conf}"] for r in rows])
            sd = err.std(1, ddof=1) if err.shape[1] > 1 else None
            bottom.errorbar(ns, err.mean(1), yerr=sd, fmt=styles.get(k, "o-"), capsize=3, label=k)
        top.set_ylabel(f"E({title}) − E(extended) (meV)")
        bottom.set_ylabel(f"model − GFN2-xTB, {title} (meV)")
        bottom.set_xlabel("residues n")
        for ax in (top, bottom):
            ax.axhline(0, color="0.7", lw=0.8)
            ax.grid(alpha=0.3)
        bottom.axhspan(-50, 50, color="0.9", zorder=0)  # the 50 meV target
        top.legend()
    fig.suptitle("Ac-(Ala)n-NHMe: conformational energies against GFN2-xTB (shaded: ±50 meV)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
