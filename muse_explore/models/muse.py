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
from dataclasses import dataclass

import torch
from ase.data import atomic_numbers
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.utils import scatter

from muse_explore.backbones import build_backbone
from muse_explore.backbones.contract import GeometricGraph
from muse_explore.data.graph import AtomsToGraph
from muse_explore.data.neighbors import edge_vectors
from muse_explore.errors import MuSEConfigError, MuSEInputError
from muse_explore.models.config import MuSEConfig
from muse_explore.models.heads import ElementShift
from muse_explore.models.latent_ewald import LatentEwald
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
        positions: per level, (K_l, 3) node positions (atoms first).
        batches: per level, (K_l,) structure index of each node.
        anchors: per level, (K_l,) atom index of each node's seed atom.
    """

    energy: torch.Tensor
    scale_energies: torch.Tensor
    atom_energies: torch.Tensor
    node_energies: list[torch.Tensor]
    assignments: list[Assignment]
    positions: list[torch.Tensor]
    batches: list[torch.Tensor]
    anchors: list[torch.Tensor]


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
                    [atomic_numbers[e] for e in c.elements] if level == 0 else None,
                    c.cutoffs[level],
                    hidden=c.hidden,
                    num_interactions=c.num_interactions[level],
                    **c.backbone_kwargs,
                )
                for level in range(c.levels + 1)
            )
            self._check_state_shapes()
            width = self.backbones[0].scalar_dim  # the backbone owns its width
            self.assignments = nn.ModuleList(
                SoftAssignment(
                    width,
                    c.assign_radius[level],
                    c.sigma[level],
                    temperature=c.temperature,
                    hard=c.hard,
                )
                for level in range(c.levels)
            )
            self.unpool_maps = nn.ModuleList(nn.Linear(width, width) for _ in range(c.levels))
            self.shift = ElementShift([c.energy_shifts.get(e, 0.0) for e in c.elements])
            self.zbl = ZBL() if c.zbl else None
            self.long_range = (
                LatentEwald(width, c.long_range_sigma, c.long_range_neutral)
                if c.long_range == "les"
                else None
            )
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
        """Number of coarse levels L."""
        return self.config.levels

    @property
    def cutoff(self) -> float:
        """Atom-level cutoff in Å."""
        return self.config.cutoffs[0]

    @property
    def elements(self) -> list[str]:
        """Chemical symbols this model knows."""
        return list(self.config.elements)

    def graph_converter(
        self, dtype: torch.dtype | None = None, *, follow: bool = False
    ) -> AtomsToGraph:
        """The :class:`AtomsToGraph` that prepares structures for this model.

        ``follow`` matters only for legacy models (see :class:`AtomsToGraph`): with symmetric
        seeding a structure's graph is the same whatever was converted before.
        """
        c = self.config
        neutral = c.long_range == "les" and c.long_range_neutral == "fragment"
        seeder = Seeder(c.hops, seeding=c.seeding, follow=follow) if c.hops or neutral else None
        return AtomsToGraph(
            self.cutoff,
            elements=self.elements,
            seeder=seeder,
            dtype=dtype,
            reach=max(c.cutoffs),
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
        the temperature and the soft/hard switch always apply to every level. The config is
        updated too, so a saved model keeps these settings.
        """
        if level is not None and not 1 <= level <= self.levels:
            raise ValueError(f"level must be in 1..{self.levels}, got {level}")
        if sigma is not None and sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        if temperature is not None and temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        for lev, a in enumerate(self.assignments, start=1):
            if sigma is not None and level in (None, lev):
                a.sigma = float(sigma)
            if temperature is not None:
                a.temperature = float(temperature)
            if hard is not None:
                a.hard = bool(hard)
        c = self.config
        c.sigma = tuple(a.sigma for a in self.assignments)
        if temperature is not None:
            c.temperature = float(temperature)
        if hard is not None:
            c.hard = bool(hard)

    def set_energy_shifts(self, shifts: dict[str, float]) -> None:
        """Set per-element energy shifts in eV (elements not given keep a zero shift)."""
        unknown = set(shifts) - set(self.elements)
        if unknown:
            raise ValueError(f"energy shifts for elements not in the model: {sorted(unknown)}")
        self.config.energy_shifts = {k: float(v) for k, v in shifts.items()}
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

    def forward(self, batch: Batch) -> MuSEOutput:
        """Energies and all intermediate quantities of a batch from :meth:`graph_converter`."""
        species = self.species(batch.z)
        num_graphs = int(batch.num_graphs)
        vectors = edge_vectors(batch.pos, batch.edge_index, batch.shifts, batch.cell, batch.batch)
        graph = GeometricGraph(
            batch.pos,
            batch.edge_index,
            vectors,
            torch.linalg.norm(vectors, dim=-1),
            batch.batch,
            num_graphs,
            self.cutoff,
        )
        state = self.backbones[0].interact(self.backbones[0].embed_atoms(species), graph)
        graphs, states, assigns = [graph], [state], []
        anchors = [torch.arange(batch.z.shape[0], device=batch.z.device)]
        if self.levels:
            if any(getattr(batch, k, None) is None for k in ("seed_mask", "copy_offset")):
                raise MuSEInputError(
                    "this batch has no coarse seeds (or was built by an older muse_explore): "
                    "build it with model.graph_converter()"
                )
            copies = FragmentCopies(
                batch.fragment, batch.copy_offset, batch.copy_span, batch.cell, batch.batch
            )
        for level in range(1, self.levels + 1):
            fine_graph = graphs[-1]
            seed_nodes = torch.nonzero(batch.seed_mask[anchors[-1], level - 1]).flatten()
            pairs = candidate_pairs(
                fine_graph,
                seed_nodes,
                copies.select(anchors[-1]),
                self.config.assign_radius[level - 1],
            )
            s = self.assignments[level - 1](states[-1].scalar, *pairs, seed_nodes)
            pos = coarse_positions(fine_graph.pos, seed_nodes, s)
            coarse_graph = radius_graph(
                pos,
                fine_graph.batch[seed_nodes],
                batch.cell,
                batch.pbc,
                self.config.cutoffs[level],
                num_graphs,
            )
            backbone = self.backbones[level]
            state = backbone.interact(
                backbone.embed_coarse(pool(states[-1], s), s.mass), coarse_graph
            )
            graphs.append(coarse_graph)
            states.append(state)
            assigns.append(s)
            anchors.append(anchors[-1][seed_nodes])
        for level in range(self.levels, 0, -1):
            states[level - 1] = unpool(
                states[level - 1], states[level], assigns[level - 1], self.unpool_maps[level - 1]
            )
        node_energies = [b.readout(st) for b, st in zip(self.backbones, states, strict=True)]
        atom_level = node_energies[0] + self.shift(species, node_energies[0].dtype)
        if self.zbl is not None:
            atom_level = atom_level + self.zbl(batch.z, graph.edge_index, graph.lengths)
        if self.long_range is not None:
            atom_level = atom_level + self.long_range(
                states[0].scalar,
                graph.pos,
                graph.batch,
                batch.pbc,
                batch.cell,
                getattr(batch, "fragment", None),
            )
        node_energies[0] = atom_level
        scale = torch.stack(
            [
                scatter(e, g.batch, 0, dim_size=num_graphs, reduce="sum")
                for e, g in zip(node_energies, graphs, strict=True)
            ],
            dim=-1,
        )
        carry = node_energies[-1]
        for level in range(self.levels, 0, -1):
            carry = node_energies[level - 1] + distribute(carry, assigns[level - 1])
        return MuSEOutput(
            energy=scale.sum(-1),
            scale_energies=scale,
            atom_energies=carry,
            node_energies=node_energies,
            assignments=assigns,
            positions=[g.pos for g in graphs],
            batches=[g.batch for g in graphs],
            anchors=anchors,
        )

    def backbone_only(self) -> MuSE:
        """The same model with its coarse levels dropped (atom level, shifts, ZBL and LES kept).

        Shows what the coarse levels add; the copy has its own (copied) weights.
        """
        d = self.config.to_dict() | {"levels": 0, "hops": [], "assign_radius": [], "sigma": []}
        d["cutoffs"] = d["cutoffs"][:1]
        d["num_interactions"] = d["num_interactions"][:1]
        base = MuSE(MuSEConfig.from_dict(d))
        own = self.state_dict()
        base.load_state_dict({k: own[k].clone() for k in base.state_dict()})
        p = next(self.parameters())
        return base.to(device=p.device, dtype=p.dtype)

    def save(self, path) -> None:
        """Write config, weights and version to one file (atomically)."""
        from muse_explore.models.serialization import save_model

        save_model(self, path)
