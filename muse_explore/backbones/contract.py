"""The backbone contract: what an MLFF must offer for MuSE to run it at every scale.

A backbone is one scale's force field. MuSE builds one instance per level (atoms, then each
coarse level, each with its own cutoff and weights) and calls only the four methods below, so
any architecture that implements them gains coarse levels without MuSE knowing its internals.

Node state (:class:`NodeState`):
    ``scalar`` (n, F) rotation-invariant features, and ``equivariant`` (n, m, F) features whose
    ``m`` components transform linearly under rotation (m = 3 for vectors) or ``None``. MuSE
    pools and unpools both with fixed linear combinations over nodes, which preserves
    equivariance for any representation, so the backbone is free in what ``m`` means. All
    levels of one model must use the same shapes.

Geometric graph (:class:`GeometricGraph`):
    node positions, edges ``(source j, target i)`` with vectors r_ij = r_j - r_i (+ periodic
    shift) and lengths, the cutoff, and the batch vector; optionally ``edge_weight`` (E,), a
    factor on every message along each edge. A backbone must make each edge's message linear
    in it (PaiNN, MACE and SO3krates fold it into their radial envelope, which every message
    of theirs already multiplies), so that a node of weight 2 sends what two nodes of weight
    1 in its place would send (``tests/backbones/test_contract.py``).

Construction: ``Backbone(atomic_numbers, cutoff, *, hidden, num_interactions, **specific)``,
where the atom level gets the atomic numbers of its species (species index k is
``atomic_numbers[k]``) and coarse levels get ``None``. ``hidden`` (the width) and
``num_interactions`` (blocks on this level) are the two hyperparameters every backbone takes
(:attr:`Backbone.HYPERPARAMETERS`, checked when a backbone is registered and built); the rest
are the backbone's own (``backbone_kwargs``). Atomic numbers exist only at the
    atom level; coarse nodes are embedded from pooled features instead.
"""

from __future__ import annotations

import abc

import torch
from torch import nn

from muse_explore.state import GeometricGraph, NodeState

__all__ = ["Backbone", "GeometricGraph", "NodeState"]


class Backbone(nn.Module, abc.ABC):
    """Interface of one scale of an MLFF (see the module docstring).

    Attributes:
        cutoff: interaction radius in Å on this level's graph.
        scalar_dim: F, the number of scalar channels.
        equivariant_shape: ``(m, F)`` of the equivariant features, or ``None``.
    """

    #: Keyword arguments MuSE passes to every backbone: the width and the number of blocks.
    HYPERPARAMETERS = ("hidden", "num_interactions")

    cutoff: float
    scalar_dim: int
    equivariant_shape: tuple[int, int] | None

    def edge_bytes(self, itemsize: int) -> float:
        """Memory one energy + forces evaluation holds per edge of this level, in bytes.

        An upper estimate for the autograd graph (messages, filters, their derivatives), used
        to refuse a structure that cannot fit with an estimate of what it needs
        (:mod:`muse_explore.calc.memory`). The default assumes 100 retained values per edge
        and scalar channel; a backbone overrides it with a coefficient measured by
        ``benchmarks/memory.py``.
        """
        return 100.0 * self.scalar_dim * itemsize

    @abc.abstractmethod
    def embed_atoms(self, species: torch.Tensor) -> NodeState:
        """Initial state of atoms from their species index (n,) into the model's element list."""

    @abc.abstractmethod
    def embed_coarse(self, pooled: NodeState, weight: torch.Tensor) -> NodeState:
        """Initial state of coarse nodes from the pooled fine state and their total weight (n,)."""

    @abc.abstractmethod
    def interact(self, state: NodeState, graph: GeometricGraph) -> NodeState:
        """Run all interaction blocks of this level on ``graph``."""

    @abc.abstractmethod
    def readout(self, state: NodeState) -> torch.Tensor:
        """Per-node energy (n,) in eV, before any shift."""
