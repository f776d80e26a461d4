"""The explorer dashboard: assignments, energies, scans and the influence map in tabs."""

from __future__ import annotations

from collections.abc import Sequence

from ase import Atoms

from muse_explore.explore.models import resolve_model
from muse_explore.widgets._deps import require
from muse_explore.widgets.assignment_viewer import AssignmentViewer
from muse_explore.widgets.energy_breakdown import EnergyBreakdown
from muse_explore.widgets.influence_map import InfluenceMap
from muse_explore.widgets.scan_explorer import ScanExplorer

widgets, _, _ = require()


class Explorer(widgets.Tab):
    """One dashboard for a model and a structure or trajectory.

    Tabs: "assignments" (3D view with linked energy charts), "scan" (a graphene-distance scan
    of the model against ``baseline`` if given) and "influence" (backbone against MuSE).

    Args:
        model: a MuSE model, calculator, pretrained name or file.
        frames: a structure or a trajectory.
        baseline: an optional backbone-only model for the scan (e.g. ``"painn-graphene"``).
    """

    def __init__(self, model, frames: Atoms | Sequence[Atoms], *, baseline=None) -> None:
        self.model = resolve_model(model)
        first = frames if isinstance(frames, Atoms) else list(frames)[0]
        self.assignments = AssignmentViewer(self.model, frames)
        self.energies = EnergyBreakdown(self.assignments)
        models = {"MuSE": self.model}
        if baseline is not None:
            models["baseline"] = resolve_model(baseline)
        # the scan and the influence map (and their 3D views) are computed when their tab
        # is first shown: the first tab appears sooner, and no view is drawn while hidden
        self.scan = ScanExplorer(models, defer=True)
        self.influence = InfluenceMap(self.model, first, defer=True)
        self._computed = {0}
        super().__init__(
            children=[
                widgets.VBox([self.assignments, self.energies]),
                self.scan,
                self.influence,
            ]
        )
        for i, title in enumerate(["assignments", "scan", "influence"]):
            self.set_title(i, title)
        self.layout.width = "100%"
        self.observe(self._tab_shown, "selected_index")

    def views(self, tab: int) -> list:
        """The 3D views (:class:`StructureView`) of tab ``tab`` (none before its first visit)."""
        views = [
            [self.assignments.view],
            [self.scan.view] if self.scan.view is not None else [],
            list(self.influence.views.values()),
        ]
        return views[tab]

    def _tab_shown(self, change) -> None:
        tab = change["new"]
        if tab is None:
            return
        if tab not in self._computed:  # first visit: compute what the tab shows
            self._computed.add(tab)
            (self.scan.run if tab == 1 else self.influence.refresh)()
        # a view created while its tab was hidden has a 0x0 canvas: size it now, and centre
        for view in self.views(tab):
            view.refresh()
