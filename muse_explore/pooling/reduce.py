r"""*Reduce*: pooling fine features onto coarse nodes and unpooling them back.

With the sparse assignment S (pairs e = (i, k)) and column sums M_k = Σ_i S_ik:

.. math::
    \mathbf{c}_k = \mathbf{r}_{s_k} - \frac{1}{M_k}\sum_i S_{ik}\, \mathbf{d}_{ik},\qquad
    \mathbf{h}_k = \frac{1}{M_k}\sum_i S_{ik}\, \mathbf{h}_i,\qquad
    \mathbf{h}_i \leftarrow \mathbf{h}_i + \sum_k S_{ik}\, f(\mathbf{h}_k)
    \quad\text{or, shared,}\quad
    \mathbf{h}_i \leftarrow \mathbf{h}_i + \sum_k \frac{S_{ik}}{M_k}\, f(\mathbf{h}_k)

c_k is the S-weighted centroid of the members (each seen through the periodic image of its
pair, so it is the minimum-image centroid under PBC); pooling and unpooling are fixed linear
combinations over nodes, so equivariant features stay equivariant whatever their
representation. ``f`` is a learned linear map for scalars and the identity for equivariant
features.

What is pooled are the fine features softly normalised per node (:func:`soft_normalise`,
``MuSEConfig.pool_norm``): each coarse level then starts from features of bounded size,
whatever the level below produced, so the growth of one level's features is not fed into
the next (docs/method.md, Section 4).

Unpooling gives each member the coarse node's message in full (``MuSEConfig.unpool =
"member"``), or its share S_ik / M_k of it (``"share"``): the shares of one node sum to one,
so what a coarse node tells the level below adds up to one node's worth, however many
members it has, instead of growing with them (docs/method.md, Section 4).
"""

from __future__ import annotations

import torch
from torch_geometric.utils import scatter

from muse_explore.pooling.assignment import Assignment
from muse_explore.state import NodeState


def coarse_positions(
    fine_pos: torch.Tensor, seed_nodes: torch.Tensor, s: Assignment
) -> torch.Tensor:
    """S-weighted centroids (K, 3) of the coarse nodes."""
    moment = scatter(s.weight.unsqueeze(-1) * s.vectors, s.coarse, 0, dim_size=s.num_coarse)
    return fine_pos.index_select(0, seed_nodes) - moment / s.mass.unsqueeze(-1)


def _pool(x: torch.Tensor, s: Assignment, mass: torch.Tensor) -> torch.Tensor:
    w = s.weight.reshape(-1, *([1] * (x.dim() - 1)))
    total = scatter(w * x.index_select(0, s.fine), s.coarse, 0, dim_size=s.num_coarse)
    return total / mass.reshape(-1, *([1] * (x.dim() - 1)))


def soft_normalise(state: NodeState) -> NodeState:
    r"""Each node's features divided by :math:`\sqrt{\overline{x^2} + 1}`, each kind apart.

    Scalars and equivariant features are scaled separately. :math:`\overline{x^2}` is the
    mean over channels of the squared scalar, or of the squared norm of each equivariant
    channel (sum over its components, so the factor is invariant and the result
    equivariant). The map is smooth, with bounded first and second derivatives; it
    leaves features much smaller than 1 almost as they are, and maps any feature vector,
    however large, to one whose root mean square is below 1. Shapes as :class:`NodeState`;
    ``extra`` is dropped, as :func:`pool` drops it.
    """

    def scaled(x: torch.Tensor, channel_sq: torch.Tensor) -> torch.Tensor:
        factor = torch.rsqrt(channel_sq.mean(-1) + 1.0)
        return x * factor.reshape(-1, *([1] * (x.dim() - 1)))

    scalar = scaled(state.scalar, state.scalar.square())
    eq = state.equivariant
    if eq is not None:
        eq = scaled(eq, eq.square().sum(dim=tuple(range(1, eq.dim() - 1))))
    return NodeState(scalar, eq)


def pool(state: NodeState, s: Assignment, *, normalise: bool = False) -> NodeState:
    """S-weighted mean of fine features on each coarse node.

    With ``normalise=True``, of the features after :func:`soft_normalise`.
    """
    if normalise:
        state = soft_normalise(state)
    mass = s.mass
    eq = None if state.equivariant is None else _pool(state.equivariant, s, mass)
    return NodeState(_pool(state.scalar, s, mass), eq)


def _unpool(x: torch.Tensor, s: Assignment, share: bool) -> torch.Tensor:
    w = s.weight / s.mass.index_select(0, s.coarse) if share else s.weight
    w = w.reshape(-1, *([1] * (x.dim() - 1)))
    return scatter(w * x.index_select(0, s.coarse), s.fine, 0, dim_size=s.num_fine)


def unpool(
    fine: NodeState, coarse: NodeState, s: Assignment, scalar_map, *, share: bool = False
) -> NodeState:
    """Add S-weighted coarse information to the fine nodes (scalars through ``scalar_map``).

    With ``share=True`` each member gets the weight S_ik / M_k instead of S_ik: a coarse
    node's message is shared out among its members rather than copied to each.
    """
    scalar = fine.scalar + _unpool(scalar_map(coarse.scalar), s, share)
    eq = fine.equivariant
    if eq is not None and coarse.equivariant is not None:
        eq = eq + _unpool(coarse.equivariant, s, share)
    return NodeState(scalar, eq, fine.extra)


def distribute(coarse_values: torch.Tensor, s: Assignment) -> torch.Tensor:
    """Share each coarse node's value among its members in proportion S_ik / M_k.

    The shares of one coarse node sum to one, so totals are conserved (used to attribute
    coarse-level energies to atoms).
    """
    share = s.weight / s.mass.index_select(0, s.coarse)
    return scatter(share * coarse_values.index_select(0, s.coarse), s.fine, 0, dim_size=s.num_fine)
