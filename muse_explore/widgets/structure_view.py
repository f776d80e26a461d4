"""An nglview 3D view that the explorer paints: atom colours, coarse-node spheres, frames."""

from __future__ import annotations

from collections.abc import Sequence

from ase import Atoms

from muse_explore.explore.assignments import color_groups
from muse_explore.widgets._deps import require


class StructureView:
    """nglview widget of a structure or trajectory, with the explorer's paint operations.

    Attributes:
        widget: the ``nglview.NGLWidget``.
        groups: colour -> atom indices of the current painting (one representation each).
        spheres: the spheres drawn last (dicts of :func:`muse_explore.explore.node_spheres`).
    """

    def __init__(self, frames: Atoms | Sequence[Atoms], *, height: str = "420px") -> None:
        _, nglview, _ = require()
        frames = [frames] if isinstance(frames, Atoms) else list(frames)
        if len(frames) == 1:
            self.widget = nglview.show_ase(frames[0])
        else:
            self.widget = nglview.show_asetraj(frames)
        self.widget.layout.height = height
        self.widget.clear_representations()
        self.groups: dict[str, list[int]] = {}
        self.spheres: list[dict] = []
        self._shapes: list = []

    def paint(self, colors: list[str], *, style: str = "ball+stick") -> None:
        """Colour atom ``i`` with ``colors[i]`` (one representation per distinct colour)."""
        self.groups = color_groups(colors)
        self.widget.clear_representations(component=0)
        for color, atoms in self.groups.items():
            sel = "@" + ",".join(str(i) for i in atoms)
            self.widget.add_representation(style, selection=sel, color=color, component=0)

    def draw_spheres(self, spheres: list[dict]) -> None:
        """Replace the spheres; translucent ones in one shape, opaque (highlighted) in another."""
        for shape in self._shapes:
            self.widget.remove_component(shape)
        self._shapes = []
        self.spheres = list(spheres)
        for opacity in sorted({s["opacity"] for s in spheres}):
            items = [
                ("sphere", s["center"], s["color"], s["radius"])
                for s in spheres
                if s["opacity"] == opacity
            ]
            shape = self.widget._add_shape(items, name=f"coarse nodes {opacity:g}")
            self._shapes.append(shape)
            index = len(self.widget._ngl_component_ids) - 1
            self.widget.update_representation(component=index, repr_index=0, opacity=opacity)

    def set_frame(self, frame: int) -> None:
        """Show trajectory frame ``frame``."""
        self.widget.frame = int(frame)

    def set_positions(self, positions) -> None:
        """Move the atoms of the (single-structure) view to ``positions`` (n, 3) Å."""
        self.widget.set_coordinates({0: positions})
