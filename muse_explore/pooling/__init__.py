"""Soft Coarse-Graining Pooling: select (seeds, assignment), connect (coarse graph), reduce."""

from muse_explore.pooling.assignment import (
    Assignment,
    FragmentCopies,
    SoftAssignment,
    candidate_pairs,
)
from muse_explore.pooling.coarse_graph import radius_graph
from muse_explore.pooling.reduce import (
    coarse_positions,
    distribute,
    pool,
    soft_normalise,
    unpool,
)
from muse_explore.pooling.seeder import Seeder
from muse_explore.pooling.seeding import Topology, covalent_bonds, find_topology

__all__ = [
    "Assignment",
    "FragmentCopies",
    "Seeder",
    "SoftAssignment",
    "Topology",
    "candidate_pairs",
    "coarse_positions",
    "covalent_bonds",
    "distribute",
    "find_topology",
    "pool",
    "radius_graph",
    "soft_normalise",
    "unpool",
]
