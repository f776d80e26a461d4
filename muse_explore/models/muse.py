"""MuSE, the Multiscale Structural Ensemble: a backbone run on a hierarchy of soft coarse graphs.

Solé, Suárez-Dou, Mosella-Montoro, Gómez-Coca, Ruiz, Tkatchenko, Ruiz-Hidalgo, "Machine Learning
Multiscale Interactions", arXiv:2605.25710 (2026). The equations and design choices are in
docs/method.md.

Forward pass, for levels l = 0 (atoms), 1, ..., L:

1. level 0: the backbone embeds the atoms and runs its interaction blocks on the atom graph;
2. level l >= 1: the soft assignment S_l maps level l-1 nodes onto level-l nodes; coarse
   positions are S-weighted centroids, coarse features the S-weighted means; the level-l
   backbone embeds them and runs its blocks on a graph with a longer cutoff;
3. going back down, each level receives its coarse level's features through S (unpooling);
4. every level reads out per-node energies; the energy is their sum over all levels and nodes,
   plus per-element shifts and optional ZBL repulsion.

With ``levels = 0`` this is the plain backbone: the baseline for every comparison.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace

import torch
from ase.data import atomic_numbers
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.utils import scatter

from muse_explore.backbones import build_backbone
from muse_explore.backbones.contract import GeometricGraph, NodeState
from muse_explore.data.graph import AtomsToGraph
from muse_explore.data.neighbors import edge_vectors
from muse_explore.errors import MuSEConfigError, MuSEInputError
from muse_explore.models.config import MuSEConfig
from muse_explore.models.file_format import save_model
from muse_explore.models.heads import ElementShift
from muse_explore.models.latent_ewald import LatentEwald
from muse_explore.models.outputs import AtomLevel
from muse_explore.models.zbl import ZBL
from muse_explore.pooling import (
    Assignment,
    FragmentCopies,
    SoftAssignment,
    candidate_pairs,
    coarse_positions,
    distribute,
    pool,
    radius_graph,
    unpool,
)
from muse_explore.pooling.seeder import Seeder


@dataclass
class MuSEOutput:
    """What one forward pass returns (B structures, n atoms, K_l nodes on level l).

    Attributes:
        energy: (B,) total energies in eV.
        scale_energies: (B, L+1) energy of each level, atoms first (shifts, ZBL and LES in
            the atom level); rows sum to ``energy``.
        atom_energies: (n,) per-atom energies; coarse nodes' energies are shared among their
            atoms in proportion to S, so they sum to ``energy``.
        node_energies: per level, (K_l,) energies of the nodes of that level.
        assignments: per coarse level, the sparse assignment of level l-1 nodes to level l.
        positions: per level, (K_l, 3) node positions (atoms first), in the structure's own
            coordinates (the graph's ``origin`` added back).
        batches: per level, (K_l,) structure index of each node.
        anchors: per level, (K_l,) atom index of each node's seed atom.
        node_atoms: per level, (K_l,) how many atoms each node stands for, the S-weighted sum
            of its members' counts (1 for an atom; a structure's nodes add up to its atom
            count on every level). With ``mass_weighted`` they scale the coarse levels.
        reach: per coarse level, (K_l, 2) what each node sees within its level's cutoff,
            itself included: the atoms its neighbours and it stand for, and their number of
            nodes (detached). The trainer records their maxima over the training data
            (``MuSE.trained_reach``); :mod:`muse_explore.calc.reach` compares them.
    """

    energy: torch.Tensor
    scale_energies: torch.Tensor
    atom_energies: torch.Tensor
    node_energies: list[torch.Tensor]
    assignments: list[Assignment]
    positions: list[torch.Tensor]
    batches: list[torch.Tensor]
    anchors: list[torch.Tensor]
    node_atoms: list[torch.Tensor]
    reach: list[torch.Tensor]


@dataclass
class _Hierarchy:
    """The levels built so far in one forward pass (atoms first)."""

    graphs: list[GeometricGraph]
    states: list[NodeState]
    anchors: list[torch.Tensor]
    #: per level, (K_l,) the number of atoms each node stands for (sum of S-weighted members)
    atoms: list[torch.Tensor]
    assigns: list[Assignment] = field(default_factory=list)
    #: per coarse level, (K_l, 2) atoms and nodes within each node's cutoff (itself included)
    reach: list[torch.Tensor] = field(default_factory=list)


class MuSE(nn.Module):
    """The MuSE model (see the module docstring); build it with :func:`muse_explore.build_model`.

    Args:
        config: a :class:`MuSEConfig`.
    """

    def __init__(self, config: MuSEConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        rng = torch.random.fork_rng() if c.seed is not None else contextlib.nullcontext()
        with rng:
            if c.seed is not None:
                torch.manual_seed(c.seed)
            species = torch.full((119,), -1, dtype=torch.long)
            for k, symbol in enumerate(c.elements):
                species[atomic_numbers[symbol]] = k
            self.register_buffer("species_index", species, persistent=False)
            self.backbones = nn.ModuleList(
                build_backbone(
                    c.backbone,
                    [atomic_numbers[e] for e in c.elements] if k == 0 else None,
                    level.cutoff,
                    hidden=c.hidden,
                    num_interactions=level.num_interactions,
                    **c.backbone_kwargs,
                )
                for k, level in enumerate(c.levels)
            )
            self._check_state_shapes()
            width = self.backbones[0].scalar_dim  # the backbone owns its width
            L = c.coarse_levels
            self.assignments = nn.ModuleList(
                SoftAssignment(width, normalize=c.assignment_norm) for _ in range(L)
            )
            self.unpool_maps = nn.ModuleList(nn.Linear(width, width) for _ in range(L))
            self.shift = ElementShift([c.energy_shifts.get(e, 0.0) for e in c.elements])
            self.zbl = ZBL() if c.zbl else None
            self.long_range = (
                LatentEwald(width, c.long_range_sigma, c.long_range_neutral)
                if c.long_range == "les"
                else None
            )
        #: per coarse level, the most [atoms, nodes] any node saw within its cutoff in
        #: training (:attr:`MuSEOutput.reach`); ``None`` where unknown. Saved with the model.
        self.trained_reach: list[list[float]] | None = None
        self.apply_freeze()

    def apply_freeze(self) -> None:
        """Set ``requires_grad`` of the atom level's weights from ``config.freeze_atoms``."""
        for p in self.backbones[0].parameters():
            p.requires_grad_(not self.config.freeze_atoms)

    def _check_state_shapes(self) -> None:
        """Refuse, at build time, levels whose node states cannot be pooled into each other.

        Every level must share one state shape, and the scalar width the backbone actually
        has must be ``config.hidden``: a MACE ``hidden_irreps`` with another number of
        scalar channels would otherwise build and fail mid-forward with a shape mismatch.
        """
        c = self.config
        for level, b in enumerate(self.backbones):
            if b.scalar_dim != c.hidden:
                detail = ""
                if "hidden_irreps" in c.backbone_kwargs:
                    detail = f" (hidden_irreps {c.backbone_kwargs['hidden_irreps']!r})"
                raise MuSEConfigError(
                    f"hidden={c.hidden}, but the {c.backbone} backbone of level {level} has "
                    f"{b.scalar_dim} scalar channels{detail}: set hidden={b.scalar_dim} or "
                    "change the backbone's hyperparameters to match"
                )
        shapes = {(b.scalar_dim, b.equivariant_shape) for b in self.backbones}
        if len(shapes) != 1:
            raise MuSEConfigError(
                f"all levels of a MuSE model need one node-state shape, got {sorted(shapes)}"
            )

    @property
    def levels(self) -> int:
        """Number of coarse levels L (``len(config.levels) - 1``)."""
        return self.config.coarse_levels

    @property
    def cutoff(self) -> float:
        """Atom-level cutoff in Å."""
        return self.config.levels[0].cutoff

    @property
    def elements(self) -> list[str]:
        """Chemical symbols this model knows."""
        return list(self.config.elements)

    def graph_converter(
        self, dtype: torch.dtype | None = None, *, follow: bool = False, skin: float = 0.0
    ) -> AtomsToGraph:
        """The :class:`AtomsToGraph` that prepares structures for this model.

        ``follow`` matters only for legacy models (see :class:`AtomsToGraph`): with symmetric
        seeding a structure's graph is the same whatever was converted before. ``skin`` (Å)
        gives the converter a Verlet buffer for MD (:class:`AtomsToGraph`).
        """
        c = self.config
        neutral = c.long_range == "les" and c.long_range_neutral == "fragment"
        hops = tuple(level.hops for level in c.levels[1:])
        seeder = Seeder(hops, seeding=c.seeding, follow=follow) if hops or neutral else None
        return AtomsToGraph(
            self.cutoff,
            elements=self.elements,
            seeder=seeder,
            dtype=dtype,
            reach=max(c.cutoffs),
            skin=skin,
        )

    def set_pooling(
        self,
        *,
        sigma: float | None = None,
        temperature: float | None = None,
        hard: bool | None = None,
        level: int | None = None,
    ) -> None:
        """Change σ (Å), the temperature or soft/hard assignment at inference time.

        ``level`` (1..L) applies ``sigma`` to one coarse level only (``None``: all levels);
        the temperature and the soft/hard switch always apply to every level. The model gets a
        new config (:meth:`MuSEConfig.with_pooling`), its one owner of these settings, so a
        saved model keeps them and a config shared with another model is left alone.
        """
        config = self.config.with_pooling(sigma=sigma, level=level)
        self.config = config.with_pooling(temperature=temperature, hard=hard)

    def set_energy_shifts(self, shifts: dict[str, float]) -> None:
        """Set per-element energy shifts in eV (elements not given keep a zero shift)."""
        unknown = set(shifts) - set(self.elements)
        if unknown:
            raise ValueError(f"energy shifts for elements not in the model: {sorted(unknown)}")
        self.config = replace(self.config, energy_shifts={k: float(v) for k, v in shifts.items()})
        self.shift.set([self.config.energy_shifts.get(e, 0.0) for e in self.elements])

    def species(self, z: torch.Tensor) -> torch.Tensor:
        """Species index of each atomic number; unknown elements raise a clear error."""
        if z.numel() and (z.min() < 0 or z.max() >= self.species_index.numel()):
            raise MuSEInputError(f"atomic numbers out of range: {z.min().item()}..{z.max().item()}")
        s = self.species_index[z]
        if (s < 0).any():
            from ase.data import chemical_symbols

            bad = sorted({chemical_symbols[int(k)] for k in z[s < 0]})
            raise MuSEInputError(
                f"unknown element {', '.join(bad)}: this model knows only "
                f"{', '.join(self.elements)}"
            )
        return s

    @property
    def outputs(self) -> list[nn.Module]:
        """The atom-level output modules, in order: shifts, then ZBL and LES when present."""
        return [m for m in (self.shift, self.zbl, self.long_range) if m is not None]

    def forward(self, batch: Batch) -> MuSEOutput:
        """Energies and all intermediate quantities of a batch from :meth:`graph_converter`.

        Atom level, then for each coarse level: coarsen and interact; then refine back down,
        read out every level and add the output modules to the atoms' energies.
        """
        species = self.species(batch.z)
        graph = self._atom_graph(batch)
        first = self.backbones[0]
        h = _Hierarchy(
            graphs=[graph],
            states=[first.interact(first.embed_atoms(species), graph)],
            anchors=[torch.arange(batch.z.shape[0], device=batch.z.device)],
            atoms=[batch.pos.new_ones(batch.z.shape[0])],
        )
        copies = self._fragment_copies(batch) if self.levels else None
        for level in range(1, self.levels + 1):
            self._coarsen_and_interact(level, batch, copies, h)
        self._refine(h)
        atoms = AtomLevel(
            species, batch.z, graph, h.states[0].scalar, batch.pbc, batch.cell,
            getattr(batch, "fragment", None),
        )  # fmt: skip
        node_energies = [b.readout(st) for b, st in zip(self.backbones, h.states, strict=True)]
        if self.config.mass_weighted:
            node_energies[1:] = [e * a for e, a in zip(node_energies[1:], h.atoms[1:], strict=True)]
        for module in self.outputs:
            node_energies[0] = node_energies[0] + module.atom_energies(atoms)
        return self._collect(h, node_energies, batch)

    def _atom_graph(self, batch: Batch) -> GeometricGraph:
        vectors = edge_vectors(batch.pos, batch.edge_index, batch.shifts, batch.cell, batch.batch)
        return GeometricGraph(
            batch.pos,
            batch.edge_index,
            vectors,
            torch.linalg.norm(vectors, dim=-1),
            batch.batch,
            int(batch.num_graphs),
            self.cutoff,
        )

    @staticmethod
    def _fragment_copies(batch: Batch) -> FragmentCopies:
        if any(getattr(batch, k, None) is None for k in ("seed_mask", "copy_offset")):
            raise MuSEInputError(
                "this batch has no coarse seeds (or was built by an older muse_explore): "
                "build it with model.graph_converter()"
            )
        return FragmentCopies(
            batch.fragment, batch.copy_offset, batch.copy_span, batch.cell, batch.batch
        )

    def _coarsen_and_interact(
        self, level: int, batch: Batch, copies: FragmentCopies, h: _Hierarchy
    ) -> None:
        """Level ``level``: assign the level below to its seeds, pool, and run its backbone."""
        settings = self.config.levels[level]
        fine_graph = h.graphs[-1]
        seed_nodes = torch.nonzero(batch.seed_mask[h.anchors[-1], level - 1]).flatten()
        pairs = candidate_pairs(
            fine_graph, seed_nodes, copies.select(h.anchors[-1]), settings.assign_radius
        )
        s = self.assignments[level - 1](
            h.states[-1].scalar,
            *pairs,
            seed_nodes,
            radius=settings.assign_radius,
            sigma=settings.sigma,
            temperature=settings.temperature,
            hard=self.config.hard,
        )
        pos = coarse_positions(fine_graph.pos, seed_nodes, s)
        # how many atoms each node stands for: S-weighted sums of the members' counts
        atoms = scatter(
            s.weight * h.atoms[-1][s.fine], s.coarse, 0, dim_size=s.num_coarse, reduce="sum"
        )
        coarse_graph = radius_graph(
            pos,
            fine_graph.batch[seed_nodes],
            batch.cell,
            batch.pbc,
            settings.cutoff,
            int(batch.num_graphs),
        )
        if self.config.mass_weighted:
            coarse_graph.edge_weight = atoms[coarse_graph.edge_index[0]]
        backbone = self.backbones[level]
        state = backbone.interact(
            backbone.embed_coarse(pool(h.states[-1], s, normalise=self.config.pool_norm), s.mass),
            coarse_graph,
        )
        h.graphs.append(coarse_graph)
        h.states.append(state)
        h.assigns.append(s)
        h.anchors.append(h.anchors[-1][seed_nodes])
        h.atoms.append(atoms)
        h.reach.append(_reach(atoms, coarse_graph.edge_index))

    def _refine(self, h: _Hierarchy) -> None:
        """Going back down: each level receives its coarse level's features through S."""
        for level in range(self.levels, 0, -1):
            h.states[level - 1] = unpool(
                h.states[level - 1], h.states[level], h.assigns[level - 1],
                self.unpool_maps[level - 1], share=self.config.unpool == "share",
            )  # fmt: skip

    def _collect(self, h: _Hierarchy, node_energies: list, batch: Batch) -> MuSEOutput:
        """Per-scale totals, and coarse energies shared out to the atoms through S."""
        num_graphs = int(batch.num_graphs)
        scale = torch.stack(
            [
                scatter(e, g.batch, 0, dim_size=num_graphs, reduce="sum")
                for e, g in zip(node_energies, h.graphs, strict=True)
            ],
            dim=-1,
        )
        carry = node_energies[-1]
        for level in range(self.levels, 0, -1):
            carry = node_energies[level - 1] + distribute(carry, h.assigns[level - 1])
        return MuSEOutput(
            energy=scale.sum(-1),
            scale_energies=scale,
            atom_energies=carry,
            node_energies=node_energies,
            assignments=h.assigns,
            positions=[_placed(g, batch) for g in h.graphs],
            batches=[g.batch for g in h.graphs],
            anchors=h.anchors,
            node_atoms=h.atoms,
            reach=h.reach,
        )

    def backbone_only(self) -> MuSE:
        """The same model with its coarse levels dropped (atom level, shifts, ZBL and LES kept).

        Shows what the coarse levels add; the copy has its own (copied) weights.
        """
        base = MuSE(self.config.backbone_only())
        own = self.state_dict()
        base.load_state_dict({k: own[k].clone() for k in base.state_dict()})
        p = next(self.parameters())
        return base.to(device=p.device, dtype=p.dtype)

    def save(self, path) -> None:
        """Write config, weights and version to one file (atomically)."""
        save_model(self, path)


def _reach(atoms: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """(K, 2): the atoms that each node and its neighbours stand for, and their node count."""
    with torch.no_grad():
        src, dst = edge_index
        seen = torch.stack([atoms.detach(), torch.ones_like(atoms)], dim=-1)
        return seen + scatter(seen[src], dst, 0, dim_size=atoms.shape[0], reduce="sum")


def _placed(graph: GeometricGraph, batch: Batch) -> torch.Tensor:
    """A level's node positions with the structures' ``origin`` added back.

    Graphs built without one (by hand) are taken as they are.
    """
    origin = getattr(batch, "origin", None)
    if origin is None:
        return graph.pos
    return graph.pos + origin.to(graph.pos)[graph.batch]
