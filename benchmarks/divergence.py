"""Why the first MuSE-PaiNN graphene run of the protocol died, and what model format 5 changes.

    OMP_NUM_THREADS=1 python benchmarks/divergence.py     # 5-10 min on 2 CPU cores

The run (model format 4, coarse levels pooling raw features) reached NaN in epoch 16. This
script replays it from its resume state as committed in the repository's history (commit
RESUME below, ``runs/protocol/muse-painn-graphene``: epoch 15 done), with the training code
of today, which differs only in skipping non-finite steps, so the replay takes the very same
steps. It stops at the first training batch whose predicted energy or forces are not finite,
and for the structure of that batch that fails it prints, with the weights of that moment in
float64:

* the largest scalar and vector feature after every PaiNN update block, atom level (three
  blocks) and coarse levels 1 and 2 (one block each);
* the energy of each scale, and the GFN2-xTB energy;
* the same with ``pool_norm: true`` (format 5: the coarse levels pool softly normalised
  features), same weights;
* the closest intermolecular distance and the molecule's height over the flake.

Writes benchmarks/divergence.json (or ``--out``). Needs the repository's git history.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
RESUME = "5c5180f"  # "graphene protocol runs: resume states" (2026-12-02)
RUN = "runs/protocol/muse-painn-graphene"
FILES = ("config.yaml", "splits.json", "metrics.csv", "checkpoints/last.pt")


class _Found(Exception):
    """Raised from inside the training loop at the first non-finite prediction."""


def _restore_run(folder: Path) -> None:
    for name in FILES:
        blob = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{RESUME}:{RUN}/{name}"],
            capture_output=True,
            check=False,
        )
        if blob.returncode:
            sys.exit(f"cannot read {RUN}/{name} at {RESUME}: {blob.stderr.decode().strip()}")
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob.stdout)


def _replay(folder: Path):
    """Resume the run in ``folder`` until a prediction is not finite; its batch and weights."""
    import muse_explore.training.trainer as trainer_module
    from muse_explore.training.config import TrainConfig

    cfg = TrainConfig.from_yaml(folder / "config.yaml")
    cfg = replace(cfg, run_dir=str(folder), model=replace(cfg.model, pool_norm=False))
    compute = trainer_module.compute_properties
    seen = {"batches": 0}

    def watched(net, batch, **kw):
        seen["batches"] += 1
        pred = compute(net, batch, **kw)
        if not all(bool(torch.isfinite(pred[k]).all()) for k in ("energy", "forces")):
            raise _Found(batch, {k: v.detach().clone() for k, v in net.state_dict().items()})
        return pred

    trainer_module.compute_properties = watched
    try:
        trainer = trainer_module.Trainer(cfg, resume=True, progress=False)
        start = (trainer.epoch, trainer.in_epoch)
        trainer.fit()
    except _Found as found:
        batch, state = found.args
        return trainer, start, seen["batches"], batch, state
    finally:
        trainer_module.compute_properties = compute
    sys.exit("the replay finished the run without a non-finite prediction")


def _features(model, graph) -> tuple[list, list]:
    """Largest |scalar| and |vector| after every PaiNN update block, and the scale energies."""
    from muse_explore.backbones.painn import PaiNNUpdate

    blocks = []

    def hook(_module, inputs, output):
        s, v = inputs
        ds, dv = output
        blocks.append((float((s + ds).abs().max()), float((v + dv).abs().max())))

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, PaiNNUpdate)]
    try:
        with torch.no_grad():
            out = model(graph)
    finally:
        for h in handles:
            h.remove()
    return blocks, out.scale_energies[0].tolist()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "divergence.json"))
    args = p.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    from torch_geometric.data import Batch

    from muse_explore.models.muse import MuSE

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        _restore_run(folder)
        trainer, start, steps, batch, state = _replay(folder)
        config = trainer.model.config
        structures = trainer.structures
        shutil.rmtree(folder, ignore_errors=True)
    energies = batch.energy.tolist()
    result: dict = {
        "resume": RESUME,
        "resumed_at": {"epoch_done": start[0], "batches_into_next": start[1]},
        "batches_replayed": steps,
        "structures": [],
    }
    graphs = batch.to_data_list()
    float32 = MuSE(config)
    float32.load_state_dict(state)
    with torch.no_grad():
        e32 = float32(batch).energy.tolist()
    for k, graph in enumerate(graphs):
        if torch.isfinite(torch.tensor(e32[k])):
            continue
        source = structures[int(graph.idx)].info["source"]
        one = Batch.from_data_list([graph])
        for key in ("pos", "cell"):
            setattr(one, key, getattr(one, key).double())
        pos, z = one.pos, one.z
        row = {"source": source, "atoms": int(len(z)), "reference_energy_eV": energies[k]}
        # a complex is its flake's atoms, then its molecule's: the flake is in the same group
        group = int(graph.group)
        flakes = [
            int(g.num_nodes)
            for g in graphs
            if int(g.group) == group and structures[int(g.idx)].info.get("part") == "flake"
        ]
        if flakes and 0 < flakes[0] < len(z):
            n = flakes[0]
            row["closest_intermolecular_A"] = float(torch.cdist(pos[:n], pos[n:]).min())
            row["height_A"] = float(pos[n:, 2].mean() - pos[:n, 2].mean())
        for norm in (False, True):
            model = MuSE(replace(config, pool_norm=norm)).double()
            model.load_state_dict(state)
            blocks, scales = _features(model, one)
            row[f"pool_norm_{str(norm).lower()}"] = {"blocks": blocks, "scale_energies_eV": scales}
        result["structures"].append(row)
    _print(result, e32)
    out = Path(args.out)
    from muse_explore.atomic import atomic_open

    with atomic_open(out) as fh:
        json.dump(result, fh, indent=1)
    print(f"wrote {out} in {time.perf_counter() - t0:.0f} s")


def _print(result: dict, e32: list) -> None:
    at = result["resumed_at"]
    print(
        f"resumed from {result['resume']} (epoch {at['epoch_done']} done, "
        f"{at['batches_into_next']} batches into the next): batch {result['batches_replayed']} "
        "from there gives a non-finite energy or force"
    )
    print(f"float32 energies of the batch (eV): {[round(e, 2) for e in e32]}")
    names = ["atom level, block 1", "atom level, block 2", "atom level, block 3"]
    for row in result["structures"]:
        ref = row["reference_energy_eV"]
        print(f"\n{row['source']}: {row['atoms']} atoms, GFN2-xTB {ref:.2f} eV")
        if "height_A" in row:
            print(
                f"  molecule {row['height_A']:.2f} Å above the flake, closest atoms "
                f"{row['closest_intermolecular_A']:.2f} Å apart"
            )
        raw, normed = row["pool_norm_false"], row["pool_norm_true"]
        labels = names + [f"level {k}, block 1" for k in range(1, len(raw["blocks"]) - 2)]
        print("| after | format 4: max scalar | max vector | format 5: max scalar | max vector |")
        print("|---|---:|---:|---:|---:|")
        for label, a, b in zip(labels, raw["blocks"], normed["blocks"], strict=True):
            print(f"| {label} | {a[0]:.3g} | {a[1]:.3g} | {b[0]:.3g} | {b[1]:.3g} |")
        for name, run in (("format 4", raw), ("format 5", normed)):
            scales = ", ".join(f"{e:.4g}" for e in run["scale_energies_eV"])
            print(f"energy per scale (atoms, level 1, level 2), {name}: {scales} eV")


if __name__ == "__main__":
    main()
