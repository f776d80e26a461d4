"""How far each shipped MuSE model's coarse nodes see in training, and on structures beyond it.

A coarse node's messages are sums over the coarse nodes within its level's cutoff (10 and 20 Å
for the graphene models). For each shipped MuSE model this script measures, with
:func:`muse_explore.calc.reach.most_seen`, the most atoms and nodes any node of a level sees
within its cutoff (itself included):

* over the model's whole training split (what the trainer records as ``trained_reach`` and
  saves with the model; for the shipped files older than that record, ``--write`` puts it
  in their registry entry, the files unchanged, and states it on their model cards);
* on structures the graphene models never trained on: the larger transfer flake C96H24
  (``graphene_transfer``), the periodic cells of ``periodic`` and one water molecule in
  cubic periodic boxes of 3 to 10 Å;

and prints them as multiples of the training maximum, with each probe's energy error where
it has a reference (the water boxes' reference is the molecule's energy: a single water
molecule in a box of 5 Å or more barely feels its images). The warning of
:mod:`muse_explore.calc.reach` fires beyond ``MARGIN`` (2) times the training maximum.

    OMP_NUM_THREADS=1 python benchmarks/trained_reach.py               # every shipped MuSE model
    OMP_NUM_THREADS=1 python benchmarks/trained_reach.py --models muse-painn-graphene
    OMP_NUM_THREADS=1 python benchmarks/trained_reach.py --write       # record it in the registry
    python benchmarks/trained_reach.py --cards    # state the registry's records on the cards

Writes benchmarks/trained_reach.json.
"""

from __future__ import annotations

import argparse
import json
import re
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _models import provenance

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "sample_data" / "data"
#: the probes of the graphene models: never in their training data
PROBES = {
    "C96H24 transfer set": "graphene_transfer.extxyz.xz",
    "periodic cells": "periodic.extxyz.xz",
}
BOXES = (3.0, 3.5, 4.5, 5.0, 6.0, 8.0, 10.0)  # Å, the water molecule's cubic periodic box


def water_box(length: float):
    """One water molecule centred in a cubic periodic box of ``length`` Å."""
    from ase.build import molecule

    atoms = molecule("H2O")
    atoms.cell = [length] * 3
    atoms.pbc = True
    atoms.center()
    return atoms


def measure(name: str, write: bool) -> dict:
    """The training maxima of ``name`` and, for graphene models, its probes'."""
    import muse_explore as mx
    from muse_explore.calc.reach import MARGIN, most_seen
    from muse_explore.pretrained import model_data, models_dir, pretrained_path
    from muse_explore.pretrained.registry import register
    from muse_explore.training.dataset import load_splits, read_structures
    from muse_explore.training.export import state_reach_on_card

    model = mx.load_model(pretrained_path(name))
    data = model_data(name)
    frames = read_structures([ROOT / f for f in data["files"] + data.get("train_only_files", [])])
    splits = load_splits(models_dir() / f"{name}.splits.json")
    t0 = time.process_time()
    trained = most_seen(model, [frames[i] for i in splits["train"]])
    row = {
        "training structures": len(splits["train"]),
        "trained": trained,
        "recorded": model.trained_reach,
        "seconds": time.process_time() - t0,
        "probes": {},
    }
    model.trained_reach = trained
    if write:  # the registry's record, for a model file without its own
        register(models_dir(), name, data, trained_reach=trained)
        state_reach_on_card(models_dir() / f"{name}.md", model)
    if "graphene" not in name:
        return row
    limits = np.asarray(trained)
    for label, file in PROBES.items():
        seen = np.asarray(most_seen(model, read_structures([DATA / file])))
        row["probes"][label] = {"seen": seen.tolist(), "ratio": (seen / limits).tolist()}
    base = model.backbone_only()
    free = water_box(30.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = mx.MuSECalculator(model).get_potential_energy(free)
        for length in BOXES:
            box = water_box(length)
            seen = np.asarray(most_seen(model, [box], dtype=torch.float64))
            energy = mx.MuSECalculator(model).get_potential_energy(box)
            alone = mx.MuSECalculator(base).get_potential_energy(box)
            row["probes"][f"water, {length:g} Å box"] = {
                "seen": seen.tolist(),
                "ratio": (seen / limits).tolist(),
                "energy_shift_eV": energy - reference,
                "backbone_alone_shift_eV": alone
                - mx.MuSECalculator(base).get_potential_energy(free),
                "warns": bool((seen > MARGIN * limits).any()),
            }
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=None, help="shipped MuSE models (default all)")
    p.add_argument(
        "--write", action="store_true", help="record trained_reach in the models' registry"
    )
    p.add_argument(
        "--cards",
        action="store_true",
        help="only state each model's recorded trained_reach on its card (no measuring)",
    )
    p.add_argument("--json", default=str(ROOT / "benchmarks" / "trained_reach.json"))
    args = p.parse_args()

    import muse_explore as mx
    from muse_explore.atomic import atomic_open
    from muse_explore.pretrained import pretrained_path

    names = args.models or [
        n for n in mx.list_pretrained() if mx.load_model(pretrained_path(n)).levels
    ]
    if args.cards:
        from muse_explore.pretrained import models_dir
        from muse_explore.pretrained.registry import with_registered_reach
        from muse_explore.training.export import state_reach_on_card

        for name in names:
            card, path = models_dir() / f"{name}.md", pretrained_path(name)
            model = with_registered_reach(mx.load_model(path), path)
            try:
                changed = state_reach_on_card(card, model)
            except ValueError as err:  # no record yet: measure it with --write
                print(f"{card.name}: left as it is ({err})")
                continue
            print(f"{card.name}: {'updated' if changed else 'already states it'}")
        return
    rows = {}
    for name in names:
        rows[name] = row = measure(name, args.write)
        levels = " | ".join(
            f"level {k + 1}: {a:.0f} atoms, {n:.0f} nodes"
            for k, (a, n) in enumerate(row["trained"])
        )
        print(f"\n{name} ({row['training structures']} training structures): {levels}")
        for label, probe in row["probes"].items():
            ratio = ", ".join(f"{a:.1f}x atoms / {n:.1f}x nodes" for a, n in probe["ratio"])
            extra = ""
            if "energy_shift_eV" in probe:
                extra = (
                    f"; E − E(free molecule) {probe['energy_shift_eV']:+.3f} eV (backbone alone "
                    f"{probe['backbone_alone_shift_eV']:+.3f}); warns: {probe['warns']}"
                )
            print(f"  {label:<22} level by level: {ratio}{extra}")
    # what it was measured with: each model with its shipped seeds
    bases = [n for n in names if not re.search(r"-seed\d+$", n)]
    result = {"provenance": provenance({b: b for b in bases}), "models": rows}
    with atomic_open(args.json, "w") as fh:
        json.dump(result, fh, indent=2)
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
