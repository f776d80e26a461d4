"""Training on several coarse partitions of each structure (``data.augment_hops``).

A MuSE model's coarse nodes are seeded from the covalent bond graph with fixed hop radii
(``model.levels[l].hops``), so in training every structure is always cut the same way, and
the coarse levels may learn one partition's node layout rather than the physics: the same
weights can read another cut of the same flake (other hops at inference) with errors up to
twice as large (``benchmarks/flake_size.py``, fourth table), and a larger flake is cut into
nodes unlike those of any training flake. With ``data.augment_hops`` the training
structures are also seeded with other hop radii, and each training step reads every group
(a complex with its flake and its molecule, so that E_int compares one partition) through
one of the partitions, drawn uniformly. Validation, testing and inference use the model's
own hops only.

Each group's draw depends on the run's seed, the step and the group only (numpy's
``SeedSequence`` of the three): a resumed run, and every process of a data-parallel run,
draw the same partitions as one uninterrupted process.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from ase import Atoms
from numpy.random import SeedSequence

from muse_explore.pooling.seeder import Seeder


def attach_partitions(
    graphs: Sequence, structures: Sequence[Atoms], hops: Sequence[Sequence[int]], seeding: str
) -> None:
    """Give every graph ``seed_masks`` (n, L, 1 + len(hops)): its own seeds, then each set's.

    ``graphs[k]`` must be the graph of ``structures[graphs[k].idx]`` built by the model's
    converter (its ``seed_mask`` is partition 0).
    """
    seeders = [Seeder(tuple(h), seeding=seeding) for h in hops]
    for g in graphs:
        atoms = structures[int(g.idx)]
        masks = [g.seed_mask] + [
            torch.as_tensor(s.topology(atoms).seed_mask, dtype=g.seed_mask.dtype) for s in seeders
        ]
        g.seed_masks = torch.stack(masks, dim=-1)


def draw_partitions(batch, seed: int, step: int) -> torch.Tensor:
    """The batch's ``seed_mask`` with one partition per group, drawn for this step.

    Groups are ``batch.group`` where the graphs have one (the E_int term), else each
    structure (``batch.idx``) is its own group.
    """
    masks = batch.seed_masks
    ids = (batch.group if "group" in batch else batch.idx).cpu()
    groups, per_graph = torch.unique(ids, return_inverse=True)
    # each group's draw is a function of (seed, step, group) alone, however the batch is
    # cut into shards or resumed
    choice = torch.tensor(
        [int(SeedSequence([int(seed), int(step), int(g)]).generate_state(1)[0]) % masks.shape[-1]
         for g in groups.tolist()]
    )  # fmt: skip
    per_node = choice[per_graph].to(masks.device)[batch.batch]
    return masks[torch.arange(masks.shape[0], device=masks.device), :, per_node]
