"""The influence map: which atoms act on a chosen atom, for the backbone alone and for MuSE."""

from __future__ import annotations

import numpy as np
from ase import Atoms

from muse_explore.explore.colors import LOG_RAMP, log_ticks
from muse_explore.explore.influence import bonded_neighbours, influence, influence_colors
from muse_explore.explore.models import resolve_model
from muse_explore.widgets._deps import require
from muse_explore.widgets.layout import fill, labelled
from muse_explore.widgets.structure_view import StructureView

widgets, _, _ = require()


class InfluenceMap(widgets.VBox):
    """Two 3D views side by side: the backbone alone (left) and MuSE (right).

    Pick an atom (slider, or click it in either view); every other atom is coloured by how
    strongly it acts on the picked one: the norm of their Hessian block (eV/Å²) or of
    ∂E_i/∂r_j (eV/Å). Both views share one logarithmic colour scale spanning ``decades``
    decades below the largest value (the colour bar underneath), so MuSE's weak couplings
    across a gap (≈ 0.01-0.1 eV/Å²) show next to a bonded block (≈ 30 eV/Å²) and differ from
    the backbone's exact zeros, which stay white. "bonded neighbours off the scale" sets the
    top of the scale by the other atoms (the bonded ones are drawn darkest). ``defer=True``
    leaves the first map, and the creation of its two 3D views, to the first :meth:`refresh`
    (the explorer calls it when the tab is first shown).

    Attributes:
        values: ``{"backbone": (n,), "MuSE": (n,)}`` for the current atom and kind.
        scale: the :func:`muse_explore.explore.influence.influence_colors` result shown.
    """

    def __init__(
        self,
        model,
        atoms: Atoms,
        *,
        atom: int | None = None,
        kind: str = "hessian",
        decades: float = 5.0,
        leave_out_bonded: bool = False,
        defer: bool = False,
    ):
        self.model = resolve_model(model)
        if self.model.levels < 1:
            raise ValueError("the influence map compares MuSE with its backbone: give a MuSE model")
        self.base = self.model.backbone_only()
        self.atoms = atoms
        self.decades = float(decades)
        self.values: dict[str, np.ndarray] = {}
        self.scale: dict = {}
        first = len(atoms) - 1 if atom is None else int(atom)
        if not 0 <= first < len(atoms):
            raise ValueError(f"atom must be in 0..{len(atoms) - 1}, got {atom}")
        if kind not in ("hessian", "energy"):
            raise ValueError(f"kind must be 'hessian' or 'energy', got {kind!r}")
        self.atom = labelled(
            widgets.IntSlider(
                value=first, min=0, max=len(atoms) - 1, description="atom",
                continuous_update=False,
            )
        )  # fmt: skip
        self.kind = labelled(
            widgets.ToggleButtons(
                options=[("Hessian block ‖H_ij‖", "hessian"), ("‖∂E_i/∂r_j‖", "energy")],
                value=kind,
            )
        )
        self.bonded = widgets.Checkbox(
            value=leave_out_bonded, description="bonded neighbours off the scale", indent=False,
            layout=widgets.Layout(width="auto"),
        )  # fmt: skip
        self.info = widgets.HTML()
        self.colorbar = widgets.HTML()  # HTML, not a plotly figure: no 5 MB bundle to send
        # deferred: the two 3D views are created with the first map, while the tab is visible
        self.views: dict[str, StructureView] = {}
        self.row = widgets.HBox(
            [widgets.HTML("<i>the maps appear when this tab is first shown</i>")],
            layout=widgets.Layout(width="100%"),
        )
        super().__init__(
            [widgets.HBox([self.atom, self.kind, self.bonded]), self.row,
             widgets.HBox([self.colorbar, self.info])]
        )  # fmt: skip
        self.atom.observe(lambda _c: self.refresh(), "value")
        self.kind.observe(lambda _c: self.refresh(), "value")
        self.bonded.observe(lambda _c: self.repaint(), "value")
        if not defer:
            self.refresh()

    def _picked(self, change) -> None:
        atom = (change["new"] or {}).get("atom1", {}).get("index")
        if atom is not None:
            self.atom.value = int(atom)

    def _build_views(self) -> None:
        """The backbone's and MuSE's 3D views side by side, cameras linked."""
        self.views = {"backbone": StructureView(self.atoms), "MuSE": StructureView(self.atoms)}
        boxes = []
        for name, view in self.views.items():
            view.widget.layout.width = "100%"
            view.widget.observe(self._picked, "picked")
            label = "backbone alone" if name == "backbone" else "MuSE (all levels)"
            box = widgets.VBox([widgets.HTML(f"<b>{label}</b>"), view.widget])
            boxes.append(fill(box, "1 1 0%", "320px"))
        self.views["backbone"].link_camera(self.views["MuSE"])  # turn one, both turn
        self.row.children = boxes

    def refresh(self) -> None:
        """Recompute both maps for the current atom and kind, and repaint."""
        if not self.views:
            self._build_views()
        i, kind = int(self.atom.value), self.kind.value
        self.values = {
            "backbone": influence(self.base, self.atoms, i, kind=kind),
            "MuSE": influence(self.model, self.atoms, i, kind=kind),
        }
        self.repaint()

    def repaint(self) -> None:
        """Colour both views and the colour bar on one logarithmic scale."""
        i, kind = int(self.atom.value), self.kind.value
        leave_out = bonded_neighbours(self.atoms, i) if self.bonded.value else []
        self.scale = influence_colors(self.values, i, leave_out=leave_out, decades=self.decades)
        for name, view in self.views.items():
            view.paint(self.scale["colors"][name])
            view.set_labels(
                [f"atom {j} {a.symbol} · {_quantity(kind)} {v:.3g} {_unit(kind)}"
                 for j, (a, v) in enumerate(zip(self.atoms, self.values[name], strict=True))]
            )  # fmt: skip
        self._draw_colorbar()
        vmax, floor = self.scale["vmax"], self.scale["floor"]
        others = np.arange(len(self.atoms)) != i
        reach = {
            name: int((v[others] > 1e-10).sum()) for name, v in self.values.items()
        }  # atoms acting on it above 1e-10 (the notebooks count the same way)
        left_out = f", {len(leave_out)} bonded neighbours above it" if len(leave_out) else ""
        self.info.value = (
            f"atom {i} ({self.atoms[i].symbol}, red); log colour scale {floor:.2g} → "
            f"{vmax:.3g} {_unit(kind)}{left_out}; white: below {floor:.2g} or zero.<br>"
            f"Atoms acting on it: backbone {reach['backbone']}, MuSE {reach['MuSE']} "
            f"of {len(self.atoms) - 1}."
        )

    def _draw_colorbar(self) -> None:
        self.colorbar.value = colorbar_html(
            self.scale["vmax"], self.scale["decades"],
            f"{_quantity(self.kind.value)} ({_unit(self.kind.value)}), log scale",
        )  # fmt: skip


