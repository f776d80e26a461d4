r"""*Reduce*: pooling fine features onto coarse nodes and unpooling them back.

With the sparse assignment S (pairs e = (i, k)) and column sums M_k = Σ_i S_ik:

.. math::
    \mathbf{c}_k = \mathbf{r}_{s_k} - \frac{1}{M_k}\sum_i S_{ik}\, \mathbf{d}_{ik},\qquad
    \mathbf{h}_k = \frac{1}{M_k}\sum_i S_{ik}\, \mathbf{h}_i,\qquad
    \mathbf{h}_i \leftarrow \mathbf{h}_i + \sum_k S_{ik}\, f(\mathbf{h}_k)

c_k is the S-weighted centroid of the members (each seen through the periodic image of its
pair, so it is the minimum-image centroid under PBC); pooling and unpooling are fixed linear
combinations over nodes, so equivariant features stay equivariant whatever their
representation. ``f`` is a learned linear map for scalars and the identity for equivariant
features.
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


def pool(state: NodeState, s: Assignment) -> NodeState:
    """S-weighted mean of fine features on each coarse node."""
    mass = s.mass
    eq = None if state.equivariant is None else _pool(state.equivariant, s, mass)
    return NodeState(_pool(state.scalar, s, mass), eq)


def _unpool(x: torch.Tensor, s: Assignment) -> torch.Tensor:
    w = s.weight.reshape(-1, *([1] * (x.dim() - 1)))
    return scatter(w * x.index_select(0, s.coarse), s.fine, 0, dim_size=s.num_fine)


def unpool(fine: NodeState, coarse: NodeState, s: Assignment, scalar_map) -> NodeState:
    """Add S-weighted coarse information to the fine nodes (scalars through ``scalar_map``)."""
    scalar = fine.scalar + _unpool(scalar_map(coarse.scalar), s)
    eq = fine.equivariant
    if eq is not None and coarse.equivariant is not None:
        eq = eq + _unpool(coarse.equivariant, s)
    return NodeState(scalar, eq, fine.extra)


def distribute(coarse_values: torch.Tensor, s: Assignment) -> torch.Tensor:
    """Share each coarse node's value among its members in proportion S_ik / M_k.

    The shares of one coarse node sum to one, so totals are conserved (used to attribute
    coarse-level energies to atoms).
    """
    share = s.weight / s.mass.index_select(0, s.coarse)
    return scatter(share * coarse_values.index_select(0, s.coarse), s.fine, 0, dim_size=s.num_fine)
