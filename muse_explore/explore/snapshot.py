"""One evaluated structure as plain arrays: energies per scale and node, assignments, positions.

The coarse nodes of a level *l* own the atoms through the product of the assignments,
``M_l = S_1 S_2 ... S_l`` (atoms × nodes, rows summing to 1): :meth:`Snapshot.membership`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from ase import Atoms


@dataclass
class Snapshot:
    """A structure and what the model says about it (eV, Å).

    Attributes:
        atoms: the structure.
        energy: total energy.
        scale_energies: (L+1,) energy per level, atoms first; sums to ``energy``.
        atom_energies: (n,) per-atom energies (coarse energies shared out by S).
        node_energies: per level (atoms first), the energy of each node.
        assignments: per coarse level l = 1..L, the dense (K_{l-1}, K_l) matrix S_l.
        positions: per level (atoms first), (K_l, 3) node positions.
        anchors: per level, the atom index of each node's seed atom.
    """

    atoms: Atoms
    energy: float
    scale_energies: np.ndarray
    atom_energies: np.ndarray
    node_energies: list[np.ndarray]
    assignments: list[np.ndarray]
    positions: list[np.ndarray]
    anchors: list[np.ndarray]

    @property
    def levels(self) -> int:
        """Number of coarse levels L."""
        return len(self.assignments)

    def num_nodes(self, level: int) -> int:
        """Number of nodes of ``level`` (0: atoms)."""
        return len(self.positions[self._check(level, allow_atoms=True)])

    def membership(self, level: int) -> np.ndarray:
        """(n_atoms, K_level) share of every atom in every node of ``level`` (rows sum to 1)."""
        level = self._check(level)
        m = self.assignments[0]
        for s in self.assignments[1:level]:
            m = m @ s
        return m

    def dominant(self, level: int) -> tuple[np.ndarray, np.ndarray]:
        """Per atom, the node of ``level`` holding its largest share, and that share."""
        m = self.membership(level)
        k = m.argmax(axis=1)
        return k, m[np.arange(len(k)), k]

    def _check(self, level: int, *, allow_atoms: bool = False) -> int:
        lo = 0 if allow_atoms else 1
        if not lo <= int(level) <= self.levels:
            raise ValueError(f"level must be in {lo}..{self.levels}, got {level}")
        return int(level)


def _split(out, b: int, atoms: Atoms) -> Snapshot:
    """The part of a batched :class:`MuSEOutput` that belongs to structure ``b``."""
    idx = [np.flatnonzero(bt.detach().cpu().numpy() == b) for bt in out.batches]
    local = []
    for ix, bt in zip(idx, out.batches, strict=True):
        m = np.full(len(bt), -1, dtype=np.int64)
        m[ix] = np.arange(len(ix))
        local.append(m)
    mats = []
    for lev, s in enumerate(out.assignments, start=1):
        fine = s.fine.cpu().numpy()
        coarse = s.coarse.cpu().numpy()
        w = s.weight.detach().cpu().numpy().astype(np.float64)
        keep = local[lev][coarse] >= 0
        mat = np.zeros((len(idx[lev - 1]), len(idx[lev])))
        np.add.at(mat, (local[lev - 1][fine[keep]], local[lev][coarse[keep]]), w[keep])
        mats.append(mat)
    atom0 = int(idx[0][0]) if len(idx[0]) else 0

    def arr(t, ix):
        return t.detach().cpu().numpy().astype(np.float64)[ix]

    # totals re-summed in float64 from the per-atom energies: a float32 model sums thousands
    # of eV of element shifts with ~1 meV rounding, which would swamp interaction energies
    atom_e = arr(out.atom_energies, idx[0])
    scales = out.scale_energies[b].detach().cpu().numpy().astype(np.float64)
    energy = float(atom_e.sum())
    scales[0] = energy - scales[1:].sum()
    return Snapshot(
        atoms=atoms,
        energy=energy,
        scale_energies=scales,
        atom_energies=atom_e,
        node_energies=[arr(e, ix) for e, ix in zip(out.node_energies, idx, strict=True)],
        assignments=mats,
        positions=[arr(p, ix) for p, ix in zip(out.positions, idx, strict=True)],
        anchors=[a.cpu().numpy()[ix] - atom0 for a, ix in zip(out.anchors, idx, strict=True)],
    )


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
    from torch_geometric.data import Batch

    from muse_explore.explore.models import resolve_model

    model = resolve_model(model)
    frames = [frames] if isinstance(frames, Atoms) else list(frames)
    if not frames:
        raise ValueError("no structures to evaluate")
    p = next(model.parameters())
    conv = converter if converter is not None else model.graph_converter(dtype=dtype, follow=path)
    run = model if p.dtype == dtype else _as_dtype(model, dtype)
    was_training = run.training
    run.eval()  # and back afterwards: the caller's model keeps its mode
    result = []
    try:
        with torch.no_grad():
            for start in range(0, len(frames), batch_size):
                chunk = frames[start : start + batch_size]
                batch = Batch.from_data_list([conv(a, targets=False) for a in chunk])
                out = run(batch.to(p.device))
                result += [_split(out, b, a) for b, a in enumerate(chunk)]
    finally:
        run.train(was_training)
    return result


def _as_dtype(model, dtype):
    import copy

    return copy.deepcopy(model).to(dtype=dtype).eval()
