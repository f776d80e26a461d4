"""What one protocol run costs on a CPU: a training step of each protocol config, and a whole run.

    OMP_NUM_THREADS=1 python benchmarks/training_cost.py                 # every protocol config
    OMP_NUM_THREADS=1 python benchmarks/training_cost.py --configs muse-mace-graphene mace-graphene
    OMP_NUM_THREADS=1 python benchmarks/training_cost.py --json /tmp/wide.json \
        --configs muse-painn-graphene sample_data/configs/experiments/muse-painn-graphene-wide.yaml

For each config in ``sample_data/configs/protocol/`` it reads the config's data and splits it as
``muse-explore train`` does (so the number of steps per epoch is the run's own), builds the
model from the config's model section (random weights, the config's training dtype and thread
count), and times real training steps on the first batches of the run's first epoch: energy,
forces with the graph kept for the force loss, the protocol's loss (interaction term included),
backward and an Adam step. It also times the per-epoch validation (energies and forces in the
config's evaluation dtype). A run's cost is then epochs × (steps × step time + validation), the
epoch budget in full (early stopping can end a run sooner).

The step time of a random-weight model is the trained model's: the graphs, and with them the
work, do not depend on the weights except for MuSE's coarse graphs, which have the same size.
Times are the CPU time of this process (``time.process_time``), what a run costs one core
whatever else the machine runs, with the allocator tuned as the trainer tunes it
(:mod:`muse_explore.calc.allocator`); the wall time of a step goes beside it, which on a busy
machine is longer by the share of the core the other processes take. Writes
benchmarks/training_cost.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
CONFIGS = ROOT.parent / "sample_data" / "configs" / "protocol"
#: Steps run before the timed ones: the first steps of a process fault in its heap.
WARMUP = 3


def _data_key(cfg) -> str:
    return json.dumps(cfg.to_dict()["data"], sort_keys=True)


def protocol_configs(names: list[str] | None) -> dict:
    """The protocol configs called ``names`` (all of them for ``None``), by name; a name
    that is the path of a YAML file (an experiment's config) is read from there."""
    from muse_explore.training.config import TrainConfig

    known = sorted(f.stem for f in CONFIGS.glob("*.yaml"))
    paths = {n: Path(n) if n.endswith((".yaml", ".yml")) else CONFIGS / f"{n}.yaml"
             for n in names or known}  # fmt: skip
    unknown = [n for n, path in paths.items() if not path.is_file()]
    if unknown:
        raise SystemExit(f"no protocol config or config file {unknown}; known: {known}")
    stems = [path.stem for path in paths.values()]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise SystemExit(f"two configs named {twice}: give each config once, or rename one")
    return {path.stem: TrainConfig.from_yaml(path) for path in paths.values()}


def first_batches(data: tuple, converter, n: int):
    """The first ``n`` training batches of a run's first epoch, from :func:`_split`'s data."""
    from torch_geometric.loader import DataLoader

    from muse_explore.training import dataset as ds

    structures, train, _, gids, sampler = data
    for k, positions in enumerate(sampler):
        if k == n:
            return
        graphs = ds.to_graphs(structures, [train[i] for i in positions], converter, gids)
        yield next(iter(DataLoader(graphs, batch_size=len(graphs))))


def each_with_data(configs: dict):
    """(name, config, its run's data from :func:`_split`), splitting each data section once."""
    data: dict[str, tuple] = {}
    for name, cfg in configs.items():
        key = _data_key(cfg)
        if key not in data:
            data[key] = _split(cfg)
        yield name, cfg, data[key]


def _split(cfg):
    """The run's structures, training positions, groups and batches of epoch 1 (as the trainer)."""
    from muse_explore.training import dataset as ds
    from muse_explore.training.sampler import GroupBatchSampler

    d = cfg.data
    structures, splits = ds.run_data(d, cfg.seed)
    train = splits["train"]
    interaction = cfg.loss.interaction_weight > 0
    gids = ds.group_ids(structures, d.group_by) if interaction else None
    if interaction:
        by: dict[int, list[int]] = {}
        for k, i in enumerate(train):
            by.setdefault(gids[i], []).append(k)
        groups = list(by.values())
    else:
        groups = [[k] for k in range(len(train))]
    sampler = GroupBatchSampler(groups, cfg.optim.batch_size, seed=cfg.seed)
    sampler.set_epoch(0)
    return structures, train, splits["val"], gids, sampler


def _cost(cfg, data, steps: int) -> dict:
    """Mean training-step time and validation time of one config, with its data."""
    import torch
    from torch_geometric.loader import DataLoader

    from muse_explore.calc.allocator import tune_cpu_allocator
    from muse_explore.calc.derivatives import compute_properties
    from muse_explore.data.graph import batch_to
    from muse_explore.models.muse import MuSE
    from muse_explore.training import dataset as ds
    from muse_explore.training.loss import combine, loss_terms
    from muse_explore.training.trainer import DTYPES, TERMS

    structures, train, val, gids, sampler = data
    tune_cpu_allocator()  # as the trainer does
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    dtype, eval_dtype = DTYPES[cfg.dtype], DTYPES[cfg.eval_dtype]
    torch.manual_seed(cfg.seed)
    model = MuSE(cfg.model).to(dtype)
    converter = model.graph_converter(torch.float64)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.optim.lr)

    batches = list(first_batches(data, converter, steps + WARMUP))
    times, walls, atoms = [], [], []
    model.train()
    for batch in batches:
        batch = batch_to(batch, torch.device("cpu"), dtype)
        t0, w0 = time.process_time(), time.perf_counter()
        pred = compute_properties(model, batch, forces=True, create_graph=True)
        terms = loss_terms(pred, batch, cfg.loss)
        counts = {k: float(terms[k][1]) if k in terms else 0.0 for k in TERMS}
        loss = combine(terms, counts, cfg.loss)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        times.append(time.process_time() - t0)
        walls.append(time.perf_counter() - w0)
        atoms.append(int(batch.num_nodes))
    # batches differ in size: the mean is what an epoch costs
    step_s = float(np.mean(times[WARMUP:]))
    step_wall_s = float(np.mean(walls[WARMUP:]))

    # validation: a sample of the validation structures, scaled to all of them
    model.to(eval_dtype).eval()
    sample = val[:: max(1, len(val) // 60)][:60]
    graphs = ds.to_graphs(structures, sample, model.graph_converter(torch.float64), gids)
    t0 = time.process_time()
    for start in range(0, len(graphs), 12):
        batch = next(iter(DataLoader(graphs[start : start + 12], batch_size=12)))
        compute_properties(model, batch_to(batch, torch.device("cpu"), eval_dtype), forces=True)
    val_s = (time.process_time() - t0) * len(val) / max(1, len(sample))

    epoch_s = len(sampler) * step_s + val_s
    return {
        "backbone": cfg.model.backbone,
        "coarse_levels": len(cfg.model.levels) - 1,
        "params": sum(p.numel() for p in model.parameters()),
        "threads": torch.get_num_threads(),
        "atoms_per_step": float(np.mean(atoms)),
        "step_s": step_s,
        "step_wall_s": step_wall_s,
        "steps_per_epoch": len(sampler),
        "val_structures": len(val),
        "val_s": val_s,
        "epoch_min": epoch_s / 60,
        "epochs": cfg.optim.epochs,
        "run_h": epoch_s * cfg.optim.epochs / 3600,
    }


def _runnable_others() -> int | None:
    """Processes other than this one that were running or ready to run (Linux), else None."""
    try:
        running = open("/proc/loadavg").read().split()[3].split("/")[0]
    except (OSError, IndexError):
        return None
    return int(running) - 1


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--configs", nargs="+", default=None, help="protocol config names, or config files"
    )
    p.add_argument("--steps", type=int, default=20, help="timed training steps per config")
    p.add_argument("--json", default=str(ROOT / "training_cost.json"))
    args = p.parse_args()
    configs = protocol_configs(args.configs)

    import os

    t_start = time.perf_counter()
    busy = _runnable_others()
    rows = []
    for name, cfg, data in each_with_data(configs):
        row = {"config": name, **_cost(cfg, data, args.steps)}
        rows.append(row)
        print(
            f"{name}: {row['step_s'] * 1e3:.0f} ms CPU per step ({row['step_wall_s'] * 1e3:.0f} "
            f"ms wall), {row['steps_per_epoch']} steps/epoch, {row['run_h']:.1f} core-hours "
            "per run",
            flush=True,
        )
    print()
    print(
        f"one protocol run on this CPU ({os.cpu_count()} cores, {busy} other runnable "
        f"processes at the start, {_runnable_others()} at the end; CPU time of one thread; "
        "random weights; the epoch budget in full)"
    )
    print()
    head = (
        "| config | backbone | coarse levels | params | atoms/step | step (ms CPU) "
        "| step (ms wall) | steps/epoch | validation (s) | epoch (min) | epochs | run (core-h) |"
    )
    print(head)
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['config']} | {r['backbone']} | {r['coarse_levels']} | {r['params']:,} "
            f"| {r['atoms_per_step']:.0f} | {r['step_s'] * 1e3:.0f} | {r['step_wall_s'] * 1e3:.0f} "
            f"| {r['steps_per_epoch']} "
            f"| {r['val_s']:.0f} | {r['epoch_min']:.1f} | {r['epochs']} | {r['run_h']:.1f} |"
        )
    from muse_explore.atomic import atomic_open

    with atomic_open(args.json) as fh:
        meta = {
            "cpu_count": os.cpu_count(),
            "other_runnable_at_start": busy,
            "time": "CPU time of one thread (time.process_time)",
        }
        json.dump({**meta, "rows": rows}, fh, indent=1)
    print(f"\nwrote {args.json} in {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
