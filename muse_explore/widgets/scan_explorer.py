"""The graphene-distance scan: E_int(d) for several models, live 3D view and distance slider."""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np

from muse_explore.explore.colors import model_colors, scale_color
from muse_explore.explore.energies import scale_names
from muse_explore.explore.models import resolve_model
from muse_explore.explore.scans import (
    FLAKES,
    ScanSetup,
    interaction_curves,
    read_molecule,
    reference_curve,
    scan_frames,
)
from muse_explore.reference.molecules import MOLECULES
from muse_explore.reference.xtb import tblite_available
from muse_explore.widgets._deps import require
from muse_explore.widgets.figure_widget import FigureWidget
from muse_explore.widgets.layout import labelled
from muse_explore.widgets.structure_view import StructureView

widgets, _, go = require()

#: The scan's 3D view looks from the side (degrees from the top view), so that the gap d the
#: slider sets is seen directly while the marker rides along the E_int curve.
SIDE_VIEW = 85.0
#: A flat complex seen from the side is wide and low: a wide, low canvas frames it.
SIDE_VIEW_WIDTH, SIDE_VIEW_HEIGHT = "70%", "300px"

#: The rule every control follows, shown under the controls.
RULE = "Every change re-scans at once (sliders when released); <i>scan</i> repeats the scan."


