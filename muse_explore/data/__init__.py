"""Atoms to graphs: validation, neighbour lists (vesin) and batching (PyG)."""

from muse_explore.data.graph import AtomsToGraph, atoms_to_batch
from muse_explore.data.neighbors import neighbor_list
from muse_explore.data.validation import validate_atoms

__all__ = ["AtomsToGraph", "atoms_to_batch", "neighbor_list", "validate_atoms"]
