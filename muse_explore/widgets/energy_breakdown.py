"""The energy breakdown: per-scale energies, per-node energies of a level, energies per frame."""

from __future__ import annotations

import traitlets

from muse_explore.explore.energies import node_energy_bars, scale_energy_bars, trajectory_energies
from muse_explore.widgets._deps import require
from muse_explore.widgets.assignment_viewer import AssignmentViewer

widgets, _, go = require()


class EnergyBreakdown(widgets.VBox):
    """Plotly charts linked to an :class:`AssignmentViewer`, in meV.

    Left: the energy of each coarse scale, in the scale colours shared by every chart (the
    atom scale, which carries the element shifts, is printed above). Right: the energy of
    every node of the viewer's level, in the node colours of the 3D view; clicking a bar picks
    that node in the 3D view too, and picking a node there outlines its bar. For a trajectory,
    a third chart shows the per-scale energies against time (ps) when the frames carry it,
    else against frame, with the current frame marked.

    The charts redraw when the viewer's ``revision`` changes, that is after the viewer has
    re-evaluated with new σ, temperature or soft/hard settings, never before.
    """

    node = traitlets.Int(-1)

    def __init__(self, viewer: AssignmentViewer) -> None:
        self.viewer = viewer
        self.header = widgets.HTML()
        self.scales = go.FigureWidget(
            layout=_layout("energy per scale", "energy per scale (meV)", legend=False)
        )
        self.scales.add_bar(x=[], y=[], name="coarse scales")
        self.nodes = go.FigureWidget(
            layout=_layout("energy per node", "energy per node (meV)", legend=False)
        )
        self.nodes.add_bar(x=[], y=[], name="nodes")
        self.nodes.data[0].on_click(self._clicked)
        charts = [self.scales, self.nodes]
        self.trajectory = None
        if len(viewer.frames) > 1:
            self.trajectory = go.FigureWidget(
                layout=_layout("energy along the trajectory", "energy (meV)", width=940,
                               height=420)
            )  # fmt: skip
            self.trajectory.update_layout(
                legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
                margin={"t": 80},
            )
            self.trajectory.add_vline(x=0, line_dash="dot")
            self._trajectory_series()
            charts.append(self.trajectory)
        super().__init__([self.header, widgets.HBox(charts[:2])] + charts[2:])
        traitlets.link((viewer, "node"), (self, "node"))
        viewer.observe(lambda _c: self.refresh(), ["level", "frame"])
        viewer.observe(self._pooling_changed, "revision")
        self.refresh()

    def _pooling_changed(self, _change) -> None:
        if self.trajectory is not None:
            self._trajectory_series()
        self.refresh()

    def _trajectory_series(self) -> None:
        """(Re)draw the per-scale energies of every frame with the viewer's pooling."""
        snaps = self.viewer.all_snapshots()
        series = trajectory_energies(snaps, unit="meV")
        self._frame_x = series["x"]
        with self.trajectory.batch_update():
            self.trajectory.data = []
            for name, ys in series["series"].items():
                self.trajectory.add_scatter(
                    x=series["x"], y=ys, mode="lines", name=name,
                    line_color=series["colors"][name],
                )  # fmt: skip
            self.trajectory.layout.xaxis.title.text = series["x_title"]

    def _clicked(self, trace, points, _state) -> None:
        if points.point_inds:
            self.node = int(points.point_inds[0])

    @traitlets.observe("node")
    def _node_changed(self, _change) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the viewer's current frame, level and node."""
        snap = self.viewer.snapshot()
        level = self.viewer.level
        sb = scale_energy_bars(snap, unit="meV")
        nb = node_energy_bars(
            snap, level, highlight=self.node if self.node >= 0 else None, unit="meV"
        )
        with self.scales.batch_update():
            bar = self.scales.data[0]
            bar.x, bar.y, bar.marker.color = sb["x"], sb["y"], sb["colors"]
        with self.nodes.batch_update():
            bar = self.nodes.data[0]
            bar.x, bar.y = nb["x"], nb["y"]
            bar.marker.color = nb["colors"]
            bar.marker.line.width = nb["line_widths"]
            bar.marker.line.color = "black"
            self.nodes.layout.title.text = f"energy per node, level {level}"
        if self.trajectory is not None:
            x = self._frame_x[self.viewer.frame]
            self.trajectory.layout.shapes[0].x0 = x
            self.trajectory.layout.shapes[0].x1 = x
        self.header.value = (
            "coarse scales: "
            + ", ".join(f"{n} {e:.1f} meV" for n, e in zip(sb["x"], sb["y"], strict=True))
            + f"; total {1000 * snap.energy:,.1f} meV, of which the atom scale "
            f"{sb['atoms_total']:,.1f} meV (it carries the element shifts)"
        )


def _layout(
    title: str, y_title: str, *, legend: bool = True, width: int = 470, height: int = 320
) -> dict:
    return {
        "title": {"text": title},
        "yaxis": {"title": {"text": y_title}},
        "height": height,
        "width": width,
        "margin": {"l": 70, "r": 10, "t": 40, "b": 40},
        "showlegend": legend,
    }
