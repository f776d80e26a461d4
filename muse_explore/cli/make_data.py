"""``muse-explore make-data SET``: GFN2-xTB reference data (needs the ``[reference]`` extra).

Sets: ``graphene`` (molecules over circumcoronene, triples complex/flake/molecule),
``contact`` (more such triples at 2.5–4.5 Å only, extra training data for the repulsive
wall and the minimum; set name ``graphene-contact``), ``scans`` (rigid E_int(d) profiles,
test only), ``periodic`` (molecule on a periodic sheet, with stress), ``peptide`` (capped
alanine hexapeptide from GFN2-xTB MD), ``peptide-lengths`` (Ac-(Ala)n-NHMe, n = 4 to 15,
from the helix, the extended and the PPII chain at 300–600 K) and ``peptide-segments``
(Ac-(Ala)n-NHMe, every n = 4 to 15, chains of helical, PPII and extended segments, briefly
relaxed with GFN2-xTB; no model in the loop) and ``peptide-faults`` (such chains with one
hydrogen turned into a contact or a folded bond angle, GFN2-xTB single points: the wall that
the folding runs' models lacked) and ``peptide-ramachandran`` (such chains with one or two
residues at a (φ, ψ) drawn over the whole Ramachandran map, GFN2-xTB single points) and
``peptide-minima`` (chains of two or three segments, n = 6 to 15, relaxed with GFN2-xTB to
0.05 eV/Å: the last stretch of relaxation that ``peptide-segments`` stops short of) and
``peptide-pure`` (chains all in one conformation at n = 5, 7, 9, 11, 13, 14, none of the
conformer benchmark's lengths, relaxed the same way) and ``peptide-c7`` (chains of γ turns,
C7eq, alone or beside an extended segment, at the same lengths, relaxed the same way).

Thermal sets (triples around GFN2-xTB minima, whose Hessians are cached in
``sample_data/data/minima/``): ``thermal`` (relaxed circumcoronene and molecules displaced by
classical normal-mode sampling at 300–600 K, heights to 25 Å), ``thermal-contact`` (the same
at 2.5–4.5 Å), ``thermal-coronene`` (the thermal set on the smaller coronene, C24H12, so
that training sees more than one flake size), ``thermal-ribbon`` (the thermal set on an
elongated C68H24 flake, 21.6 × 9.3 Å: flake atoms up to 11 Å from the molecule along its
long axis), ``curvature`` (benzene, pyridine and water
relaxed on the flake, displaced along their normal modes at 50–400 K), ``transfer`` (the
thermal set on the larger C96H24 flake, test only), ``rattled`` (thermal configurations
with a 0.05 Å rattle on top, test only) and ``thermal-rattled`` (another draw of the same
kind, with its own seed, as training data). Runs are seeded and checkpointed: run the same
command again to resume.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

DEFAULTS = {
    "graphene": {"n": 2000, "seed": 0, "out": "sample_data/data/graphene.extxyz.xz"},
    "contact": {"n": 1200, "seed": 10, "out": "sample_data/data/graphene_contact.extxyz.xz"},
    "scans": {"n": 2, "seed": 1, "out": "sample_data/data/graphene_scans.extxyz.xz"},
    "periodic": {"n": 300, "seed": 2, "out": "sample_data/data/periodic.extxyz.xz"},
    "peptide": {"n": 6, "seed": 3, "out": "sample_data/data/peptide.extxyz.xz"},
    "peptide-lengths": {
        "n": 18,
        "seed": 4,
        "out": "sample_data/data/peptide_lengths.extxyz.xz",
    },
    "peptide-segments": {
        "n": 360,
        "seed": 5,
        "out": "sample_data/data/peptide_segments.extxyz.xz",
    },
    "peptide-faults": {
        "n": 300,
        "seed": 6,
        "out": "sample_data/data/peptide_faults.extxyz.xz",
    },
    "peptide-ramachandran": {
        "n": 300,
        "seed": 7,
        "out": "sample_data/data/peptide_ramachandran.extxyz.xz",
    },
    "peptide-minima": {
        "n": 120,
        "seed": 8,
        "out": "sample_data/data/peptide_minima.extxyz.xz",
    },
    "peptide-pure": {
        "n": 36,
        "seed": 9,
        "out": "sample_data/data/peptide_pure.extxyz.xz",
    },
    "peptide-c7": {
        "n": 36,
        "seed": 11,
        "out": "sample_data/data/peptide_c7.extxyz.xz",
    },
    "thermal": {"n": 2000, "seed": 20, "out": "sample_data/data/graphene_thermal.extxyz.xz"},
    "thermal-contact": {
        "n": 600,
        "seed": 21,
        "out": "sample_data/data/graphene_thermal_contact.extxyz.xz",
    },
    "thermal-coronene": {
        "n": 1000,
        "seed": 25,
        "out": "sample_data/data/graphene_thermal_coronene.extxyz.xz",
    },
    "thermal-ribbon": {
        "n": 600,
        "seed": 27,
        "out": "sample_data/data/graphene_thermal_ribbon.extxyz.xz",
    },
    "curvature": {"n": 400, "seed": 22, "out": "sample_data/data/graphene_curvature.extxyz.xz"},
    "transfer": {"n": 200, "seed": 23, "out": "sample_data/data/graphene_transfer.extxyz.xz"},
    "rattled": {"n": 100, "seed": 24, "out": "sample_data/data/graphene_rattled.extxyz.xz"},
    "thermal-rattled": {
        "n": 300,
        "seed": 26,
        "out": "sample_data/data/graphene_thermal_rattled.extxyz.xz",
    },
}
#: Where the GFN2-xTB minima and Hessians of the thermal sets are cached.
MINIMA = "sample_data/data/minima"
#: The sets drawn by thermal normal-mode sampling around GFN2-xTB minima.
THERMAL_SETS = (
    "thermal",
    "thermal-contact",
    "thermal-coronene",
    "thermal-ribbon",
    "curvature",
    "transfer",
    "rattled",
    "thermal-rattled",
)


def _positive(text: str) -> int:
    import argparse

    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative(text: str) -> int:
    import argparse

    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
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
        help="configurations (graphene, contact, periodic and the thermal sets), "
        "orientations per molecule (scans), "
        "MD runs (peptide, peptide-lengths), draws (peptide-segments, peptide-faults, "
        "peptide-ramachandran, peptide-minima, peptide-pure, peptide-c7); default: "
        + ", ".join(f"{k} {v['n']}" for k, v in DEFAULTS.items()),
    )
    p.add_argument(
        "--seed", type=_non_negative, default=None, help="random seed, 0 or more (default per set)"
    )
    p.add_argument(
        "--out",
        default=None,
        help="output extxyz file, .extxyz or .xyz, compressed by a .xz, .gz or .bz2 ending "
        "(default sample_data/data/)",
    )
    p.add_argument("--chunk", type=_positive, default=20, help="jobs per checkpoint")
    p.add_argument(
        "--jobs",
        type=_positive,
        default=1,
        help="worker processes labelling checkpoints at once (default 1); they die with this "
        "process; OMP_NUM_THREADS applies to each (unset: the cores shared out among them)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--minima", default=MINIMA, help=f"cache of GFN2-xTB minima (default {MINIMA})")


def _relaxed_molecules(names) -> dict:
    from muse_explore.reference.molecules import small_molecule
    from muse_explore.reference.xtb import relax

    return {name: relax(small_molecule(name)) for name in names}


class _Minima:
    """GFN2-xTB minima by name, read (or computed) once and kept; picklable for ``--jobs``.

    The workers get the minima read so far with every chunk, so the parent reads them all
    before the workers start.
    """

    def __init__(self, folder):
        self.folder = folder
        self._cache: dict = {}

    def __call__(self, name: str):
        from muse_explore.reference.minima import minimum

        if name not in self._cache:
            self._cache[name] = minimum(name, folder=self.folder)
        return self._cache[name]


def _thermal_jobs(name: str, n: int, seed: int, minima_folder):
    from muse_explore.reference import graphene_set as gs

    minima = _Minima(minima_folder)
    if name == "curvature":
        specs = gs.curvature_specs(n, seed=seed)
        for spec in specs:  # read (or compute) each minimum here once, not in every worker
            minima(spec["flake"]), minima(f"{spec['molecule']}/{spec['flake']}")
        return specs, partial(gs.build_curvature_triple, minima=minima), False
    kw = {
        "thermal": {},
        "thermal-contact": {"bands": gs.CONTACT_BANDS, "set_name": "graphene-thermal-contact"},
        "thermal-coronene": {"flake": "coronene", "set_name": "graphene-thermal-coronene"},
        "thermal-ribbon": {"flake": "C68H24", "set_name": "graphene-thermal-ribbon"},
        "transfer": {"flake": "C96H24", "set_name": "graphene-transfer"},
        "rattled": {"rattle": 0.05, "set_name": "graphene-rattled"},
        "thermal-rattled": {"rattle": 0.05, "set_name": "graphene-thermal-rattled"},
    }[name]
    specs = gs.thermal_specs(n, minima, seed=seed, **kw)
    return specs, partial(gs.build_thermal_triple, minima=minima), False


def jobs(name: str, n: int, seed: int, minima_folder=MINIMA):
    """The job specifications and the builder of one data set (no reference calls yet).

    The thermal sets (:data:`THERMAL_SETS`) need GFN2-xTB minima: they are read from
    ``minima_folder``, or computed (minutes) and cached there.
    """
    from muse_explore.reference import graphene_set, periodic_set
    from muse_explore.reference.structures import graphene_flake

    if name in THERMAL_SETS:
        return _thermal_jobs(name, n, seed, minima_folder)
    if name == "peptide-faults":
        from muse_explore.reference.peptide_faults import build_fault_frames, fault_specs

        return fault_specs(n, seed=seed), build_fault_frames, False
    if name == "peptide-ramachandran":
        from muse_explore.reference.peptide_ramachandran import (
            build_ramachandran_frames,
            ramachandran_specs,
        )

        return ramachandran_specs(n, seed=seed), build_ramachandran_frames, False
    if name in ("graphene", "contact"):
        kw = {}
        if name == "contact":
            kw = {"bands": graphene_set.CONTACT_BANDS, "set_name": "graphene-contact"}
        specs = graphene_set.sample_specs(n, seed=seed, **kw)
        mols = _relaxed_molecules({s["molecule"] for s in specs})
        flake = graphene_flake(2)
        return specs, partial(graphene_set.build_triple, flake=flake, molecules=mols), False
    if name == "scans":
        specs = graphene_set.scan_specs(seed=seed, orientations=n)
        mols = _relaxed_molecules({s["molecule"] for s in specs})
        flake = graphene_flake(2)
        return specs, partial(graphene_set.build_scan, flake=flake, molecules=mols), False
    if name == "periodic":
        specs = periodic_set.sample_specs(n, seed=seed)
        mols = _relaxed_molecules({s["molecule"] for s in specs})
        return specs, partial(periodic_set.build_periodic, molecules=mols), True
    raise ValueError(f"unknown data set {name!r}")


def run(args) -> int:
    """Generate (or resume) one data set; returns the exit status."""
    from muse_explore.errors import MuSEInputError
    from muse_explore.reference.generate import EXTXYZ_NAMES, generate, summary_path

    d = DEFAULTS[args.set]
    n = args.n if args.n is not None else d["n"]
    seed = args.seed if args.seed is not None else d["seed"]
    out = Path(args.out or d["out"])
    if not out.name.lower().endswith(EXTXYZ_NAMES):
        raise MuSEInputError(
            f"--out {out}: give an extxyz file name (.extxyz or .xyz, optionally .xz, .gz or "
            ".bz2 after it)"
        )
    if args.set in ("peptide", "peptide-lengths"):
        from muse_explore.reference.peptide_set import generate_peptide_set

        generate_peptide_set(
            out, runs=n, seed=seed, lengths=args.set == "peptide-lengths",
            progress=not args.quiet, jobs=args.jobs,
        )  # fmt: skip
    elif args.set == "peptide-segments":
        from muse_explore.reference.peptide_segments import generate_segment_set

        generate_segment_set(out, n=n, seed=seed, progress=not args.quiet, jobs=args.jobs)
    elif args.set == "peptide-minima":
        from muse_explore.reference.peptide_minima import generate_minima_set

        generate_minima_set(out, n=n, seed=seed, progress=not args.quiet, jobs=args.jobs)
    elif args.set == "peptide-pure":
        from muse_explore.reference.peptide_pure import generate_pure_set

        generate_pure_set(out, n=n, seed=seed, progress=not args.quiet, jobs=args.jobs)
    elif args.set == "peptide-c7":
        from muse_explore.reference.peptide_c7 import generate_c7_set

        generate_c7_set(out, n=n, seed=seed, progress=not args.quiet, jobs=args.jobs)
    else:
        specs, build, stress = jobs(args.set, n, seed, args.minima)
        meta = {
            "set": args.set,
            "n": n,
            "seed": seed,
            "command": f"muse-explore make-data {args.set} --n {n} --seed {seed}",
        }
        generate(
            specs, build, out, chunk=args.chunk, stress=stress, meta=meta,
            progress=not args.quiet, jobs=args.jobs,
        )  # fmt: skip
    if out != Path(d["out"]):
        _record_out(summary_path(out), out)
    print(
        f"wrote {out} ({summary_path(out).name} has the counts and timings); "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    return 0


def _record_out(summary: Path, out: Path) -> None:
    """Add ``--out OUT`` to the command a summary records, so that it reruns into ``out``.

    Without it the command would write the set's default file.
    """
    import json

    from muse_explore.atomic import atomic_open

    data = json.loads(summary.read_text())
    if "--out" not in data.get("command", "--out"):
        data["command"] += f" --out {out}"
        with atomic_open(summary) as fh:
            fh.write(json.dumps(data, indent=2) + "\n")
