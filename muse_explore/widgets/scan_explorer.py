"""The graphene-distance scan: E_int(d) for several models, live 3D view and distance slider."""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np

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
from muse_explore.widgets.structure_view import StructureView

widgets, _, go = require()

#: Line colours: models in order, then the reference.
LINE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
#: Dashed per-scale lines of the first MuSE model (atoms, level 1, level 2).
SCALE_COLORS = ("#6baed6", "#74c476", "#fd8d3c")


class ScanExplorer(widgets.VBox):
    """What happens when a molecule approaches graphene, for one or more models.

    Pick a molecule (or upload an .xyz/.extxyz), a flake, a lateral offset, a rotation, a
    tilt and a distance range; "scan" evaluates all distances as one batch per model and
    draws E_int(d), with the per-scale split of the first MuSE model as dashed lines. The
    distance slider moves the molecule in the 3D view and marks the point on the curves.
    "coarse levels" off drops them from the MuSE models (their backbone alone), to show what
    the long range adds. "GFN2-xTB" adds the reference on every fifth distance when tblite is
    installed (about a second per point).

    Attributes:
        curves: the last :func:`muse_explore.explore.interaction_curves` result.
        timings: seconds of the last scan (``scan``) and slider move (``slider``).
    """

    def __init__(self, models: Mapping[str, object], *, setup: ScanSetup | None = None) -> None:
        if not models:
            raise ValueError("give at least one model, e.g. {'MuSE': 'muse-painn-graphene'}")
        self.models = {k: resolve_model(m) for k, m in models.items()}
        self.setup = setup if setup is not None else ScanSetup()
        self.curves: dict = {}
        self.reference: dict | None = None
        self.timings: dict[str, float] = {}
        s = self.setup
        self._uploaded = s.molecule.copy() if not isinstance(s.molecule, str) else None
        self.molecule = widgets.Dropdown(
            options=list(MOLECULES), value=s.molecule if isinstance(s.molecule, str) else None,
            description="molecule",
        )  # fmt: skip
        self.upload = widgets.FileUpload(
            accept=".xyz,.extxyz", multiple=False, description="upload"
        )
        if int(s.rings) not in FLAKES.values():
            raise ValueError(f"the scan widget offers flakes with rings {sorted(FLAKES.values())}")
        self.flake = widgets.Dropdown(
            options=list(FLAKES.items()), value=int(s.rings), description="flake"
        )
        self.offset_x = widgets.FloatSlider(
            value=s.offset[0], min=-4, max=4, step=0.1, description="offset x (Å)"
        )
        self.offset_y = widgets.FloatSlider(
            value=s.offset[1], min=-4, max=4, step=0.1, description="offset y (Å)"
        )
        self.rotation = widgets.FloatSlider(
            value=s.rotation, min=0, max=360, step=5, description="rotation (°)"
        )
        self.tilt = widgets.FloatSlider(value=s.tilt, min=0, max=90, step=5, description="tilt (°)")
        self.range = widgets.FloatRangeSlider(
            value=(float(s.distances.min()), float(s.distances.max())), min=2.0, max=20.0,
            step=0.1, description="d (Å)",
        )  # fmt: skip
        self.points = widgets.IntSlider(
            value=len(s.distances), min=5, max=200, description="points"
        )
        self.coarse = widgets.Checkbox(value=True, description="coarse levels")
        self.xtb = widgets.Checkbox(
            value=False, description="GFN2-xTB", disabled=not tblite_available(),
            tooltip="tblite found" if tblite_available() else "needs the [reference] extra",
        )  # fmt: skip
        self.button = widgets.Button(description="scan", button_style="primary")
        self.status = widgets.HTML()
        self.distance = widgets.SelectionSlider(
            options=[0.0], description="distance", continuous_update=True
        )
        self.figure = go.FigureWidget(
            layout={
                "title": {"text": "interaction energy E_int(d)"},
                "xaxis": {"title": {"text": "distance d (Å)"}},
                "yaxis": {"title": {"text": "E_int (meV)"}},
                "height": 420, "width": 620, "margin": {"l": 60, "r": 10, "t": 40, "b": 40},
            }
        )  # fmt: skip
        self.frames = scan_frames(self.setup)
        self.view = StructureView(self.frames[2][0])
        self.view.widget.layout.width = "480px"
        self.view.paint(_element_colors(self.frames[2][0]))
        controls = widgets.VBox(
            [self.molecule, self.upload, self.flake, self.offset_x, self.offset_y, self.rotation,
             self.tilt, self.range, self.points, widgets.HBox([self.coarse, self.xtb]),
             self.button, self.status]
        )  # fmt: skip
        super().__init__(
            [widgets.HBox([controls, self.figure]), widgets.HBox([self.view.widget, self.distance])]
        )
        self.button.on_click(lambda _b: self.run())
        self.coarse.observe(lambda _c: self.run(), "value")
        self.upload.observe(self._uploaded_file, "value")
        self.molecule.observe(self._picked_molecule, "value")
        self.distance.observe(self._moved, "value")
        self.run()

    # ------------------------------------------------------------------ actions
    def current_setup(self) -> ScanSetup:
        """The scan the controls describe."""
        lo, hi = self.range.value
        return ScanSetup(
            molecule=self._uploaded if self._uploaded is not None else self.molecule.value,
            rings=int(self.flake.value), offset=(self.offset_x.value, self.offset_y.value),
            rotation=self.rotation.value, tilt=self.tilt.value,
            distances=np.linspace(lo, hi, int(self.points.value)),
        )  # fmt: skip

    def run(self) -> None:
        """Build the scan from the controls and evaluate every model (batched)."""
        t0 = time.perf_counter()
        try:  # nothing on self changes unless the whole scan succeeds
            setup = self.current_setup()
            frames = scan_frames(setup)
            models = {
                label: (m if self.coarse.value or not m.levels else m.backbone_only())
                for label, m in self.models.items()
            }
            curves = interaction_curves(models, setup, frames=frames)
            reference = reference_curve(setup, every=5, frames=frames) if self.xtb.value else None
        except Exception as err:  # shown in the widget, not as a traceback
            self.status.value = f"<span style='color:#b00'>{type(err).__name__}: {err}</span>"
            return
        self.setup, self.frames, self.curves, self.reference = setup, frames, curves, reference
        self.timings["scan"] = time.perf_counter() - t0
        self._draw()
        n = len(self.setup.distances)
        self.status.value = (
            f"{n} distances × {len(self.models)} model(s) in {self.timings['scan']:.2f} s"
        )

    def _draw(self) -> None:
        d = self.curves["distances"]
        with self.figure.batch_update():
            self.figure.data = []
            first_muse = next((k for k, m in self.models.items() if m.levels), None)
            for i, label in enumerate(self.models):
                c = self.curves[label]
                color = LINE_COLORS[i % len(LINE_COLORS)]
                suffix = (
                    "" if self.coarse.value or not self.models[label].levels else " (backbone only)"
                )
                self.figure.add_scatter(
                    x=d, y=1000 * c["e_int"], mode="lines", name=label + suffix, line_color=color
                )
                if label == first_muse and self.coarse.value:
                    names = scale_names(c["scales"].shape[0] - 1)
                    for j, (name, ys) in enumerate(zip(names, c["scales"], strict=True)):
                        self.figure.add_scatter(
                            x=d, y=1000 * ys, mode="lines", name=f"{label}: {name}",
                            line={"dash": "dash", "width": 1, "color": SCALE_COLORS[j % 3]},
                        )  # fmt: skip
            if self.reference is not None:
                self.figure.add_scatter(
                    x=self.reference["distances"], y=1000 * self.reference["e_int"],
                    mode="markers", name="GFN2-xTB", marker_color="black",
                )  # fmt: skip
            self.figure.add_scatter(x=[d[0]], y=[0.0], mode="markers", name="current",
                                    marker={"size": 12, "color": "red", "symbol": "x"})  # fmt: skip
        self.distance.unobserve(self._moved, "value")
        self.distance.options = [round(float(x), 3) for x in d]
        self.distance.value = self.distance.options[0]
        self.distance.observe(self._moved, "value")
        complex0 = self.frames[2][0]
        self.view = _replace_view(self, complex0)
        self._moved({"new": self.distance.value})

    def _moved(self, change) -> None:
        """Move the molecule to the slider's distance and mark the point on the curve."""
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
        if change["new"] is not None:  # a listed molecule replaces an uploaded one
            self._uploaded = None
            self.run()

    def _uploaded_file(self, change) -> None:
        files = change["new"]
        if not files:
            return
        f = files[0] if isinstance(files, (list, tuple)) else next(iter(files.values()))
        try:
            self._uploaded = read_molecule(bytes(f["content"]), f["name"])
        except Exception as err:
            self.status.value = f"<span style='color:#b00'>{err}</span>"
            return
        self.molecule.unobserve(self._picked_molecule, "value")
        self.molecule.value = None
        self.molecule.observe(self._picked_molecule, "value")
        self.run()


def _element_colors(atoms) -> list[str]:
    table = {1: "#dddddd", 6: "#555555", 7: "#3050f8", 8: "#ff0d0d"}
    return [table.get(int(z), "#ff69b4") for z in atoms.numbers]


def _replace_view(explorer: ScanExplorer, atoms) -> StructureView:
    """A fresh 3D view when the scan's atoms change (nglview cannot change atom count)."""
    if (
        len(explorer.view.widget._ngl_component_ids)
        and getattr(explorer, "_view_atoms", None) is not None
    ):
        old = explorer._view_atoms
        if len(old) == len(atoms) and (old.numbers == atoms.numbers).all():
            return explorer.view
    view = StructureView(atoms)
    view.widget.layout.width = "480px"
    view.paint(_element_colors(atoms))
    explorer._view_atoms = atoms
    row = explorer.children[1]
    row.children = (view.widget, explorer.distance)
    return view
