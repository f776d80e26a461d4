"""One evaluation path: a model on many structures, batched, and one record per structure.

:func:`evaluate_many` is what the calculator, the analysis, the explorer, the test kit and the
trainer's evaluation all call; :func:`evaluate_batches` is the loop underneath, for callers
that need the batched tensors themselves (metrics against labels). The record,
:class:`Snapshot`, holds one structure's share of a batched :class:`MuSEOutput` as plain
arrays (eV, Å).

The coarse nodes of a level *l* own the atoms through the product of the assignments,
``M_l = S_1 S_2 ... S_l`` (atoms × nodes, rows summing to 1): :meth:`Snapshot.membership`.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from ase import Atoms
from torch_geometric.data import Batch, Data

from muse_explore.calc.derivatives import compute_properties
from muse_explore.calc.reach import warn_beyond_training
from muse_explore.data.graph import batch_to

#: Assignments with more entries than this are kept as scipy CSR matrices, not dense arrays.
DENSE_ASSIGNMENT_LIMIT = 4_000_000


@dataclass
class Snapshot:
    """A structure and what the model says about it (eV, Å).

    Attributes:
        atoms: the structure.
        energy: total energy (re-summed in float64 from the per-atom energies).
        scale_energies: (L+1,) energy per level, atoms first; sums to ``energy``.
        atom_energies: (n,) per-atom energies (coarse energies shared out by S).
        node_energies: per level (atoms first), the energy of each node.
        assignments: per coarse level l = 1..L, the (K_{l-1}, K_l) matrix S_l: a dense array,
            or a scipy CSR matrix above :data:`DENSE_ASSIGNMENT_LIMIT` entries.
        positions: per level (atoms first), (K_l, 3) node positions.
        anchors: per level, the atom index of each node's seed atom.
        forces: (n, 3) in eV/Å when asked for, else ``None``.
        stress: (3, 3) in eV/Å³ for a periodic structure when asked for, else ``None``.
    """

    atoms: Atoms
    energy: float
    scale_energies: np.ndarray
    atom_energies: np.ndarray
    node_energies: list[np.ndarray]
    assignments: list
    positions: list[np.ndarray]
    anchors: list[np.ndarray]
    forces: np.ndarray | None = None
    stress: np.ndarray | None = None

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
        m = _dense(self.assignments[0])
        for s in self.assignments[1:level]:
            m = m @ _dense(s)
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


def _dense(s) -> np.ndarray:
    return s if isinstance(s, np.ndarray) else s.toarray()


@contextlib.contextmanager
def evaluation_model(model, dtype: torch.dtype | None = None, device=None):
    """``model`` ready to evaluate in ``dtype`` on ``device``: in eval mode, put back after.

    A model already in that precision and on that device is used as it is (no copy); else a
    copy is moved, so the caller's model never changes. ``None`` keeps the model's own.
    """
    p = next(model.parameters())
    dtype = p.dtype if dtype is None else dtype
    device = p.device if device is None else torch.device(device)
    same = p.dtype == dtype and p.device == device
    run = model if same else copy.deepcopy(model).to(device=device, dtype=dtype)
    was_training = run.training
    # train() calls itself on every submodule: skip it (per MD step) where all are in eval mode
    switch = any(m.training for m in run.modules())
    if switch:
        run.eval()
    try:
        yield run
    finally:
        if switch:
            run.train(was_training)


def evaluate_batches(
    model,
    items: Sequence[Atoms] | Sequence[Data],
    *,
    dtype: torch.dtype | None = torch.float64,
    forces: bool = False,
    stress: bool = False,
    batch_size: int = 16,
    converter=None,
    device=None,
    batches: Sequence[Sequence[int]] | None = None,
    check: bool = True,
) -> Iterator[tuple[list, Batch, dict]]:
    """The evaluation loop: yields ``(chunk, batch, result)`` per batch of ``items``.

    ``items`` are structures (converted with ``converter``, the model's own by default) or
    ready graphs (from a converter, e.g. with targets). ``batches`` (lists of positions in
    ``items``) replaces the consecutive chunks of ``batch_size``, e.g. to keep groups
    together. ``result`` is :func:`~muse_explore.calc.derivatives.compute_properties`'s;
    ``stress`` is computed for batches that hold a periodic structure. Without derivatives,
    no autograd graph is built. ``check`` warns where a structure takes the model's coarse
    levels far beyond its training data (:mod:`muse_explore.calc.reach`).
    """
    if batches is None:
        batches = [
            range(s, min(s + batch_size, len(items))) for s in range(0, len(items), batch_size)
        ]
    with evaluation_model(model, dtype, device) as run:
        p = next(run.parameters())
        conv = converter if converter is not None else run.graph_converter(dtype=p.dtype)
        for positions in batches:
            chunk = [items[k] for k in positions]
            graphs = [conv(a, targets=False) if isinstance(a, Atoms) else _placed(a) for a in chunk]
            batch = batch_to(Batch.from_data_list(graphs), p.device, p.dtype)
            want_stress = stress and bool(batch.pbc.any())
            grad = contextlib.nullcontext() if forces or want_stress else torch.no_grad()
            with grad:
                res = compute_properties(run, batch, forces=forces, stress=want_stress)
            if check:  # the caller's model, not a copy, remembers what it has warned about
                warn_beyond_training(
                    model, res["output"], int(batch.num_graphs),
                    lambda b, chunk=chunk, positions=positions: _name(chunk[b], positions[b]),
                )  # fmt: skip
            yield chunk, batch, res


def _placed(graph: Data) -> Data:
    """A ready graph with an ``origin``, so that it batches with the converter's graphs.

    A graph built without one (by hand) gets a zero origin, on a shallow copy.
    """
    if "origin" in graph:
        return graph
    graph = copy.copy(graph)
    graph.origin = torch.zeros(1, 3, dtype=torch.float64)
    return graph


def _name(item, position: int) -> str:
    """A structure's label in warnings: its formula where it is an ``Atoms``."""
    if isinstance(item, Atoms):
        return f"structure {position} ({item.get_chemical_formula()})"
    return f"structure {position}"


def evaluate_many(
    model,
    frames: Sequence[Atoms],
    *,
    dtype: torch.dtype | None = torch.float64,
    forces: bool = False,
    stress: bool = False,
    batch_size: int = 16,
    converter=None,
    device=None,
) -> list[Snapshot]:
    """Evaluate ``frames`` with ``model``, batched; one :class:`Snapshot` per structure.

    Args:
        model: a :class:`~muse_explore.models.MuSE` (left as it is: mode and precision).
        frames: the structures.
        dtype: precision of the evaluation (``None``: the model's own).
        forces: also compute forces (eV/Å).
        stress: also compute the stress (eV/Å³) of periodic structures.
        batch_size: structures per batch.
        converter: the :class:`~muse_explore.data.graph.AtomsToGraph` to use (a calculator's
            own, which may follow a path); the model's by default.
        device: where to evaluate (``None``: the model's device).
    """
    frames = list(frames)
    out = []
    for chunk, batch, res in evaluate_batches(
        model, frames, dtype=dtype, forces=forces, stress=stress, batch_size=batch_size,
        converter=converter, device=device,
    ):  # fmt: skip
        ptr = batch.ptr.tolist()
        for b, atoms in enumerate(chunk):
            rec = split_output(res["output"], b, atoms)
            if forces:
                f = res["forces"][ptr[b] : ptr[b + 1]]
                rec.forces = f.detach().cpu().numpy().astype(np.float64)
            if "stress" in res and atoms.pbc.any():
                rec.stress = res["stress"][b].detach().cpu().numpy().astype(np.float64)
            out.append(rec)
    return out


def split_output(out, b: int, atoms: Atoms) -> Snapshot:
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
        rows, cols = local[lev - 1][fine[keep]], local[lev][coarse[keep]]
        shape = (len(idx[lev - 1]), len(idx[lev]))
        if shape[0] * shape[1] <= DENSE_ASSIGNMENT_LIMIT:
            mat = np.zeros(shape)
            np.add.at(mat, (rows, cols), w[keep])  # periodic images summed
        else:
            from scipy.sparse import csr_matrix

            mat = csr_matrix((w[keep], (rows, cols)), shape=shape)  # sums images
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
