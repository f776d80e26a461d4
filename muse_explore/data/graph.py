"""ASE ``Atoms`` (one or many) to a PyG ``Batch``.

A graph holds ``z, pos, cell, pbc, edge_index, shifts`` (see :mod:`muse_explore.data.neighbors`
for the edge convention), the optional targets ``energy, forces, stress`` (eV, eV/Å, eV/Å³ as
a 3×3 tensor) and, for multiscale models, the covalent ``fragment`` of each atom and the
``seed_mask`` of the coarse levels, and the ``copy_offset``/``copy_span`` that tell periodic
images of a fragment apart (:mod:`muse_explore.pooling.seeding`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np
import torch
from ase import Atoms
from ase.stress import voigt_6_to_full_3x3_stress
from torch_geometric.data import Batch, Data

from muse_explore.data.neighbors import neighbor_list
from muse_explore.data.validation import validate_atoms
from muse_explore.errors import MuSEInputError
from muse_explore.pooling.seeding import (
    SEEDINGS,
    Topology,
    bond_cutoff,
    covalent_bonds,
    find_topology,
)


class AtomsToGraph:
    """Converter from ASE structures to graphs for a model with a given cutoff.

    Args:
        cutoff: atom-level neighbour cutoff in Å.
        elements: chemical symbols the model knows (others are rejected), or ``None``.
        hops: hop radii of the coarse levels' seeding (empty for a plain backbone).
        dtype: floating dtype of positions, cell and targets.
        seeding: ``"symmetric"`` (default): seeds are a function of the covalent bond graph
            alone, so a structure gets the same seeds whatever was converted before and
            whatever its geometry within one bonding pattern; the cache (keyed by elements and
            bond graph) only saves time. ``"legacy"``: the geometry-dependent rule of models
            saved before 2026-12, kept so that their numbers do not change.
        follow: only for ``seeding="legacy"``: ``True`` reuses the seeds of an earlier
            structure with the same bond graph (a path: MD, scans, finite differences);
            ``False`` seeds every structure from its own geometry. Symmetric seeding has one
            mode and ignores it.
        cache_size: number of seedings kept.
        reach: the longest cutoff any level of the model uses (coarse graphs, assignment
            radii), in Å; periodic cells are checked against it as well as against
            ``cutoff``, so a cell too small for the coarse levels is refused by name. Defaults
            to ``cutoff``.
        fragments: attach the covalent ``fragment`` of every atom even without coarse levels
            (``hops`` empty): fragment-neutral latent charges need it.
    """

    def __init__(
        self,
        cutoff: float,
        *,
        elements: Sequence[str] | None = None,
        hops: Sequence[int] = (),
        dtype: torch.dtype | None = None,
        seeding: str = "symmetric",
        follow: bool = False,
        cache_size: int = 256,
        reach: float | None = None,
        fragments: bool = False,
    ) -> None:
        self.cutoff = float(cutoff)
        self.fragments = bool(fragments)
        self.reach = max(self.cutoff, float(reach)) if reach is not None else self.cutoff
        self.elements = list(elements) if elements is not None else None
        self.hops = tuple(int(h) for h in hops)
        self.dtype = dtype if dtype is not None else torch.get_default_dtype()
        if seeding not in SEEDINGS:
            raise ValueError(f"seeding must be one of {SEEDINGS}, got {seeding!r}")
        self.seeding = seeding
        self.follow = bool(follow)
        self.cache_size = cache_size
        self._cache: OrderedDict[bytes, Topology] = OrderedDict()
        self._frozen: tuple[np.ndarray, Topology] | None = None

    def freeze(self, atoms: Atoms) -> Topology:
        """Use the seeds of ``atoms`` for every later structure with the same atoms.

        Along an MD run or a scan this keeps the coarse nodes fixed even if a covalent bond
        stretches past the bonding threshold, so the energy stays smooth everywhere.
        """
        self._frozen = None
        topo = self.topology(atoms)
        self._frozen = (atoms.numbers.copy(), topo)
        return topo

    def clear_cache(self) -> None:
        """Forget the cached seedings (the next structure is seeded from scratch)."""
        self._cache.clear()

    @property
    def frozen(self) -> bool:
        """Whether a frozen topology is in use."""
        return self._frozen is not None

    def unfreeze(self) -> None:
        """Go back to seeding each structure from its own bond graph."""
        self._frozen = None

    def topology(self, atoms: Atoms, edges=None) -> Topology:
        """Fragments and seeds of ``atoms``.

        Cached by element list and covalent bond graph (periodic shifts included), plus, for
        legacy seeding without ``follow``, the exact positions and cell.

        ``edges``: this structure's neighbour list (``edge_index``, ``shifts``), reused for the
        bonds when its cutoff is long enough.
        """
        if self._frozen is not None:
            numbers, topo = self._frozen
            if not np.array_equal(numbers, atoms.numbers):
                raise MuSEInputError(
                    "the coarse topology is frozen for another structure (different atoms); "
                    "call unfreeze() first"
                )
            return topo
        cell = np.asarray(atoms.cell)
        if edges is not None and self.cutoff < bond_cutoff(atoms.numbers):
            edges = None
        bonds = covalent_bonds(atoms.numbers, atoms.positions, cell, atoms.pbc, edges)
        n = len(atoms)
        i, j, _, shifts = bonds
        pair = i.astype(np.int64) * n + j
        if shifts.any():  # periodic bonds: the shifts are part of the graph
            rows = np.column_stack([pair, shifts])
            pairs = rows[np.lexsort(rows.T[::-1])]
        else:
            pairs = np.sort(pair)
        parts = [atoms.numbers.astype(np.int64).tobytes(), pairs.tobytes()]
        if self.seeding == "legacy" and not self.follow:
            parts += [np.ascontiguousarray(atoms.positions, dtype=np.float64).tobytes(),
                      np.ascontiguousarray(cell, dtype=np.float64).tobytes()]  # fmt: skip
        key = b"|".join(parts)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        topo = find_topology(
            atoms.numbers, atoms.positions, cell, atoms.pbc, self.hops, bonds, seeding=self.seeding
        )
        self._cache[key] = topo
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return topo

    def __call__(self, atoms: Atoms, *, targets: bool = True) -> Data:
        """One structure as a PyG ``Data`` (validated first)."""
        validate_atoms(atoms, cutoff=self.reach, elements=self.elements)
        pbc = np.asarray(atoms.pbc, dtype=bool)
        cell = np.asarray(atoms.cell, dtype=np.float64) if pbc.any() else np.zeros((3, 3))
        edge_index, shifts = neighbor_list(atoms.positions, cell, pbc, self.cutoff)
        data = Data(
            z=torch.as_tensor(atoms.numbers, dtype=torch.long),
            pos=torch.as_tensor(atoms.positions, dtype=self.dtype),
            cell=torch.as_tensor(cell, dtype=self.dtype).unsqueeze(0),
            pbc=torch.as_tensor(pbc).unsqueeze(0),
            edge_index=torch.as_tensor(edge_index, dtype=torch.long),
            shifts=torch.as_tensor(shifts, dtype=self.dtype),
        )
        if self.hops or self.fragments:
            topo = self.topology(atoms, (edge_index, shifts))
            data.fragment = torch.as_tensor(topo.fragment, dtype=torch.long)
        if self.hops:
            data.seed_mask = torch.as_tensor(topo.seed_mask)
            data.copy_offset = torch.as_tensor(topo.copy_offset, dtype=self.dtype)
            data.copy_span = torch.as_tensor(topo.copy_span, dtype=self.dtype)
        if targets:
            self._attach_targets(atoms, data)
        return data

    def _attach_targets(self, atoms: Atoms, data: Data) -> None:
        results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
        if "energy" in results:
            data.energy = torch.tensor([float(results["energy"])], dtype=self.dtype)
        if "forces" in results:
            data.forces = torch.as_tensor(np.asarray(results["forces"]), dtype=self.dtype)
        if "stress" in results:
            stress = np.asarray(results["stress"])
            full = voigt_6_to_full_3x3_stress(stress) if stress.shape == (6,) else stress
            data.stress = torch.as_tensor(full, dtype=self.dtype).reshape(1, 3, 3)

    def batch(self, structures: Atoms | Iterable[Atoms], *, targets: bool = True) -> Batch:
        """Several structures (or one) as a PyG ``Batch``."""
        if isinstance(structures, Atoms):
            structures = [structures]
        data = [self(a, targets=targets) for a in structures]
        if not data:
            raise ValueError("no structures given")
        return Batch.from_data_list(data)


def atoms_to_batch(
    structures: Atoms | Iterable[Atoms],
    cutoff: float,
    *,
    elements: Sequence[str] | None = None,
    hops: Sequence[int] = (),
    dtype: torch.dtype | None = None,
    seeding: str = "symmetric",
) -> Batch:
    """Convert one or many structures to a ``Batch`` (see :class:`AtomsToGraph`)."""
    conv = AtomsToGraph(cutoff, elements=elements, hops=hops, dtype=dtype, seeding=seeding)
    return conv.batch(structures)
