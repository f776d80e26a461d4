r"""SO3krates as a MuSE backbone, in PyTorch with e3nn's spherical harmonics.

Frank, Unke, Müller, Chmiela, "A Euclidean transformer for fast and stable machine learned
force fields", Nat. Commun. 15, 6539 (2024).

Every node carries invariant features :math:`\mathbf{h}_i \in \mathbb{R}^F` and Euclidean
variables (EV) :math:`\boldsymbol{\chi}_i = (\chi_i^{(1)}, \dots, \chi_i^{(L)})`, one
spherical-harmonic vector per degree l = 1..L_max (no channels). A Euclidean transformer block:

1. per-degree invariants of the EV difference,
   :math:`d^{(l)}_{ij} = \lVert \chi^{(l)}_j - \chi^{(l)}_i \rVert^2`, and radial basis functions
   :math:`\mathbf{b}(r_{ij})` make the filters
   :math:`\mathbf{w}_{ij} = \mathrm{MLP}([\mathbf{b}, d])`;
2. feature attention
   :math:`\alpha_{ij} = \langle Q\mathbf{h}_i, \mathbf{w}_{ij} \circ K\mathbf{h}_j\rangle/\sqrt{F}`
   (per head, no softmax, times the cutoff envelope so that it is smooth and local) updates
   :math:`\Delta\mathbf{h}_i = \sum_j \alpha_{ij}\, V\mathbf{h}_j`;
3. EV attention with one head per degree updates
   :math:`\Delta\chi^{(l)}_i = \sum_j \alpha^{(l)}_{ij}\, Y^{(l)}(\hat{\mathbf{r}}_{ij})`;
4. the interaction (exchange) block mixes the two: with the per-degree invariants
   :math:`\lVert\chi^{(l)}_i\rVert^2`, an MLP gives :math:`\Delta\mathbf{h}_i` and per-degree gates
   :math:`g^{(l)}_i`, and :math:`\chi^{(l)}_i \leftarrow \chi^{(l)}_i + g^{(l)}_i\chi^{(l)}_i`;
5. all updates are residual, features are layer-normalised before each block.

Deviations (see docs/method.md): the polynomial envelope replaces the cosine cutoff (C² at the
cutoff); EVs start at zero and are built by the first block's EV attention (the paper
initialises them from neighbour spherical harmonics, which the first block does anyway);
no explicit charge or spin embeddings.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch_geometric.nn import MessagePassing

from muse_explore.backbones.coarse_embedding import CoarseEmbedding
from muse_explore.backbones.contract import Backbone, GeometricGraph, NodeState
from muse_explore.backbones.e3nn_compat import import_o3
from muse_explore.backbones.radial import BesselBasis, polynomial_envelope


def _degree_index(lmax: int) -> torch.Tensor:
    """For each of the m = sum_l (2l+1) EV components, its degree index (0 for l = 1)."""
    return torch.cat([torch.full((2 * deg + 1,), deg - 1) for deg in range(1, lmax + 1)])


def _per_degree_sq(x: torch.Tensor, degree: torch.Tensor, lmax: int) -> torch.Tensor:
    """Squared norm of each degree block: (..., m) -> (..., L)."""
    out = x.new_zeros(*x.shape[:-1], lmax)
    return out.index_add_(-1, degree, x * x)


class EuclideanAttention(MessagePassing):
    """Feature attention and EV attention of one transformer block.

    Shapes:
        h (n, F), chi (n, m), edge_index (2, E), rbf (E, K), envelope (E,), sh (E, m)
        -> (Δh (n, F), Δchi (n, m)).
    """

    def __init__(self, hidden: int, num_rbf: int, lmax: int, heads: int = 4, key_dim: int = 8):
        super().__init__(aggr="add", node_dim=0)
        if hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads})")
        self.hidden, self.lmax, self.heads, self.key_dim = hidden, lmax, heads, key_dim
        self.register_buffer("degree", _degree_index(lmax), persistent=False)
        self.q = nn.Linear(hidden, hidden, bias=False)
        self.k = nn.Linear(hidden, hidden, bias=False)
        self.v = nn.Linear(hidden, hidden, bias=False)
        self.q_ev = nn.Linear(hidden, lmax * key_dim, bias=False)
        self.k_ev = nn.Linear(hidden, lmax * key_dim, bias=False)
        self.filter = nn.Sequential(
            nn.Linear(num_rbf + lmax, hidden), nn.SiLU(), nn.Linear(hidden, hidden + lmax * key_dim)
        )

    def forward(self, h, chi, edge_index, rbf, envelope, sh):
        j, i = edge_index
        d = _per_degree_sq(chi.index_select(0, j) - chi.index_select(0, i), self.degree, self.lmax)
        w = self.filter(torch.cat([rbf, d], dim=-1)) * envelope.unsqueeze(-1)
        f = self.hidden
        out = self.propagate(
            edge_index,
            q=self.q(h),
            k=self.k(h),
            v=self.v(h),
            qe=self.q_ev(h),
            ke=self.k_ev(h),
            w=w,
            sh=sh,
        )
        return out[:, :f], out[:, f:]

    def message(self, q_i, k_j, v_j, qe_i, ke_j, w, sh):
        f, heads = self.hidden, self.heads
        w_feat, w_ev = w[:, :f], w[:, f:]
        alpha = (q_i * w_feat * k_j).reshape(-1, heads, f // heads).sum(-1) / math.sqrt(f // heads)
        dh = (alpha.unsqueeze(-1) * v_j.reshape(-1, heads, f // heads)).reshape(-1, f)
        # one EV-attention head per degree
        alpha_ev = (qe_i * w_ev * ke_j).reshape(-1, self.lmax, self.key_dim).sum(-1)
        dchi = alpha_ev.index_select(1, self.degree) / math.sqrt(self.key_dim) * sh
        return torch.cat([dh, dchi], dim=-1)


class Exchange(nn.Module):
    """Interaction block exchanging information between features and EVs (per node).

    Shapes:
        h (n, F), chi (n, m) -> (Δh (n, F), Δchi (n, m)).
    """

    def __init__(self, hidden: int, lmax: int) -> None:
        super().__init__()
        self.lmax = lmax
        self.register_buffer("degree", _degree_index(lmax), persistent=False)
        self.mlp = nn.Sequential(
            nn.Linear(hidden + lmax, hidden), nn.SiLU(), nn.Linear(hidden, hidden + lmax)
        )

    def forward(self, h, chi):
        inv = _per_degree_sq(chi, self.degree, self.lmax)
        out = self.mlp(torch.cat([h, inv], dim=-1))
        dh, gate = out[:, : h.shape[1]], out[:, h.shape[1] :]
        return dh, gate.index_select(1, self.degree) * chi


class SO3krates(Backbone):
    """SO3krates on one level of a MuSE hierarchy (or alone).

    Args:
        atomic_numbers: Z of the atom level's species; ``None`` builds a coarse level.
        cutoff: radius in Å.
        hidden: F, invariant feature channels (divisible by ``heads`` and by ``lmax``).
        num_interactions: Euclidean transformer blocks on this level.
        lmax: highest degree of the Euclidean variables.
        heads: feature-attention heads.
        num_rbf: radial basis functions.
    """

    def __init__(
        self,
        atomic_numbers: list[int] | None,
        cutoff: float,
        *,
        hidden: int = 64,
        num_interactions: int = 2,
        lmax: int = 3,
        heads: int = 4,
        num_rbf: int = 16,
    ) -> None:
        super().__init__()
        o3 = import_o3()
        self.cutoff = float(cutoff)
        self.lmax = lmax
        self.scalar_dim = hidden
        self.equivariant_shape = ((lmax + 1) ** 2 - 1, 1)
        self.sh = o3.SphericalHarmonics(
            o3.Irreps.spherical_harmonics(lmax)[1:], normalize=True, normalization="norm"
        )
        if atomic_numbers is not None:
            self.embedding = nn.Embedding(len(atomic_numbers), hidden)
        else:
            self.coarse_embedding = CoarseEmbedding(hidden)
        self.rbf = BesselBasis(cutoff, num_rbf)
        self.attention = nn.ModuleList(
            EuclideanAttention(hidden, num_rbf, lmax, heads) for _ in range(num_interactions)
        )
        self.exchange = nn.ModuleList(Exchange(hidden, lmax) for _ in range(num_interactions))
        self.norm_att = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(num_interactions))
        self.norm_ex = nn.ModuleList(nn.LayerNorm(hidden) for _ in range(num_interactions))
        self.energy = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1))

    def edge_bytes(self, itemsize: int) -> float:
        # measured (benchmarks/memory.py): about 20 values per edge, channel and block
        return 24.0 * self.scalar_dim * itemsize * len(self.attention)

    def embed_atoms(self, species: torch.Tensor) -> NodeState:
        h = self.embedding(species)
        return NodeState(h, h.new_zeros(h.shape[0], self.equivariant_shape[0], 1))

    def embed_coarse(self, pooled: NodeState, weight: torch.Tensor) -> NodeState:
        h = self.coarse_embedding(pooled.scalar, weight)
        chi = pooled.equivariant
        if chi is None:
            chi = h.new_zeros(h.shape[0], self.equivariant_shape[0], 1)
        return NodeState(h, chi)

    def interact(self, state: NodeState, graph: GeometricGraph) -> NodeState:
        h, chi = state.scalar, state.equivariant[..., 0]
        rbf = self.rbf(graph.lengths)
        env = polynomial_envelope(graph.lengths / self.cutoff)
        if graph.edge_weight is not None:
            env = env * graph.edge_weight  # both attentions' filters are linear in env
        sh = self.sh(graph.vectors)
        for att, ex, n1, n2 in zip(
            self.attention, self.exchange, self.norm_att, self.norm_ex, strict=True
        ):
            dh, dchi = att(n1(h), chi, graph.edge_index, rbf, env, sh)
            h, chi = h + dh, chi + dchi
            dh, dchi = ex(n2(h), chi)
            h, chi = h + dh, chi + dchi
        return NodeState(h, chi.unsqueeze(-1))

    def readout(self, state: NodeState) -> torch.Tensor:
        return self.energy(state.scalar).squeeze(-1)
