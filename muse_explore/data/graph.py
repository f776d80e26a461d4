"""ASE ``Atoms`` (one or many) to a PyG ``Batch``.

A graph holds ``z, pos, cell, pbc, edge_index, shifts`` (see :mod:`muse_explore.data.neighbors`
for the edge convention), ``origin``, the optional targets ``energy, forces, stress`` (eV,
eV/Å, eV/Å³ as a 3×3 tensor) and, for multiscale models, the covalent ``fragment`` of each
atom and the ``seed_mask`` of the coarse levels, and the ``copy_offset``/``copy_span`` that
tell periodic images of a fragment apart, from a seeder it is given
(:class:`muse_explore.pooling.Seeder`).

``pos`` is taken relative to the structure's centroid, which is kept in float64 as ``origin``
((1, 3) per graph): energies, forces, stress and Hessians do not depend on where a structure
lies, but a float32 cast of absolute coordinates would make them (a complex 10⁴ Å from the
origin moved by 7 meV). :class:`~muse_explore.models.MuSE` adds ``origin`` back to the node
positions it reports.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
from ase import Atoms
from ase.stress import voigt_6_to_full_3x3_stress
from torch_geometric.data import Batch, Data

from muse_explore.data.neighbors import neighbor_list
from muse_explore.data.validation import MIN_DISTANCE, check_overlaps, validate_atoms
from muse_explore.data.verlet import VerletList


class AtomsToGraph:
    """Converter from ASE structures to graphs for a model with a given cutoff.

    Args:
        cutoff: atom-level neighbour cutoff in Å.
        elements: chemical symbols the model knows (others are rejected), or ``None``.
        seeder: the source of covalent fragments and coarse seeds (a
            :class:`muse_explore.pooling.Seeder`, or any object with its ``topology``,
            ``freeze``, ``unfreeze``, ``frozen`` and ``clear_cache``), or ``None`` for a plain
            backbone. With a seeder every graph gets ``fragment``; with coarse levels
            (``seeder.hops`` not empty) also ``seed_mask``, ``copy_offset`` and ``copy_span``.
        dtype: floating dtype of positions, cell and targets.
        reach: the longest cutoff any level of the model uses (coarse graphs, assignment
            radii), in Å; periodic cells are checked against it as well as against
            ``cutoff``, so a cell too small for the coarse levels is refused by name. Defaults
            to ``cutoff``.
        skin: a Verlet buffer in Å (0: none). With a skin the converter keeps the neighbour
            list of the last structure and reuses it while no atom has moved more than
            ``skin / 2`` (:class:`muse_explore.data.verlet.VerletList`): the MD path.
    """

    def __init__(
        self,
        cutoff: float,
        *,
        elements: Sequence[str] | None = None,
        seeder=None,
        dtype: torch.dtype | None = None,
        reach: float | None = None,
        skin: float = 0.0,
    ) -> None:
        self.cutoff = float(cutoff)
        self.reach = max(self.cutoff, float(reach)) if reach is not None else self.cutoff
        self.elements = list(elements) if elements is not None else None
        self.seeder = seeder
        self.dtype = dtype if dtype is not None else torch.get_default_dtype()
        self.verlet = VerletList(self.cutoff, skin) if skin else None

    def freeze(self, atoms: Atoms):
        """Freeze the seeder's topology on ``atoms`` (see ``Seeder.freeze``)."""
        if self.seeder is None:
            raise ValueError("a converter without a seeder has no topology to freeze")
        return self.seeder.freeze(atoms)

    def clear_cache(self) -> None:
        """Forget the seeder's cached seedings."""
        if self.seeder is not None:
            self.seeder.clear_cache()

    @property
    def frozen(self) -> bool:
        """Whether the seeder's topology is frozen."""
        return self.seeder is not None and self.seeder.frozen

    def unfreeze(self) -> None:
        """Go back to seeding each structure from its own bond graph."""
        if self.seeder is not None:
            self.seeder.unfreeze()

    def topology(self, atoms: Atoms, edges=None):
        """Fragments and seeds of ``atoms`` from the seeder (``edges``: its neighbour list)."""
        if self.seeder is None:
            raise ValueError("a converter without a seeder has no topology")
        return self.seeder.topology(atoms, edges, self.cutoff)

    def __call__(self, atoms: Atoms, *, targets: bool = True) -> Data:
        """One structure as a PyG ``Data`` (validated first)."""
        # the overlap check reuses the graph's own pair list where it reaches MIN_DISTANCE
        own_pairs = self.verlet is not None or self.cutoff >= MIN_DISTANCE
        validate_atoms(atoms, cutoff=self.reach, elements=self.elements, overlaps=not own_pairs)
        pbc = np.asarray(atoms.pbc, dtype=bool)
        cell = np.asarray(atoms.cell, dtype=np.float64) if pbc.any() else np.zeros((3, 3))
        if self.verlet is None:
            edge_index, shifts = neighbor_list(atoms.positions, cell, pbc, self.cutoff)
            if own_pairs and _shortest(atoms.positions, cell, edge_index, shifts) < MIN_DISTANCE:
                check_overlaps(atoms)
        else:
            edge_index, shifts = self.verlet(atoms.positions, cell, pbc)
            if self.verlet.min_length < MIN_DISTANCE:
                check_overlaps(atoms)
        origin = atoms.positions.mean(axis=0)  # float64, before any cast
        data = Data(
            z=torch.as_tensor(atoms.numbers, dtype=torch.long),
            pos=torch.as_tensor(atoms.positions - origin, dtype=self.dtype),
            origin=torch.as_tensor(origin, dtype=torch.float64).unsqueeze(0),
            cell=torch.as_tensor(cell, dtype=self.dtype).unsqueeze(0),
            pbc=torch.as_tensor(pbc).unsqueeze(0),
            edge_index=torch.as_tensor(edge_index, dtype=torch.long),
            shifts=torch.as_tensor(shifts, dtype=self.dtype),
        )
        if self.seeder is not None:
            topo = self.topology(atoms, (edge_index, shifts))
            data.fragment = torch.as_tensor(topo.fragment, dtype=torch.long)
            if self.seeder.hops:
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


def _shortest(positions: np.ndarray, cell: np.ndarray, edge_index, shifts) -> float:
    """The shortest pair distance of a pair list, in Å (``inf`` without pairs)."""
    if edge_index.shape[1] == 0:
        return float("inf")
    j, i = edge_index
    vec = positions[j] - positions[i] + shifts @ cell
    return float(np.sqrt(np.einsum("ij,ij->i", vec, vec).min()))


def atoms_to_batch(
    structures: Atoms | Iterable[Atoms],
    cutoff: float,
    *,
    elements: Sequence[str] | None = None,
    seeder=None,
    dtype: torch.dtype | None = None,
) -> Batch:
    """Convert one or many structures to a ``Batch`` (see :class:`AtomsToGraph`)."""
    return AtomsToGraph(cutoff, elements=elements, seeder=seeder, dtype=dtype).batch(structures)


def batch_to(batch, device: torch.device, dtype: torch.dtype):
    """Move a batch to ``device``; cast positions, cell, shifts and targets to ``dtype``.

    ``origin`` stays on the CPU in float64 (a device without float64, such as MPS, could not
    hold it); the model moves it where it adds it.
    """
    batch = batch.to(device, *(key for key in batch.keys() if key != "origin"))
    for key in ("pos", "cell", "shifts", "energy", "forces", "stress"):
        if key in batch:
            batch[key] = batch[key].to(dtype)
    return batch
