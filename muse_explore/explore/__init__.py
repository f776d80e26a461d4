"""The explorer's data layer: model outputs as plain arrays (colours, spheres, curves).

Nothing here imports Jupyter, nglview or plotly; :mod:`muse_explore.widgets` draws what these
functions return, and ``tests/explore`` checks them without a browser.
"""

from muse_explore.explore.assignments import (
    atom_colors,
    atom_labels,
    color_groups,
    legend,
    node_spheres,
)
from muse_explore.explore.colors import PALETTE, SCALE_COLORS, blend, scale_color, sequential
from muse_explore.explore.energies import node_energy_bars, scale_energy_bars, trajectory_energies
from muse_explore.explore.influence import influence, influence_colors
from muse_explore.explore.models import resolve_model
from muse_explore.explore.scans import (
    ScanSetup,
    interaction_curves,
    read_molecule,
    reference_curve,
    scan_frames,
)
from muse_explore.explore.snapshot import Snapshot, snapshots
from muse_explore.explore.sweep import SWEEP_RANGES, sweep_values

__all__ = [
    "PALETTE",
    "SCALE_COLORS",
    "SWEEP_RANGES",
    "ScanSetup",
    "Snapshot",
    "atom_colors",
    "atom_labels",
    "blend",
    "color_groups",
    "influence",
    "influence_colors",
    "interaction_curves",
    "legend",
    "node_energy_bars",
    "node_spheres",
    "read_molecule",
    "reference_curve",
    "resolve_model",
    "scale_color",
    "scale_energy_bars",
    "scan_frames",
    "sequential",
    "snapshots",
    "sweep_values",
    "trajectory_energies",
]
