"""The seeds of structures as a model sees them: seeding, its cache and a frozen topology.

:class:`Seeder` is what the data layer (:class:`muse_explore.data.AtomsToGraph`) is given to
attach covalent fragments and coarse seeds to a graph; the data layer itself knows nothing
about seeding.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from ase import Atoms

from muse_explore.errors import MuSEInputError
from muse_explore.pooling.seeding import (
    SEEDINGS,
    Topology,
    bond_cutoff,
    covalent_bonds,
    find_topology,
)


class Seeder:
    """Covalent fragments and per-level seeds of structures, cached by bond graph.

    Args:
        hops: hop radii of the coarse levels' seeding (empty: fragments only, e.g. for
            fragment-neutral latent charges).
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
    """

    def __init__(
        self,
        hops: Sequence[int] = (),
        *,
        seeding: str = "symmetric",
        follow: bool = False,
        cache_size: int = 256,
    ) -> None:
        if seeding not in SEEDINGS:
            raise ValueError(f"seeding must be one of {SEEDINGS}, got {seeding!r}")
        self.hops = tuple(int(h) for h in hops)
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

    def topology(self, atoms: Atoms, edges=None, edge_cutoff: float = 0.0) -> Topology:
        """Fragments and seeds of ``atoms``.

        Cached by element list and covalent bond graph (periodic shifts included), plus, for
        legacy seeding without ``follow``, the exact positions and cell.

        ``edges``: this structure's neighbour list (``edge_index``, ``shifts``) with cutoff
        ``edge_cutoff`` (Å), reused for the bonds when that cutoff is long enough.
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
        if edges is not None and edge_cutoff < bond_cutoff(atoms.numbers):
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
