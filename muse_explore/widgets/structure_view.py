"""An nglview 3D view that the explorer paints: atom colours, coarse-node spheres, frames."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from ase import Atoms

from muse_explore.explore.assignments import color_groups
from muse_explore.widgets._deps import require

#: Default camera tilt about the x axis, degrees (0: looking straight down z).
TILT_DEGREES = 65.0
#: Bonds: one grey stick representation of the whole structure (radius in Å).
BOND_COLOR = "#9e9e9e"
BOND_RADIUS = 0.12
#: Atom spheres: this fraction of the van der Waals radius (C 0.42 Å, H 0.28 Å).
ATOM_RADIUS_SCALE = 0.25

#: Run once in the browser view (``this`` is nglview's widget view, ``this.stage`` NGL's stage).
#: NGL's default mouse preset moves a clicked atom to the centre of the view (``movePick`` on
#: a left click), which throws the structure partly out of frame: left clicks only pick here
#: (nglview still reports them in ``picked``). The hover tooltip and nglview's pick label read
#: the labels that :meth:`StructureView.set_labels` sends (atom index, element, node, share)
#: instead of NGL's "[MOL]1:A.H".
PICKING_JS = """
var view = this;
var mc = this.stage.mouseControls;
mc.remove("clickPick-left");
mc.remove("hoverPick");
var label = function (pp) {
  var labels = view._museLabels;
  if (pp && pp.atom && labels && pp.component === view.stage.compList[0]) {
    return labels[pp.atom.index];
  }
  return undefined;
};
mc.add("hoverPick", function (stage, pp) {
  var tt = stage.tooltip;
  if (stage.getParameters().tooltip && pp) {
    var mp = pp.mouse.position;
    tt.innerText = label(pp) || pp.getLabel();
    tt.style.bottom = (window.innerHeight - mp.y + 3) + "px";
    tt.style.left = (mp.x + 3) + "px";
    tt.style.display = "block";
  } else {
    tt.style.display = "none";
  }
});
this.stage.signals.clicked.add(function (pp) {
  var text = label(pp);
  if (text && view.$pickingInfo) { view.$pickingInfo.text(text); }
});
"""


class StructureView:
    """nglview widget of a structure or trajectory, with the explorer's paint operations.

    The camera is centred on the structure once it is loaded and tilted (``tilt`` degrees
    about the x axis, :data:`TILT_DEGREES` by default; 90 is a side view), so that a
    molecule above a flake shows its gap instead of hiding in it; it stays where the user
    puts it: clicking an atom picks it without moving the view. Bonds are drawn once, in
    grey, for the whole structure, and the atoms' colours on top, so bonds between atoms of
    different colours are not lost.

    Attributes:
        widget: the ``nglview.NGLWidget``.
        groups: colour -> atom indices of the current painting (one representation each).
        spheres: the spheres drawn last (dicts of :func:`muse_explore.explore.node_spheres`).
        labels: the hover and pick label of every atom (:meth:`set_labels`).
    """

    def __init__(
        self, frames: Atoms | Sequence[Atoms], *, height: str = "420px", tilt: float = TILT_DEGREES
    ) -> None:
        _, nglview, _ = require()
        self.tilt = float(tilt)
        frames = [frames] if isinstance(frames, Atoms) else list(frames)
        if len(frames) == 1:
            self.widget = nglview.show_ase(frames[0])
        else:
            self.widget = nglview.show_asetraj(frames)
        self.widget.layout.height = height
        self.widget.clear_representations()
        self.groups: dict[str, list[int]] = {}
        self.spheres: list[dict] = []
        self.labels: list[str] = []
        self._shapes: list = []
        self.widget._execute_js_code(PICKING_JS)
        self.center()

    def center(self) -> None:
        """Fit the camera to the structure and tilt it (sent after the structure has loaded)."""
        self.widget.center(component=0)
        half = math.radians(self.tilt) / 2
        self.widget.control.rotate([-math.sin(half), 0.0, 0.0, math.cos(half)])

    def refresh(self) -> None:
        """Resize the canvas to its container and re-centre: for a view that was hidden.

        A view created in a hidden tab gets a 0×0 canvas; the explorer calls this when the
        tab is shown.
        """
        self.widget.handle_resize()
        self.center()

    def link_camera(self, other: StructureView) -> None:
        """Move this view's and ``other``'s cameras together (side-by-side comparisons)."""
        self.widget._set_sync_camera([other.widget])
        other.widget._set_sync_camera([self.widget])

    def paint(self, colors: list[str]) -> None:
        """Colour atom ``i`` with ``colors[i]``: bonds once for all atoms, then the atoms.

        One sphere representation per distinct colour, on top of one grey bond representation
        of the whole structure.
        """
        self.groups = color_groups(colors)
        self.widget.clear_representations(component=0)
        self.widget.add_representation(
            "licorice", selection="all", color=BOND_COLOR, radiusType="size",
            radiusSize=BOND_RADIUS, component=0,
        )  # fmt: skip
        for color, atoms in self.groups.items():
            sel = "@" + ",".join(str(i) for i in atoms)
            self.widget.add_representation(
                "spacefill", selection=sel, color=color, radiusType="vdw",
                radiusScale=ATOM_RADIUS_SCALE, component=0,
            )  # fmt: skip

    def set_labels(self, labels: list[str]) -> None:
        """The hover tooltip and pick label of each atom (``labels[i]`` for atom ``i``)."""
        if list(labels) == self.labels:
            return
        self.labels = list(labels)
        # fire_once: not kept in nglview's message archive, which would grow at every repaint
        self.widget._execute_js_code(
            f"this._museLabels = {json.dumps(self.labels)};", fire_once=True
        )

    def draw_spheres(self, spheres: list[dict]) -> None:
        """Replace the spheres: translucent ones grouped by opacity, outlines as thin rings."""
        for shape in self._shapes:
            self.widget.remove_component(shape)
        self._shapes = []
        self.spheres = list(spheres)
        for opacity in sorted({s["opacity"] for s in spheres}):
            items = [
                ("sphere", s["center"], s["color"], s["radius"], f"node {s['node']}")
                for s in spheres
                if s["opacity"] == opacity
            ]
            self._add_shape(items, f"coarse nodes {opacity:g}", opacity)
        rings = [
            ("torus", s["center"], s["color"], 0.03 * s["radius"], major, minor,
             f"node {s['node']}")
            for s in spheres if s.get("outline") for major, minor in s["rings"]
        ]  # fmt: skip
        if rings:
            self._add_shape(rings, "picked node", 1.0)

    def _add_shape(self, items: list[tuple], name: str, opacity: float) -> None:
        shape = self.widget._add_shape(items, name=name)
        self._shapes.append(shape)
        if opacity < 1.0:
            index = len(self.widget._ngl_component_ids) - 1
            self.widget.update_representation(component=index, repr_index=0, opacity=opacity)

    def set_frame(self, frame: int) -> None:
        """Show trajectory frame ``frame``."""
        self.widget.frame = int(frame)

    def set_positions(self, positions) -> None:
        """Move the atoms of the (single-structure) view to ``positions`` (n, 3) Å."""
        self.widget.set_coordinates({0: positions})
