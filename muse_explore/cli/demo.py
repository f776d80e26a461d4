"""``muse-explore demo``: evaluate benzene on circumcoronene and print its per-scale energies."""

from __future__ import annotations

import sys
import time

import numpy as np

from muse_explore.errors import MuSEError


def add_parser(sub) -> None:
    """Register the ``demo`` subcommand."""
    p = sub.add_parser(
        "demo",
        help="evaluate benzene over a graphene flake and print per-scale energies",
        description=(
            "Evaluate benzene above circumcoronene (C54H18) with a MuSE-PaiNN model and with "
            "its backbone alone, and print energies per scale and the interaction energy."
        ),
    )
    p.add_argument("--height", type=float, default=3.4, help="benzene height above the flake, Å")
    p.add_argument(
        "--model",
        default=None,
        help="a pretrained model's name, a model file or a training checkpoint (default: the "
        "pretrained muse-painn-graphene)",
    )
    p.add_argument(
        "--baseline",
        default=None,
        help="a backbone-only model, in any of --model's forms (default: the pretrained "
        "painn-graphene, or the model's own atom level when --model is given)",
    )
    p.add_argument("--random", action="store_true", help="random weights instead")
    p.add_argument(
        "--levels", type=int, default=None, help="coarse levels of the random model (default 2)"
    )
    p.add_argument("--seed", type=int, default=0, help="weight seed of the random model")


def _row(label: str, values) -> str:
    # round first and add 0.0 so that a round-off residue prints as 0.0000, not -0.0000
    return f"  {label:<24}" + "".join(f"{round(float(v), 4) + 0.0:>12.4f}" for v in values)


def run(args) -> int:
    """Print the demo report; returns the exit status."""
    import muse_explore as mx
    from muse_explore.analysis import interaction_energy
    from muse_explore.explore.models import resolve_model
    from muse_explore.pretrained import list_pretrained
    from muse_explore.reference import benzene_on_graphene

    def fail(message: str) -> int:
        print(f"muse-explore demo: error: {message}", file=sys.stderr)
        return 2

    if args.levels is not None and not args.random:
        return fail("--levels sets the coarse levels of the random model: add --random")
    if args.random and args.model:
        return fail("--random and --model exclude each other: give one")
    levels = 2 if args.levels is None else args.levels
    try:
        names = set(list_pretrained())
        pretrained = {"muse-painn-graphene", "painn-graphene"} <= names
        if args.random:
            model = mx.build_model(backbone="painn", levels=levels, seed=args.seed)
            source = f"random weights (seed {args.seed})"
        elif args.model:
            model = resolve_model(args.model)
            kind = "pretrained" if args.model in names else "model file"
            source = f"{kind} {args.model}"
        elif not pretrained:
            model = mx.build_model(backbone="painn", levels=levels, seed=args.seed)
            source = f"random weights (seed {args.seed}): no pretrained models found"
        else:
            model = resolve_model("muse-painn-graphene")
            source = "pretrained muse-painn-graphene (GFN2-xTB graphene data)"
        if args.baseline:
            base = resolve_model(args.baseline)
            base_label = args.baseline if args.baseline in names else "baseline (file)"
        elif pretrained and not args.model and not args.random:
            base, base_label = resolve_model("painn-graphene"), "painn-graphene"
        else:
            base, base_label = model.backbone_only(), "backbone alone"
        atoms = benzene_on_graphene(args.height)
        n_flake = len(atoms) - 12
        calc = mx.MuSECalculator(model)
        atoms.calc = calc
        start = time.perf_counter()
        energy = atoms.get_potential_energy()
        forces = atoms.get_forces()
        elapsed = time.perf_counter() - start
    except (MuSEError, ValueError) as err:
        return fail(str(err))
    res = calc.results
    nodes = [len(atoms)] + [a.shape[1] for a in res["assignments"]]
    print(f"benzene {args.height:g} Å above circumcoronene (C54H18): {len(atoms)} atoms")
    print(f"MuSE-{model.config.backbone}, {model.levels} coarse level(s), {source}")
    print(f"device {calc.device}, float64, energy + forces in {elapsed * 1000:.0f} ms")
    print()
    print(_row("level", range(model.levels + 1)).replace(".0000", "     "))
    print(_row("nodes", nodes).replace(".0000", "     "))
    print(_row("cutoff (Å)", model.config.cutoffs))
    print(_row("energy (eV)", res["scale_energies"]))
    print(f"  {'total energy (eV)':<24}{energy:>12.4f}")
    print(f"  {'max |force| (eV/Å)':<24}{np.abs(forces).max():>12.4f}")
    print()
    far = benzene_on_graphene(12.0)
    print("interaction energy E(complex) - E(flake) - E(benzene), eV:")
    print(f"  {'':<24}{f'{args.height:g} Å':>12}{'8 Å':>12}{'12 Å':>12}")
    mid = benzene_on_graphene(8.0)
    rows = [("MuSE", calc), (base_label, mx.MuSECalculator(base))]
    from muse_explore.reference.xtb import gfn2_calculator, tblite_available

    if tblite_available():
        rows.append(("GFN2-xTB (reference)", gfn2_calculator()))
    for label, c in rows:
        print(_row(label, [interaction_energy(c, a, n_flake) for a in (atoms, mid, far)]))
    print(f"  (a backbone alone sees nothing beyond its {base.cutoff:g} Å cutoff)")
    return 0