class ScanExplorer(widgets.VBox):
    """What happens when a molecule approaches graphene, for one or more models.

    Pick a molecule (or upload an .xyz/.extxyz), a flake, a lateral offset, a rotation, a
    tilt and a range of heights; the scan evaluates all heights as one batch per model and
    draws E_int(d) in meV, with the per-scale split of the first MuSE model as dashed lines
    (colours: :data:`muse_explore.explore.colors.SCALE_COLORS`). The height slider moves the
    molecule in the 3D view and marks the point on the curve; it keeps its position across
    scans. "coarse levels" off drops them from the MuSE models (their backbone alone), to show
    what the long range adds. "GFN2-xTB" adds the reference on every fifth height when tblite
    is installed (about a second per point).

    One rule for all controls: every change re-scans at once (sliders when released), and
    the "scan" button repeats the scan. While a scan runs the button is disabled, the status
    says "scanning" and the old curves are dimmed. A scan that fails (a molecule that would sit
    in the flake, an unreadable upload) changes nothing: the chart, the 3D view and the molecule
    menu keep the last successful scan, and the status shows the error.

    Attributes:
        curves: the last :func:`muse_explore.explore.interaction_curves` result.
        timings: seconds of the last scan (``scan``) and slider move (``slider``).

    ``defer=True`` leaves the first scan, and the creation of the 3D view, to the first call
    of :meth:`run` (the explorer dashboard runs it when its tab is first shown, so that the
    first tab appears sooner).
    """

    def __init__(
        self, models: Mapping[str, object], *, setup: ScanSetup | None = None, defer: bool = False
    ) -> None:
        if not models:
            raise ValueError("give at least one model, e.g. {'MuSE': 'muse-painn-graphene'}")
        self.models = {k: resolve_model(m) for k, m in models.items()}
        self.setup = setup if setup is not None else ScanSetup()
        self.curves: dict = {}
        self.reference: dict | None = None
        self.timings: dict[str, float] = {}
        self.busy = False
        self._molecule_controls(self.setup)
        geometry = self._geometry_controls(self.setup)
        self.coarse = widgets.Checkbox(value=True, description="coarse levels", indent=False)
        self.xtb = widgets.Checkbox(
            value=False, description="GFN2-xTB", disabled=not tblite_available(), indent=False,
            tooltip="tblite found" if tblite_available() else "needs the [reference] extra",
        )  # fmt: skip
        self.button = widgets.Button(description="scan", button_style="primary", icon="refresh")
        self.rule = widgets.HTML(f"<small>{RULE}</small>")
        self.status = widgets.HTML()
        self.distance = widgets.SelectionSlider(
            options=[0.0], description="height (Å)", continuous_update=True,
            layout=widgets.Layout(width="480px"),
        )  # fmt: skip
        for control in (self.molecule, self.upload, *geometry, self.distance):
            labelled(control, width="100px")
        # the chart is created, drawn in full, by the first scan (plotly: 5 MB to the browser)
        self.figure = None
        self.frames = scan_frames(self.setup)
        # deferred: the chart and the 3D view are created with the first scan, while the tab
        # is visible (a hidden nglview costs the browser a WebGL stage and gets a 0x0 canvas,
        # and every plotly FigureWidget sends its 5 MB bundle)
        self.view: StructureView | None = None if defer else _side_view(self.frames[2][0])
        self._view_atoms = self.frames[2][0]
        waiting = widgets.HTML(
            f"<i>the chart {'and the side view appear' if defer else 'appears'} with the first "
            "scan</i>"
        )
        controls = widgets.VBox(
            [self.molecule, self.upload, self.flake, self.offset_x, self.offset_y, self.rotation,
             self.tilt, self.range, self.points, widgets.HBox([self.coarse, self.xtb]),
             self.button, self.rule, self.status],
            layout=widgets.Layout(width="400px"),
        )  # fmt: skip
        super().__init__(
            [widgets.HBox([controls, waiting]),
             widgets.VBox([widgets.HTML() if defer else self.view.widget, self.distance])]
        )  # fmt: skip
        self.button.on_click(lambda _b: self.run())
        for control in (*geometry, self.coarse, self.xtb):
            control.observe(lambda _c: self.run(), "value")
        self.upload.observe(self._uploaded_file, "value")
        self.molecule.observe(self._picked_molecule, "value")
        self.distance.observe(self._moved, "value")
        if not defer:
            self.run()

    def _molecule_controls(self, s: ScanSetup) -> None:
        # molecules not in MOLECULES (uploads, a given Atoms) by their menu value
        self._molecules: dict[str, object] = {}
        options = [(name, name) for name in MOLECULES]
        value = s.molecule
        if not isinstance(s.molecule, str):
            value = f"given {s.molecule.get_chemical_formula()}"
            self._molecules[value] = s.molecule.copy()
            options.append((value, value))
        self.molecule = widgets.Dropdown(options=options, value=value, description="molecule")
        self.upload = widgets.FileUpload(
            accept=".xyz,.extxyz", multiple=False, description="upload"
        )

    def _geometry_controls(self, s: ScanSetup) -> tuple:
        """Flake, offsets, rotation, tilt, height range and points: each change re-scans."""
        if int(s.rings) not in FLAKES.values():
            raise ValueError(f"the scan widget offers flakes with rings {sorted(FLAKES.values())}")
        self.flake = widgets.Dropdown(
            options=list(FLAKES.items()), value=int(s.rings), description="flake"
        )
        slider = {"continuous_update": False}
        self.offset_x = widgets.FloatSlider(
            value=s.offset[0], min=-4, max=4, step=0.1, description="offset x (Å)", **slider
        )
        self.offset_y = widgets.FloatSlider(
            value=s.offset[1], min=-4, max=4, step=0.1, description="offset y (Å)", **slider
        )
        self.rotation = widgets.FloatSlider(
            value=s.rotation, min=0, max=360, step=5, description="rotation (°)", **slider
        )
        self.tilt = widgets.FloatSlider(
            value=s.tilt, min=0, max=90, step=5, description="tilt (°)", **slider
        )
        self.range = widgets.FloatRangeSlider(
            value=(float(s.distances.min()), float(s.distances.max())), min=2.0, max=20.0,
            step=0.1, description="heights (Å)", **slider,
        )  # fmt: skip
        self.points = widgets.IntSlider(
            value=len(s.distances), min=5, max=200, description="points", **slider
        )
        return (self.flake, self.offset_x, self.offset_y, self.rotation, self.tilt,
                self.range, self.points)  # fmt: skip

    # ------------------------------------------------------------------ actions
    def current_setup(self, *, molecule=None) -> ScanSetup:
        """The scan the controls describe (``molecule``: instead of the menu's)."""
        lo, hi = self.range.value
        if molecule is None:
            molecule = self._molecules.get(self.molecule.value, self.molecule.value)
        return ScanSetup(
            molecule=molecule,
            rings=int(self.flake.value), offset=(self.offset_x.value, self.offset_y.value),
            rotation=self.rotation.value, tilt=self.tilt.value,
            distances=np.linspace(lo, hi, int(self.points.value)),
        )  # fmt: skip

    def run(self, *, molecule=None) -> bool:
        """Build the scan from the controls and evaluate every model (batched).

        Returns whether the scan succeeded; on failure nothing changes but the status.
        """
        if self.busy:  # a control moved by this scan itself
            return False
        t0 = time.perf_counter()
        self._set_busy(True)
        try:  # nothing on self changes unless the whole scan succeeds
            setup = self.current_setup(molecule=molecule)
            frames = scan_frames(setup)
            models = {
                label: (m if self.coarse.value or not m.levels else m.backbone_only())
                for label, m in self.models.items()
            }
            curves = interaction_curves(models, setup, frames=frames)
            reference = reference_curve(setup, every=5, frames=frames) if self.xtb.value else None
        except Exception as err:  # shown in the widget, not as a traceback
            self._set_busy(False)
            self.status.value = f"<span style='color:#b00'>{type(err).__name__}: {err}</span>" + (
                "<br>the chart still shows the last scan" if self.curves else ""
            )
            return False
        self.setup, self.frames, self.curves, self.reference = setup, frames, curves, reference
        self.timings["scan"] = time.perf_counter() - t0
        self._draw()
        self._set_busy(False)
        n = len(self.setup.distances)
        self.status.value = (
            f"{n} heights × {len(self.models)} model(s) in {self.timings['scan']:.2f} s"
        )
        return True

    def _set_busy(self, busy: bool) -> None:
        """Disable the button, say "scanning" and dim the old curves while a scan runs."""
        self.busy = busy
        self.button.disabled = busy
        self.button.description = "scanning…" if busy else "scan"
        self.button.icon = "hourglass-half" if busy else "refresh"
        if busy:
            extra = " with GFN2-xTB (about a second per reference point)" if self.xtb.value else ""
            self.status.value = f"<i>scanning{extra} …</i>"
        if self.figure is None:
            return
        with self.figure.batch_update():
            for trace in self.figure.data:
                trace.opacity = 0.3 if busy else None  # None: plotly's own, fully opaque

    def _draw(self) -> None:
        d = self.curves["distances"]
        before = self.distance.value if len(self.distance.options) > 1 else None
        options = [round(float(x), 3) for x in d]
        keep = options[int(np.argmin(np.abs(d - before)))] if before is not None else options[0]
        figure = self._chart(options.index(keep))
        if self.figure is None:
            # The first chart is wrapped only once drawn in full, by a FigureWidget that sends
            # it whole in its first message (figure_widget.py): the browser draws a
            # FigureWidget from its initial state, and the changes sent after that are lost
            # while plotly's 5 MB bundle is still loading.
            self.figure = FigureWidget(figure)
            top = self.children[0]
            top.children = (top.children[0], self.figure)
        else:  # shown by now: the browser applies the changes
            with self.figure.batch_update():
                self.figure.data = []
                self.figure.add_traces(list(figure.data))
        self.distance.unobserve(self._moved, "value")
        self.distance.options = options
        self.distance.value = keep
        self.distance.observe(self._moved, "value")
        self.view = _replace_view(self, self.frames[2][0])
        self._moved({"new": self.distance.value})

    def _chart(self, current: int):
        """The E_int(d) chart of the current curves as a go.Figure, height ``current`` marked."""
        d = self.curves["distances"]
        colors = model_colors([bool(m.levels) for m in self.models.values()])
        figure = go.Figure(
            layout={
                "title": {"text": "interaction energy E_int(d)"},
                "xaxis": {"title": {"text": "height above the flake (Å)"}},
                "yaxis": {"title": {"text": "E_int (meV)"}},
                "height": 420, "width": 620, "margin": {"l": 70, "r": 10, "t": 40, "b": 50},
            }
        )  # fmt: skip
        first_muse = next((k for k, m in self.models.items() if m.levels), None)
        for label, color in zip(self.models, colors, strict=True):
            c = self.curves[label]
            bare = not self.coarse.value and self.models[label].levels
            suffix = " (backbone only)" if bare else ""
            figure.add_scatter(
                x=d, y=1000 * c["e_int"], mode="lines", name=label + suffix, line_color=color
            )
            if label == first_muse and self.coarse.value:
                names = scale_names(c["scales"].shape[0] - 1)
                for name, ys in zip(names, c["scales"], strict=True):
                    figure.add_scatter(
                        x=d, y=1000 * ys, mode="lines", name=f"{label}: {name}",
                        line={"dash": "dash", "width": 1.5, "color": scale_color(name)},
                    )  # fmt: skip
        if self.reference is not None:
            figure.add_scatter(
                x=self.reference["distances"], y=1000 * self.reference["e_int"],
                mode="markers", name="GFN2-xTB", marker_color=scale_color("reference"),
            )  # fmt: skip
        first = self.curves[next(iter(self.models))]["e_int"]
        figure.add_scatter(
            x=[d[current]], y=[1000 * first[current]], mode="markers", name="current",
            marker={"size": 14, "symbol": "circle-open", "color": colors[0],
                    "line": {"width": 3}},
        )  # fmt: skip
        return figure

    def _moved(self, change) -> None:
        """Move the molecule to the slider's height and mark the point on the curve."""
        t0 = time.perf_counter()
        d = self.curves["distances"]
        i = int(np.argmin(np.abs(d - float(change["new"]))))
        self.view.set_positions(self.frames[2][i].positions)
        label = next(iter(self.models))
        marker = self.figure.data[-1]
        with self.figure.batch_update():
            marker.x, marker.y = [d[i]], [1000 * self.curves[label]["e_int"][i]]
        self.timings["slider"] = time.perf_counter() - t0

    def _picked_molecule(self, change) -> None:
        if change["new"] is None or self.run():
            return
        self._set_menu(change["old"])  # refused: the menu shows the molecule of the chart

    def _set_menu(self, value) -> None:
        self.molecule.unobserve(self._picked_molecule, "value")
        self.molecule.value = value
        self.molecule.observe(self._picked_molecule, "value")

    def _uploaded_file(self, change) -> None:
        """Scan an uploaded molecule; the menu lists it only once its scan has succeeded."""
        files = change["new"]
        if not files:
            return
        f = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        try:
            atoms = read_molecule(bytes(f["content"]), f["name"])
        except Exception as err:
            self.status.value = f"<span style='color:#b00'>{err}</span>"
            return
        if not self.run(molecule=atoms):
            return
        key = f"{f['name']} (uploaded)"
        self._molecules[key] = atoms
        if key not in [v for _, v in self.molecule.options]:
            self.molecule.unobserve(self._picked_molecule, "value")
            self.molecule.options = [*self.molecule.options, (key, key)]
            self.molecule.observe(self._picked_molecule, "value")
        self._set_menu(key)


def _element_colors(atoms) -> list[str]:
    table = {1: "#dddddd", 6: "#555555", 7: "#3050f8", 8: "#ff0d0d"}
    return [table.get(int(z), "#ff69b4") for z in atoms.numbers]


def _side_view(atoms) -> StructureView:
    """The scan's 3D view of ``atoms``: from the side, wide and low, coloured by element."""
    view = StructureView(atoms, tilt=SIDE_VIEW, height=SIDE_VIEW_HEIGHT)
    view.widget.layout.width = SIDE_VIEW_WIDTH
    view.paint(_element_colors(atoms))
    return view


def _replace_view(explorer: ScanExplorer, atoms) -> StructureView:
    """A fresh 3D view when the scan's atoms change (nglview cannot change atom count).

    Also the first view of a deferred explorer.
    """
    old = explorer._view_atoms
    same = len(old) == len(atoms) and (old.numbers == atoms.numbers).all()
    if same and explorer.view is not None:
        return explorer.view
    view = _side_view(atoms)
    explorer._view_atoms = atoms
    row = explorer.children[1]
    row.children = (view.widget, explorer.distance)
    return view
