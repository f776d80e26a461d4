"""JupyterLab widgets over :mod:`muse_explore.explore` (needs the ``[lab]`` extra).

Each ``show_*`` helper takes keyword arguments only and returns the widget, which Jupyter
displays when it is the last expression of a cell::

    from muse_explore import widgets
    widgets.show_assignments(model="muse-painn-graphene", atoms=atoms)
"""

from __future__ import annotations

from muse_explore.widgets.assignment_viewer import AssignmentViewer
from muse_explore.widgets.energy_breakdown import EnergyBreakdown
from muse_explore.widgets.explorer import Explorer
from muse_explore.widgets.influence_map import InfluenceMap
from muse_explore.widgets.scan_explorer import ScanExplorer


def show_assignments(*, model, atoms=None, trajectory=None, level: int = 1) -> AssignmentViewer:
    """The assignment viewer for a structure (``atoms``) or a ``trajectory``."""
    return AssignmentViewer(model, _frames(atoms, trajectory), level=level)


def show_energies(*, model=None, atoms=None, trajectory=None, viewer=None):
    """Per-scale and per-node energies; with ``viewer``, linked to that assignment viewer.

    Without a viewer a new one is made and both are returned in one box.
    """
    if viewer is not None:
        return EnergyBreakdown(viewer)
    from muse_explore.widgets._deps import require

    ipw, _, _ = require()
    viewer = AssignmentViewer(model, _frames(atoms, trajectory))
    return ipw.VBox([viewer, EnergyBreakdown(viewer)])


def show_scan(*, models, setup=None) -> ScanExplorer:
    """The graphene-distance scan; ``models``: label -> model/pretrained name."""
    return ScanExplorer(models, setup=setup)


def show_influence(*, model, atoms, atom: int | None = None, kind: str = "hessian"):
    """The influence map of ``atom`` in ``atoms`` (backbone alone against MuSE)."""
    return InfluenceMap(model, atoms, atom=atom, kind=kind)


def explore(*, model, atoms=None, trajectory=None, baseline=None) -> Explorer:
    """The whole dashboard for a model and a structure or trajectory."""
    return Explorer(model, _frames(atoms, trajectory), baseline=baseline)


def _frames(atoms, trajectory):
    if (atoms is None) == (trajectory is None):
        raise ValueError("give either atoms= or trajectory=")
    if trajectory is not None:
        frames = list(trajectory)
        if not frames:
            raise ValueError("the trajectory is empty")
        return frames
    return atoms


__all__ = [
    "AssignmentViewer",
    "EnergyBreakdown",
    "Explorer",
    "InfluenceMap",
    "ScanExplorer",
    "explore",
    "show_assignments",
    "show_energies",
    "show_influence",
    "show_scan",
]
