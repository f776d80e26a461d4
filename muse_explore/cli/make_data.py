"""``muse-explore make-data SET``: GFN2-xTB reference data (needs the ``[reference]`` extra).

Sets: ``graphene`` (molecules over circumcoronene, triples complex/flake/molecule),
``contact`` (more such triples at 2.5–4.5 Å only, extra training data for the repulsive
wall and the minimum; set name ``graphene-contact``), ``scans`` (rigid E_int(d) profiles,
test only), ``periodic`` (molecule on a periodic sheet, with stress) and ``peptide``
(capped alanine peptide from GFN2-xTB MD). Runs are seeded and checkpointed: run the same
command again to resume.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULTS = {
    "graphene": {"n": 2000, "seed": 0, "out": "sample_data/data/graphene.extxyz.xz"},
    "contact": {"n": 1200, "seed": 10, "out": "sample_data/data/graphene_contact.extxyz.xz"},
    "scans": {"n": 2, "seed": 1, "out": "sample_data/data/graphene_scans.extxyz.xz"},
    "periodic": {"n": 300, "seed": 2, "out": "sample_data/data/periodic.extxyz.xz"},
    "peptide": {"n": 6, "seed": 3, "out": "sample_data/data/peptide.extxyz.xz"},
}


def _positive(text: str) -> int:
    import argparse

    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_parser(sub) -> None:
    """Register the ``make-data`` subcommand."""
    p = sub.add_parser(
        "make-data",
        help="generate GFN2-xTB reference data (seeded, resumable)",
        description=__doc__,
    )
    p.add_argument("set", choices=sorted(DEFAULTS), help="which data set")
    p.add_argument(
        "--n",
        type=_positive,
        default=None,
        help="configurations (graphene, contact, periodic), orientations per molecule (scans), "
        "MD runs (peptide); default: " + ", ".join(f"{k} {v['n']}" for k, v in DEFAULTS.items()),
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (default per set)")
    p.add_argument("--out", default=None, help="output extxyz file (default sample_data/data/)")
    p.add_argument("--chunk", type=_positive, default=20, help="jobs per checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _relaxed_molecules(names) -> dict:
    from muse_explore.reference.molecules import small_molecule
    from muse_explore.reference.xtb import relax

    return {name: relax(small_molecule(name)) for name in names}


def jobs(name: str, n: int, seed: int):
    """The job specifications and the builder of one data set (no reference calls yet)."""
    from muse_explore.reference import graphene_set, periodic_set
    from muse_explore.reference.structures import graphene_flake

    if name in ("graphene", "contact"):
        kw = {}
        if name == "contact":
            kw = {"bands": graphene_set.CONTACT_BANDS, "set_name": "graphene-contact"}
        specs = graphene_set.sample_specs(n, seed=seed, **kw)
        mols = _relaxed_molecules({s["molecule"] for s in specs})
        flake = graphene_flake(2)
        return specs, lambda spec: graphene_set.build_triple(spec, flake, mols), False
    if name == "scans":
        specs = graphene_set.scan_specs(seed=seed, orientations=n)
        mols = _relaxed_molecules({s["molecule"] for s in specs})
        flake = graphene_flake(2)
        return specs, lambda spec: graphene_set.build_scan(spec, flake, mols), False
    if name == "periodic":
        specs = periodic_set.sample_specs(n, seed=seed)
        mols = _relaxed_molecules({s["molecule"] for s in specs})
        return specs, lambda spec: periodic_set.build_periodic(spec, mols), True
    raise ValueError(f"unknown data set {name!r}")


def run(args) -> int:
    """Generate (or resume) one data set; returns the exit status."""
    from muse_explore.reference.generate import generate, summary_path

    d = DEFAULTS[args.set]
    n = args.n if args.n is not None else d["n"]
    seed = args.seed if args.seed is not None else d["seed"]
    out = Path(args.out or d["out"])
    if args.set == "peptide":
        from muse_explore.reference.peptide_set import generate_peptide_set

        generate_peptide_set(out, runs=n, seed=seed, progress=not args.quiet)
    else:
        specs, build, stress = jobs(args.set, n, seed)
        meta = {
            "set": args.set,
            "n": n,
            "seed": seed,
            "command": f"muse-explore make-data {args.set} --n {n} --seed {seed}",
        }
        generate(
            specs, build, out, chunk=args.chunk, stress=stress, meta=meta, progress=not args.quiet
        )
    print(
        f"wrote {out} ({summary_path(out).name} has the counts and timings); "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    return 0
