"""Analysis of structures and trajectories: interaction energies, peptides, geometry faults."""

from muse_explore.analysis.geometry import geometry_faults
from muse_explore.analysis.interaction import (
    RANGES,
    errors_by_range,
    interaction_energies,
    interaction_energy,
    predict,
    profile_minimum,
)
from muse_explore.analysis.peptide import (
    backbone_hbonds,
    backbone_indices,
    c7_fraction,
    count_backbone_hbonds,
    end_to_end_distance,
    helix_fraction,
    peptide_indices,
    radius_of_gyration,
    residue_basins,
)

__all__ = [
    "RANGES",
    "geometry_faults",
    "errors_by_range",
    "interaction_energies",
    "interaction_energy",
    "predict",
    "profile_minimum",
    "backbone_hbonds",
    "backbone_indices",
    "c7_fraction",
    "count_backbone_hbonds",
    "end_to_end_distance",
    "helix_fraction",
    "peptide_indices",
    "radius_of_gyration",
    "residue_basins",
]
