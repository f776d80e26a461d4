"""Where a model's coarse levels are asked to see more than they ever saw in training.

A coarse node's messages are sums over the coarse nodes within its level's cutoff, which is
long (10 and 20 Å for the shipped graphene models). In a small periodic box, or a structure
much denser or larger than the training data, a node can see tens of times as many atoms as
any node saw in training, and its sums leave the range its weights were fitted on: a
single water molecule in a 3 Å box, whose atom level is fine, gets −941 eV from the coarse
levels of the shipped ``muse-painn-graphene`` (its other seeds +14 and −0.6 eV, MuSE-MACE's
+0.2 eV: how a model extrapolates depends on its backbone and seed;
``benchmarks/trained_reach.py``). Nothing in the input is wrong, so this is a warning, not
an error: every structure whose nodes see more than :data:`MARGIN` times the training
maximum, in atoms or in nodes, is named with the numbers
(:class:`~muse_explore.errors.MuSEExtrapolationWarning`).

The training maxima are :attr:`MuSE.trained_reach <muse_explore.models.muse.MuSE.trained_reach>`,
recorded by the trainer over every training step and saved with the model; a model without
them (random weights, a file from before they were recorded) is not checked.
"""

from __future__ import annotations

import warnings

import torch
from torch_geometric.utils import scatter

from muse_explore.errors import MuSEExtrapolationWarning

#: How far beyond the training maximum a node may see before the warning: the larger
#: transfer flake C96H24 (benchmarks/README.md), where the shipped graphene models are
#: benchmarked, sees at most 1.5 times what they trained on.
MARGIN = 2.0
#: The two quantities of :attr:`MuSEOutput.reach`, in order.
QUANTITIES = ("atoms", "nodes")
#: How :func:`describe`, hence a model card, starts the record.
CARD_PHRASE = "within a coarse node's cutoff in training"


def structure_reach(output, num_graphs: int) -> torch.Tensor:
    """(B, L, 2): per structure and coarse level, the most atoms and nodes any node saw."""
    per_level = [
        scatter(r, b, 0, dim_size=num_graphs, reduce="max")
        for r, b in zip(output.reach, output.batches[1:], strict=True)
    ]
    if not per_level:
        return torch.zeros(num_graphs, 0, 2, dtype=torch.float64)
    return torch.stack(per_level, dim=1).detach().to("cpu", torch.float64)


def beyond_training(model, output, num_graphs: int) -> list[tuple[int, int, str, float, float]]:
    """Where a batch's nodes see more than :data:`MARGIN` times the most seen in training.

    ``(structure, level, quantity, seen, trained)`` each time; empty where ``model`` has no
    training record.
    """
    trained = getattr(model, "trained_reach", None)
    if not trained or not output.reach:
        return []
    limits = torch.tensor(trained, dtype=torch.float64)
    seen = structure_reach(output, num_graphs)
    over = seen > MARGIN * limits
    return [
        (b, level + 1, QUANTITIES[q], float(seen[b, level, q]), float(limits[level, q]))
        for b, level, q in over.nonzero().tolist()
    ]


def warn_beyond_training(model, output, num_graphs: int, name=None) -> None:
    """Warn (:class:`MuSEExtrapolationWarning`) where :func:`beyond_training` finds a case.

    Once per model and coarse level, naming the first structure (an MD run would repeat it
    at every step; :func:`beyond_training` lists every case).

    ``name(b)`` labels structure ``b`` of the batch in the message (by default its position).
    """
    warned = model.__dict__.setdefault("_reach_warned", set())
    if len(warned) == len(output.reach):  # said for every level: nothing left to check
        return
    found = [f for f in beyond_training(model, output, num_graphs) if f[1] not in warned]
    if not found:
        return
    b = found[0][0]
    lines = []
    for _, level, quantity, seen, trained in (f for f in found if f[0] == b):
        cutoff = model.config.levels[level].cutoff
        lines.append(
            f"level {level} ({cutoff:g} Å): {seen:.0f} {quantity} against at most "
            f"{trained:.0f} in training"
        )
        warned.add(level)
    label = name(b) if name is not None else f"structure {b} of the batch"
    warnings.warn(
        f"{label}: its coarse nodes see far more within their cutoff than any node of the "
        f"model's training data ({'; '.join(lines)}). Its coarse levels extrapolate here: "
        "compare calc.results['scale_energies'] with the backbone alone "
        "(model.backbone_only()); in a small periodic box, which repeats its atoms many "
        "times within a long coarse cutoff, they can be off by electronvolts. Shown once per "
        "model and level.",
        MuSEExtrapolationWarning,
        stacklevel=3,
    )


def describe(model) -> str:
    """``model``'s training record in words, as its model card states it ("" without one)."""
    if not model.levels or not model.trained_reach:
        return ""
    levels = "; ".join(
        f"level {k + 1} ({model.config.levels[k + 1].cutoff:g} Å) up to {a:.0f} atoms and "
        f"{n:.0f} nodes"
        for k, (a, n) in enumerate(model.trained_reach)
    )
    times = "twice" if MARGIN == 2 else f"{MARGIN:g} times"
    return (
        f"{CARD_PHRASE}: {levels}; evaluation warns beyond {times} that "
        "(`mx.MuSEExtrapolationWarning`)"
    )


def most_seen(model, structures, *, batch_size: int = 16, dtype=torch.float32) -> list:
    """Per coarse level, the most ``[atoms, nodes]`` any node of ``structures`` sees.

    What the trainer records as ``trained_reach`` when given a model's training structures
    (for a model trained before the record existed; forward passes only, no forces).
    """
    from muse_explore.calc.evaluate import evaluate_batches  # it imports this module

    most = torch.zeros(getattr(model, "levels", 0), 2, dtype=torch.float64)
    for _, batch, res in evaluate_batches(
        model, list(structures), dtype=dtype, batch_size=batch_size, check=False
    ):
        seen = structure_reach(res["output"], int(batch.num_graphs)).amax(dim=0)
        most = torch.maximum(most, seen)
    return most.tolist()
