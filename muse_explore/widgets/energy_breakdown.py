"""The energy breakdown: per-scale energies, per-node energies of a level, energies per frame."""

from __future__ import annotations

import traitlets

from muse_explore.explore.energies import node_energy_bars, scale_energy_bars, trajectory_energies
from muse_explore.widgets._deps import require
from muse_explore.widgets.assignment_viewer import AssignmentViewer
from muse_explore.widgets.figure_widget import FigureWidget

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

        # Each chart is drawn in full as a go.Figure and only then wrapped in a FigureWidget
        # that sends it whole in its first message (figure_widget.py): the browser draws a
        # FigureWidget from its initial state, and the changes sent after that (traces added,
        # bars refilled) are lost while plotly's 5 MB bundle is still loading.
        # Both bar charts are in one figure: each FigureWidget sends that bundle.
        figure = make_subplots(
            rows=1, cols=2, horizontal_spacing=0.14,
            subplot_titles=("energy per scale", "energy per node, level 1"),
        )  # fmt: skip
        figure.update_layout(
            height=320, width=940, showlegend=False,
            margin={"l": 70, "r": 10, "t": 40, "b": 40},
        )  # fmt: skip
        figure.update_yaxes(title_text="energy per scale (meV)", row=1, col=1)
        figure.update_yaxes(title_text="energy per node (meV)", row=1, col=2)
        figure.add_bar(x=[], y=[], name="coarse scales", row=1, col=1)
        figure.add_bar(x=[], y=[], name="nodes", row=1, col=2)
        self._draw_bars(figure, viewer.node)
        self.figure = FigureWidget(figure)
        self.node_bars.on_click(self._clicked)
        charts = [self.figure]
        self.trajectory = None
        if len(viewer.frames) > 1:
            trajectory = go.Figure(
                layout=_layout("energy along the trajectory", "energy (meV)", width=940,
                               height=420)
            )  # fmt: skip
            trajectory.update_layout(
                legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
                margin={"t": 80},
            )
            trajectory.add_vline(x=0, line_dash="dot")
            self._trajectory_series(trajectory)
            self._mark_frame(trajectory)
            self.trajectory = FigureWidget(trajectory)
            charts.append(self.trajectory)
        super().__init__([self.header, *charts])
        traitlets.link((viewer, "node"), (self, "node"))
        viewer.observe(lambda _c: self.refresh(), ["level", "frame"])
        viewer.observe(self._pooling_changed, "revision")
        self.refresh()  # the header; the charts already show these values

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
            self._trajectory_series(self.trajectory)
        self.refresh()

    def _trajectory_series(self, figure) -> None:
        """(Re)draw the per-scale energies of every frame with the viewer's pooling."""
        snaps = self.viewer.all_snapshots()
        series = trajectory_energies(snaps, unit="meV")
        self._frame_x = series["x"]
        with figure.batch_update():
            figure.data = []
            for name, ys in series["series"].items():
                figure.add_scatter(
                    x=series["x"], y=ys, mode="lines", name=name,
                    line_color=series["colors"][name],
                )  # fmt: skip
            figure.layout.xaxis.title.text = series["x_title"]

    def _mark_frame(self, figure) -> None:
        """Move the dotted line of the trajectory chart to the viewer's frame."""
        x = self._frame_x[self.viewer.frame]
        figure.layout.shapes[0].x0 = x
        figure.layout.shapes[0].x1 = x

    def _draw_bars(self, figure, node: int):
        """Fill both bar charts of ``figure`` from the viewer's frame and level; the scale bars."""
        snap = self.viewer.snapshot()
        level = self.viewer.level
        sb = scale_energy_bars(snap, unit="meV")
        nb = node_energy_bars(snap, level, highlight=node if node >= 0 else None, unit="meV")
        with figure.batch_update():
            bar = figure.data[0]
            bar.x, bar.y, bar.marker.color = sb["x"], sb["y"], sb["colors"]
            bar = figure.data[1]
            bar.x, bar.y = nb["x"], nb["y"]
            bar.marker.color = nb["colors"]
            bar.marker.line.width = nb["line_widths"]
            bar.marker.line.color = "black"
            figure.layout.annotations[1].text = f"energy per node, level {level}"
        return sb

    def _clicked(self, trace, points, _state) -> None:
        if points.point_inds:
            self.node = int(points.point_inds[0])

    @traitlets.observe("node")
    def _node_changed(self, _change) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the viewer's current frame, level and node."""
        sb = self._draw_bars(self.figure, self.node)
        if self.trajectory is not None:
            self._mark_frame(self.trajectory)
        self.header.value = (
            "coarse scales: "
            + ", ".join(f"{n} {e:.1f} meV" for n, e in zip(sb["x"], sb["y"], strict=True))
            + f"; total {1000 * self.viewer.snapshot().energy:,.1f} meV, of which the atom "
            f"scale {sb['atoms_total']:,.1f} meV (it carries the element shifts)"
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
