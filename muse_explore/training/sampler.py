"""Batches made of whole groups (a complex with its flake and molecule), split over processes.

The interaction-energy loss needs every part of a group in the same batch. Each global batch
holds K groups, K = max(1, round(batch_size / mean group size)), so that it has about
``batch_size`` structures; groups are shuffled each epoch with ``seed + epoch`` and a short
last batch joins the one before it. Process r takes the groups r, r + G, r + 2G, ... of
each global batch (G processes, G <= K). Nothing depends on G, so the union of the
processes' batches is the one-process batch and data-parallel runs take the same steps.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler


class GroupBatchSampler(Sampler[list[int]]):
    """Yield lists of dataset positions, whole groups only (see the module docstring).

    Args:
        groups: positions of the structures of each group.
        batch_size: structures per global batch (about).
        seed: shuffling seed (the epoch is added).
        rank: this process's rank.
        world_size: number of processes.
        shuffle: shuffle the groups (evaluation keeps their order).

    Raises:
        ValueError: when a global batch has fewer groups than there are processes.
    """

    def __init__(
        self,
        groups: Sequence[Sequence[int]],
        batch_size: int,
        *,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        shuffle: bool = True,
    ) -> None:
        self.groups = [list(g) for g in groups]
        if not self.groups:
            raise ValueError("no groups to batch")
        mean = sum(len(g) for g in self.groups) / len(self.groups)
        self.per_batch = max(1, round(batch_size / mean))
        if min(self.per_batch, len(self.groups)) < world_size:
            raise ValueError(
                f"batches of {self.per_batch} group(s) cannot feed {world_size} processes: "
                f"raise optim.batch_size to at least {world_size * mean:.0f} structures"
            )
        self.seed, self.rank, self.world_size, self.shuffle = seed, rank, world_size, shuffle
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int, *, start: int = 0) -> None:
        """Shuffle differently in each epoch; skip the epoch's first ``start`` batches.

        ``start`` resumes an epoch that a run checkpointed part-way through.
        """
        self.epoch, self.start = epoch, start

    def _global_batches(self) -> list[list[int]]:
        order = list(range(len(self.groups)))
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            order = torch.randperm(len(self.groups), generator=g).tolist()
        k = self.per_batch
        batches = [order[i : i + k] for i in range(0, len(order), k)]
        if len(batches) > 1 and len(batches[-1]) < k:
            last = batches.pop()
            batches[-1] += last
        return batches

    def order_digest(self) -> str:
        """A digest of this epoch's global batches (which groups, in which order)."""
        import hashlib

        text = repr((self._global_batches(), [len(g) for g in self.groups]))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._global_batches()[self.start :]:
            yield [i for k in batch[self.rank :: self.world_size] for i in self.groups[k]]

    def __len__(self) -> int:
        return max(0, len(self._global_batches()) - self.start)
