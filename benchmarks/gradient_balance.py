"""Which loss term drives each protocol model at the start of training: per-term gradient norms.

    OMP_NUM_THREADS=1 python benchmarks/gradient_balance.py                 # every protocol config
    OMP_NUM_THREADS=1 python benchmarks/gradient_balance.py --configs mace-graphene painn-graphene
    OMP_NUM_THREADS=1 python benchmarks/gradient_balance.py --trained   # where training ended

``--trained`` takes the same measures at the weights of the shipped model of each config (same
name; configs without one are skipped): which term still drives a model where its run ended.

For each config in ``sample_data/configs/protocol/`` it builds the model from the config's model
section with the run's seed (the random weights a run starts from), takes the first batches of
the run's first epoch (the run's own data, split and batch order, as
``benchmarks/training_cost.py`` does), and computes the gradient of each weighted loss term
(energy, forces, interaction; each divided by its count, as the trainer's loss) with respect to
all weights, separately. It prints the median norm of each term's gradient over the batches,
the interaction term's largest, how many batches the trainer's gradient clipping
(``optim.clip_grad_norm``) scales down, and, for each term, its first-order change in one
Adam step at the config's learning rate, relative to its value:

    lr · ḡ_term · m / (√v + ε)  /  L_term

with m and v Adam's first and second moments taken over these batches from the clipped
gradients of the whole loss (Adam divides each weight's step by √v on its own). A term whose
gradient lies across the directions that the other terms set gets a small number: the
optimiser's steps hardly reduce it. It is a first-order estimate at the initial weights over a
few batches, not a training curve: read it as a comparison between backbones under one loss.
Writes
benchmarks/gradient_balance.json.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
from training_cost import each_with_data, first_batches, protocol_configs

ROOT = Path(__file__).resolve().parent
TERMS = ("energy", "forces", "interaction")


def _norms(cfg, data, batches: int, weights_from: str | None = None) -> dict:
    """Per-batch gradient norms of each weighted term and of their sum, at initialisation or,
    with ``weights_from`` (a shipped model's name), at that model's trained weights."""
    import torch

    from muse_explore.calc.derivatives import compute_properties
    from muse_explore.data.graph import batch_to
    from muse_explore.models.muse import MuSE
    from muse_explore.training.loss import loss_terms
    from muse_explore.training.trainer import DTYPES

    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    dtype = DTYPES[cfg.dtype]
    torch.manual_seed(cfg.seed)
    if weights_from is None:
        model = MuSE(cfg.model).to(dtype).train()
    else:  # the shipped model trained from this config: where its training ended
        from muse_explore.models.serialization import load_model
        from muse_explore.pretrained import pretrained_path

        model = load_model(pretrained_path(weights_from)).to(dtype).train()
    converter = model.graph_converter(torch.float64)
    params = [p for p in model.parameters() if p.requires_grad]
    weights = {
        "energy": cfg.loss.energy_weight,
        "forces": cfg.loss.forces_weight,
        "interaction": cfg.loss.interaction_weight,
    }
    rows, flat = [], {name: [] for name in (*TERMS, "total")}
    for batch in first_batches(data, converter, batches):
        batch = batch_to(batch, torch.device("cpu"), dtype)
        pred = compute_properties(model, batch, forces=True, create_graph=True)
        terms = loss_terms(pred, batch, cfg.loss)
        row, total = {}, torch.zeros(sum(p.numel() for p in params), dtype=torch.float64)
        for name in TERMS:
            g = torch.zeros_like(total)
            value = 0.0
            if name in terms and weights[name] and float(terms[name][1]) > 0:
                v, count = terms[name]
                term = weights[name] * v / float(count)
                grads = torch.autograd.grad(term, params, retain_graph=True, allow_unused=True)
                value = float(term.detach())
                g = torch.cat(
                    [
                        (torch.zeros_like(p) if x is None else x).reshape(-1).double()
                        for p, x in zip(params, grads, strict=True)
                    ]
                )
            row[name], row[f"{name}_value"] = float(g.norm()), float(value)
            flat[name].append(g)
            total = total + g
        row["total"] = float(total.norm())
        flat["total"].append(total)
        row["force_rms_pred"] = float(pred["forces"].detach().pow(2).mean().sqrt())
        rows.append(row)
    clip = cfg.optim.clip_grad_norm if cfg.optim.clip_grad_norm is not None else math.inf
    c = [min(1.0, clip / r["total"]) if r["total"] > 0 else 1.0 for r in rows]
    # Adam's moments over these batches, from the clipped gradients the optimiser sees
    clipped = torch.stack([ck * g for ck, g in zip(c, flat["total"], strict=True)])
    m, v = clipped.mean(0), clipped.pow(2).mean(0)
    direction = m / (v.sqrt() + 1e-8)
    out = {
        "backbone": cfg.model.backbone,
        "coarse_levels": len(cfg.model.levels) - 1,
        "batches": len(rows),
        "clipped": int(sum(ck < 1 for ck in c)),
        "force_rms_pred": float(np.mean([r["force_rms_pred"] for r in rows])),
    }
    for name in (*TERMS, "total"):
        out[f"median_{name}"] = float(np.median([r[name] for r in rows]))
    out["max_interaction"] = float(max(r["interaction"] for r in rows))
    for name in TERMS:
        value = float(np.mean([r[f"{name}_value"] for r in rows]))
        slope = float(torch.stack(flat[name]).mean(0) @ direction)
        # first-order change of the term in one Adam step of the config's learning rate
        out[f"decrease_{name}"] = cfg.optim.lr * slope / value if value > 0 else float("nan")
    return out


def _percent(decrease: float) -> str:
    """A term's first-order change per step, in % of its value (negative: it falls)."""
    return "–" if not math.isfinite(decrease) else f"{-100 * decrease:+.2g} %"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", nargs="+", default=None, help="protocol config names")
    p.add_argument("--batches", type=int, default=24, help="batches of epoch 1 per config")
    p.add_argument("--trained", action="store_true",
                   help="at the shipped model of each config (same name) instead of its "
                        "initial weights; default json: gradient_balance_trained.json")  # fmt: skip
    p.add_argument("--json", default=None)
    args = p.parse_args()
    configs = protocol_configs(args.configs)
    if args.trained:
        from muse_explore.pretrained import list_pretrained

        shipped = set(list_pretrained())
        configs = {name: path for name, path in configs.items() if name in shipped}
    stem = "gradient_balance_trained" if args.trained else "gradient_balance"
    args.json = args.json or str(ROOT / f"{stem}.json")
    where = "at the shipped models' weights" if args.trained else "at initialisation"

    t0 = time.perf_counter()
    rows = []
    for name, cfg, data in each_with_data(configs):
        weights_from = name if args.trained else None
        rows.append({"config": name, **_norms(cfg, data, args.batches, weights_from)})
        print(f"{name}: done", flush=True)
    print()
    print(
        f"Gradient norms of each weighted loss term {where}, the first "
        f"{args.batches} batches of epoch 1 (median over batches)"
    )
    print()
    print(
        "| config | backbone | energy | forces | interaction (median; max) | whole loss "
        "| batches clipped | energy term's change per step | force term's "
        "| interaction term's | predicted force RMS (eV/Å) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['config']} | {r['backbone']} | {r['median_energy']:.3g} "
            f"| {r['median_forces']:.3g} | {r['median_interaction']:.3g}; "
            f"{r['max_interaction']:.3g} | {r['median_total']:.3g} "
            f"| {r['clipped']}/{r['batches']} | {_percent(r['decrease_energy'])} "
            f"| {_percent(r['decrease_forces'])} | {_percent(r['decrease_interaction'])} "
            f"| {r['force_rms_pred']:.3f} |"
        )
    from muse_explore.atomic import atomic_open

    with atomic_open(args.json) as fh:
        json.dump({"batches": args.batches, "trained": args.trained, "rows": rows}, fh, indent=1)
    print(f"\nwrote {args.json} in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
