"""The energy breakdown: per-scale energies, per-node energies of a level, energies per frame."""

from __future__ import annotations

import traitlets

from muse_explore.explore.energies import node_energy_bars, scale_energy_bars, trajectory_energies
from muse_explore.widgets._deps import require
from muse_explore.widgets.assignment_viewer import AssignmentViewer

widgets, _, go = require()


class EnergyBreakdown(widgets.VBox):
    """Plotly charts linked to an :class:`AssignmentViewer`, in meV.

    One figure with two bar charts (:attr:`figure`). Left: the energy of each coarse scale,
    in the scale colours shared by every chart (the atom scale, which carries the element
    shifts, is printed above). Right: the energy of every node of the viewer's level, in the
    node colours of the 3D view; clicking a bar picks that node in the 3D view too, and
    picking a node there outlines its bar. For a trajectory, a second figure shows the
    per-scale energies against time (ps) when the frames carry it, else against frame, with
    the current frame marked.

    The charts redraw when the viewer's ``revision`` changes, that is after the viewer has
    re-evaluated with new σ, temperature or soft/hard settings, never before.
    """

    node = traitlets.Int(-1)

    def __init__(self, viewer: AssignmentViewer) -> None:
        self.viewer = viewer
        self.header = widgets.HTML()
        from plotly.subplots import make_subplots  # after require(): plotly is there

        # both bar charts in one figure: each plotly FigureWidget sends its 5 MB bundle
        self.figure = go.FigureWidget(
            make_subplots(
                rows=1, cols=2, horizontal_spacing=0.14,
                subplot_titles=("energy per scale", "energy per node, level 1"),
            )
        )  # fmt: skip
        self.figure.update_layout(
            height=320, width=940, showlegend=False,
            margin={"l": 70, "r": 10, "t": 40, "b": 40},
        )  # fmt: skip
        self.figure.update_yaxes(title_text="energy per scale (meV)", row=1, col=1)
        self.figure.update_yaxes(title_text="energy per node (meV)", row=1, col=2)
        self.figure.add_bar(x=[], y=[], name="coarse scales", row=1, col=1)
        self.figure.add_bar(x=[], y=[], name="nodes", row=1, col=2)
        self.node_bars.on_click(self._clicked)
        charts = [self.figure]
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
        super().__init__([self.header, *charts])
        traitlets.link((viewer, "node"), (self, "node"))
        viewer.observe(lambda _c: self.refresh(), ["level", "frame"])
        viewer.observe(self._pooling_changed, "revision")
        self.refresh()

    @property
    def scale_bars(self):
        """The bar trace of the energy per scale (meV), left."""
        return self.figure.data[0]

    @property
    def node_bars(self):
        """The bar trace of the energy per node of the viewer's level (meV), right."""
        return self.figure.data[1]

    @property
    def node_title(self) -> str:
        """The title of the per-node chart (it names the level)."""
        return self.figure.layout.annotations[1].text

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
        with self.figure.batch_update():
            bar = self.scale_bars
            bar.x, bar.y, bar.marker.color = sb["x"], sb["y"], sb["colors"]
            bar = self.node_bars
            bar.x, bar.y = nb["x"], nb["y"]
            bar.marker.color = nb["colors"]
            bar.marker.line.width = nb["line_widths"]
            bar.marker.line.color = "black"
            self.figure.layout.annotations[1].text = f"energy per node, level {level}"
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
