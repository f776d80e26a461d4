r"""PaiNN, the polarizable atom interaction neural network, as a MuSE backbone.

Schütt, Unke, Gastegger, "Equivariant message passing for the prediction of tensorial
properties and molecular spectra", ICML 2021 (arXiv:2102.03150).

Each node carries scalars :math:`\mathbf{s}_i \in \mathbb{R}^F` and vectors
:math:`\vec{\mathbf{v}}_i \in \mathbb{R}^{3\times F}`. Message (eq. 7-8 of the paper):

.. math::
    \Delta \mathbf{s}_i = \sum_j \phi_s(\mathbf{s}_j) \circ \mathcal{W}_s(r_{ij}),\quad
    \Delta \vec{\mathbf{v}}_i = \sum_j \vec{\mathbf{v}}_j \circ \phi_{vv}(\mathbf{s}_j)
    \circ \mathcal{W}_{vv}(r_{ij}) + \phi_{vs}(\mathbf{s}_j) \circ \mathcal{W}_{vs}(r_{ij})
    \frac{\vec{r}_{ij}}{r_{ij}}

with filters :math:`\mathcal{W}` linear in a Bessel basis times a smooth envelope. Update
(eq. 9-11): with :math:`\mathbf{U}, \mathbf{V}` channel-mixing matrices,

.. math::
    \Delta \vec{\mathbf{v}}_i = \mathbf{a}_{vv} \circ \mathbf{U}\vec{\mathbf{v}}_i,\quad
    \Delta \mathbf{s}_i = \mathbf{a}_{ss} + \mathbf{a}_{sv} \circ
    \langle \mathbf{U}\vec{\mathbf{v}}_i, \mathbf{V}\vec{\mathbf{v}}_i \rangle

where :math:`\mathbf{a} = \mathrm{MLP}(\mathbf{s}_i, \|\mathbf{V}\vec{\mathbf{v}}_i\|)`.
Deviation from the paper: the cosine cutoff is replaced by a polynomial envelope so that
Hessians are continuous at the cutoff, and the vector norm is replaced by the smooth norm
:math:`\sqrt{\|x\|^2 + 1} - 1` (``vector_norm="smooth"``), whose second derivative is bounded
by 1 everywhere. The usual regularised :math:`\sqrt{\|x\|^2 + \epsilon}` with a tiny
:math:`\epsilon` has curvature :math:`1/\sqrt{\epsilon}` wherever vector features vanish,
which they do at symmetric minima and on symmetry axes: Hessians there disagree with any
finite-difference step larger than :math:`\sqrt{\epsilon}`. That form (``ε = 1e-8``) survives
only as ``vector_norm="legacy"`` for model files saved before 2026-12.
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import MessagePassing

from muse_explore.backbones.coarse_embedding import CoarseEmbedding
from muse_explore.backbones.contract import Backbone, GeometricGraph, NodeState
from muse_explore.backbones.radial import BesselBasis, polynomial_envelope

#: Vector-norm forms: the smooth one, and the ε-regularised one of format-1 model files.
VECTOR_NORMS = ("smooth", "legacy")
_LEGACY_EPS = 1e-8


def vector_norm(x: torch.Tensor, form: str = "smooth") -> torch.Tensor:
    r"""Norm over dim 1 with bounded curvature: :math:`\sqrt{\|x\|^2 + 1} - 1`.

    ``form="legacy"`` gives :math:`\sqrt{\|x\|^2 + 10^{-8}}` (see the module docstring).

    Shapes:
        x (n, 3, F) -> (n, F).
    """
    sq = x.pow(2).sum(dim=1)
    if form == "legacy":
        return torch.sqrt(sq + _LEGACY_EPS)
    return torch.sqrt(sq + 1.0) - 1.0


class PaiNNMessage(MessagePassing):
    r"""Equivariant message block.

    Shapes:
        s (n, F), v (n, 3, F), edge_index (2, E), basis (E, K + 1), unit (E, 3)
        -> (Δs (n, F), Δv (n, 3, F)).

    ``basis`` is the enveloped radial basis of :func:`enveloped_basis`, shared by all blocks of
    a level. Two rewrites of eq. 7-8 keep fewer (E × F) tensors alive for the backward pass
    (forces), with the same parameters and the same numbers:

    - the filter is (W rbf + b) u(r) = [rbf u, u] · [W | b]: one product with the shared
      basis instead of a linear layer followed by a separate envelope product;
    - the factor :math:`\vec{\mathbf{v}}_j \circ \phi_{vv}(\mathbf{s}_j)` depends on the
      sending node only, so it is formed on the n nodes before the gather to the E edges.

    Per edge the backward pass then keeps 9F numbers per block instead of 15F.
    """

    def __init__(self, hidden: int, num_rbf: int) -> None:
        super().__init__(aggr="add", node_dim=0)
        self.hidden = hidden
        self.phi = nn.Sequential(
            nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 3 * hidden)
        )
        self.filter = nn.Linear(num_rbf, 3 * hidden)

    def forward(self, s, v, edge_index, basis, unit):
        n, f = s.shape
        w = basis @ torch.cat([self.filter.weight, self.filter.bias.unsqueeze(-1)], dim=1).T
        phi_s, phi_vv, phi_vs = torch.split(self.phi(s), f, dim=-1)
        vv = (v * phi_vv.unsqueeze(1)).reshape(n, 3 * f)
        # three separate gathers: their backward passes are index-adds into (n, ·) tensors,
        # where slices of one gathered (E, 5F) tensor would each zero-fill an (E, 5F) gradient
        out = self.propagate(edge_index, a=phi_s, b=phi_vs, c=vv, w=w, unit=unit)
        return out[:, :f], out[:, f:].reshape(n, 3, f)

    def message(self, a_j, b_j, c_j, w, unit):
        f = self.hidden
        w_s, w_vv, w_vs = torch.split(w, f, dim=-1)
        radial = (b_j * w_vs).unsqueeze(1) * unit.unsqueeze(-1)
        dv = c_j.reshape(-1, 3, f) * w_vv.unsqueeze(1) + radial
        return torch.cat([a_j * w_s, dv.reshape(-1, 3 * f)], dim=-1)


def enveloped_basis(rbf: torch.Tensor, envelope: torch.Tensor) -> torch.Tensor:
    """[rbf · u, u]: (E, K), (E,) -> (E, K + 1), the input of every :class:`PaiNNMessage` filter."""
    envelope = envelope.unsqueeze(-1)
    return torch.cat([rbf * envelope, envelope], dim=-1)


class PaiNNUpdate(nn.Module):
    """Equivariant update block (channel mixing within each node).

    Shapes:
        s (n, F), v (n, 3, F) -> (Δs (n, F), Δv (n, 3, F)).
    """

    def __init__(self, hidden: int, norm: str = "smooth") -> None:
        super().__init__()
        self.hidden = hidden
        self.norm = norm
        self.U = nn.Linear(hidden, hidden, bias=False)
        self.V = nn.Linear(hidden, hidden, bias=False)
        self.mlp = nn.Sequential(
            nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, 3 * hidden)
        )

    def forward(self, s, v):
        uv, vv = self.U(v), self.V(v)
        norm = vector_norm(vv, self.norm)
        a_vv, a_sv, a_ss = torch.split(self.mlp(torch.cat([s, norm], dim=-1)), self.hidden, dim=-1)
        return a_ss + a_sv * (uv * vv).sum(dim=1), a_vv.unsqueeze(1) * uv


class PaiNN(Backbone):
    """PaiNN on one level of a MuSE hierarchy (or alone).

    Args:
        atomic_numbers: Z of the atom level's species (in species order); ``None`` builds a
            coarse level, whose nodes are embedded from pooled features.
        cutoff: radius in Å.
        hidden: F, feature channels.
        num_interactions: message + update blocks on this level.
        num_rbf: Bessel functions in the radial filters.
        vector_norm: ``"smooth"`` (default) or ``"legacy"`` (see the module docstring).
    """

    def __init__(
        self,
        atomic_numbers: list[int] | None,
        cutoff: float,
        *,
        hidden: int = 64,
        num_interactions: int = 3,
        num_rbf: int = 20,
        vector_norm: str = "smooth",
    ) -> None:
        super().__init__()
        if vector_norm not in VECTOR_NORMS:
            raise ValueError(f"vector_norm must be one of {VECTOR_NORMS}, got {vector_norm!r}")
        self.cutoff = float(cutoff)
        self.scalar_dim = hidden
        self.equivariant_shape = (3, hidden)
        if atomic_numbers is not None:
            self.embedding = nn.Embedding(len(atomic_numbers), hidden)
        else:
            self.coarse_embedding = CoarseEmbedding(hidden)
        self.rbf = BesselBasis(cutoff, num_rbf)
        self.messages = nn.ModuleList(
            PaiNNMessage(hidden, num_rbf) for _ in range(num_interactions)
        )
        self.updates = nn.ModuleList(
            PaiNNUpdate(hidden, vector_norm) for _ in range(num_interactions)
        )
        self.energy = nn.Sequential(
            nn.Linear(hidden, hidden // 2), nn.SiLU(), nn.Linear(hidden // 2, 1)
        )

    def edge_bytes(self, itemsize: int) -> float:
        # measured (benchmarks/memory.py): about 28 values per edge, channel and block
        return 32.0 * self.scalar_dim * itemsize * len(self.messages)

    def embed_atoms(self, species: torch.Tensor) -> NodeState:
        s = self.embedding(species)
        return NodeState(s, s.new_zeros(s.shape[0], 3, self.scalar_dim))

    def embed_coarse(self, pooled: NodeState, weight: torch.Tensor) -> NodeState:
        s = self.coarse_embedding(pooled.scalar, weight)
        v = pooled.equivariant
        if v is None:
            v = s.new_zeros(s.shape[0], 3, self.scalar_dim)
        return NodeState(s, v)

    def interact(self, state: NodeState, graph: GeometricGraph) -> NodeState:
        s, v = state.scalar, state.equivariant
        env = polynomial_envelope(graph.lengths / self.cutoff)
        if graph.edge_weight is not None:
            env = env * graph.edge_weight  # every filter, hence every message, is linear in env
        basis = enveloped_basis(self.rbf(graph.lengths), env)
        unit = graph.vectors / graph.lengths.clamp_min(1e-9).unsqueeze(-1)
        for message, update in zip(self.messages, self.updates, strict=True):
            ds, dv = message(s, v, graph.edge_index, basis, unit)
            s, v = s + ds, v + dv
            ds, dv = update(s, v)
            s, v = s + ds, v + dv
        return NodeState(s, v)

    def readout(self, state: NodeState) -> torch.Tensor:
        return self.energy(state.scalar).squeeze(-1)
