"""The explorer's evaluation: structures or trajectories as :class:`Snapshot` records.

:class:`Snapshot` (one evaluated structure as plain arrays) and the loop itself live in
:mod:`muse_explore.calc.evaluate`, the one evaluation path of the package.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from ase import Atoms

from muse_explore.calc.evaluate import Snapshot, evaluate_many

__all__ = ["Snapshot", "snapshots"]


def snapshots(
    model,
    frames: Atoms | Sequence[Atoms],
    *,
    dtype: torch.dtype = torch.float64,
    path: bool = True,
    batch_size: int = 32,
    converter=None,
) -> list[Snapshot]:
    """Evaluate ``frames`` (one structure or a trajectory) with ``model``, batched.

    Frames with the same bonding have the same coarse seeds, so nodes keep their identity
    from frame to frame; ``path=True`` matters only for legacy (format-1) models, whose seeds
    depend on the geometry unless they follow a path (``Seeder(follow=True)``). The
    model is used as it is (its σ, temperature, soft/hard).
    """
    from muse_explore.explore.models import resolve_model

    model = resolve_model(model)
    frames = [frames] if isinstance(frames, Atoms) else list(frames)
    if not frames:
        raise ValueError("no structures to evaluate")
    conv = converter if converter is not None else model.graph_converter(dtype=dtype, follow=path)
    return evaluate_many(model, frames, dtype=dtype, batch_size=batch_size, converter=conv)
