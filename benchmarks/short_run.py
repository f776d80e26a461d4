"""A short training run of a protocol config, with changes: a probe before a long run.

    OMP_NUM_THREADS=1 python benchmarks/short_run.py mace-graphene --set optim.lr=0.001
    OMP_NUM_THREADS=1 python benchmarks/short_run.py mace-graphene --set loss.interaction_weight=0
    OMP_NUM_THREADS=1 python benchmarks/short_run.py mace-graphene --full --epochs 1

It reads ``sample_data/configs/protocol/NAME.yaml``, applies each ``--set KEY=VALUE`` (a dotted
path into the config, the value read as JSON: ``optim.lr=0.01``,
``model.backbone_kwargs.scale=10``), and trains with ``muse-explore train``'s trainer into a run
folder of its own (``--run-dir``, by default under the system's temporary folder), so nothing
of the protocol's runs changes. By default it keeps the config's main data files without its
training-only sets, cut to the first 2,400 structures (``data.max_structures``; about 213
steps per epoch on the graphene data), for 2 epochs: a few minutes per config on one core.
``--full`` keeps the config's data as it is. Every epoch's validation metrics print at the end
(the run folder's ``metrics.csv``); the learning-rate schedule does not depend on the epoch
budget, so a short run's epochs are the first epochs of the full run with the same changes.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from pathlib import Path

import yaml
from training_cost import CONFIGS, protocol_configs


def apply(config: dict, assignment: str) -> None:
    """Set ``config[a][b][c] = json.loads(value)`` for ``assignment = "a.b.c=value"``."""
    key, sep, value = assignment.partition("=")
    if not sep or not key:
        raise SystemExit(f"--set {assignment!r}: expected KEY=VALUE, e.g. optim.lr=0.01")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        raise SystemExit(f"--set {assignment!r}: {value!r} is not a JSON value") from None
    *path, last = key.split(".")
    node = config
    for part in path:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise SystemExit(f"--set {assignment!r}: {part!r} is not a section")
    node[last] = parsed


def main() -> None:
    from muse_explore.training.config import TrainConfig
    from muse_explore.training.trainer import Trainer

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("config", help="a protocol config's name, e.g. mace-graphene")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--structures", type=int, default=2400, help="data.max_structures")
    p.add_argument("--full", action="store_true", help="the config's data unchanged")
    p.add_argument("--run-dir", default=None)
    args = p.parse_args()
    protocol_configs([args.config])  # a clear error for an unknown name
    config = yaml.safe_load((CONFIGS / f"{args.config}.yaml").read_text())
    if not args.full:
        config["data"]["train_only_files"] = []
        config["data"]["max_structures"] = args.structures
    config["optim"]["epochs"] = args.epochs
    for assignment in args.set:
        apply(config, assignment)
    run_dir = Path(args.run_dir or tempfile.mkdtemp(prefix=f"short-{args.config}-"))
    config["run_dir"] = str(run_dir)
    print(f"{args.config} with {args.set or 'no changes'}, run folder {run_dir}", flush=True)
    Trainer(TrainConfig.from_dict(config)).fit()

    print("\n| epoch | energy (meV/atom) | forces (meV/Å) | E_int (meV) | validation loss |")
    print("|---:|---:|---:|---:|---:|")
    with (run_dir / "metrics.csv").open() as fh:
        for r in csv.DictReader(fh):
            print(
                f"| {r['epoch']} | {float(r['val_energy_mae']):.1f} "
                f"| {float(r['val_forces_mae']):.0f} | {float(r['val_interaction_mae']):.1f} "
                f"| {float(r['val_loss']):.4f} |"
            )


if __name__ == "__main__":
    main()