def colorbar_html(vmax: float, decades: float, title: str, *, width: int = 480) -> str:
    """A horizontal colour bar of :data:`LOG_RAMP` over ``decades`` decades below ``vmax``.

    The gradient runs through the ramp's stops evenly, as :func:`log_sequential` does, with
    a tick at every whole decade (:func:`log_ticks`).
    """
    hi = float(np.log10(vmax)) if vmax > 0 else 0.0
    ticks, labels = log_ticks(vmax, decades)
    marks = "".join(
        f"<span style='position:absolute;left:{100 * (t - hi + decades) / decades:.2f}%;"
        f"transform:translateX(-50%);top:0'>|<br>{label}</span>"
        for t, label in zip(ticks, labels, strict=True)
    )
    gradient = ", ".join(LOG_RAMP)
    return (
        f"<div class='muse-colorbar' style='width:{width}px;margin:4px 20px 0 20px;"
        f"font-size:12px;line-height:1.2'>"
        f"<div style='height:16px;background:linear-gradient(to right, {gradient});"
        f"border:1px solid #888'></div>"
        f"<div style='position:relative;height:32px'>{marks}</div>"
        f"<div style='text-align:center'>{title}</div></div>"
    )


def _unit(kind: str) -> str:
    return "eV/Å²" if kind == "hessian" else "eV/Å"


def _quantity(kind: str) -> str:
    return "‖H_ij‖" if kind == "hessian" else "‖∂E_i/∂r_j‖"
