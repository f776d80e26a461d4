"""The influence map: which atoms act on a chosen atom, for the backbone alone and for MuSE."""

from __future__ import annotations

import numpy as np
from ase import Atoms

from muse_explore.explore.colors import sequential
from muse_explore.explore.influence import influence
from muse_explore.explore.models import resolve_model
from muse_explore.widgets._deps import require
from muse_explore.widgets.structure_view import StructureView

widgets, _, _ = require()


class InfluenceMap(widgets.VBox):
    """Two 3D views side by side: the backbone alone (left) and MuSE (right).

    Pick an atom (slider, or click it in either view); every other atom is coloured by how
    strongly it acts on the picked one: the norm of their Hessian block (eV/Å²) or of
    ∂E_i/∂r_j (eV/Å). Both views share one colour scale (the largest value outside the picked
    atom itself), so the backbone's finite reach and MuSE's longer one can be compared.

    Attributes:
        values: ``{"backbone": (n,), "MuSE": (n,)}`` for the current atom and kind.
    """

    def __init__(self, model, atoms: Atoms, *, atom: int | None = None, kind: str = "hessian"):
        self.model = resolve_model(model)
        if self.model.levels < 1:
            raise ValueError("the influence map compares MuSE with its backbone: give a MuSE model")
        self.base = self.model.backbone_only()
        self.atoms = atoms
        self.values: dict[str, np.ndarray] = {}
        first = len(atoms) - 1 if atom is None else int(atom)
        if not 0 <= first < len(atoms):
            raise ValueError(f"atom must be in 0..{len(atoms) - 1}, got {atom}")
        self.atom = widgets.IntSlider(
            value=first, min=0, max=len(atoms) - 1, description="atom", continuous_update=False
        )
        self.kind = widgets.ToggleButtons(
            options=[("Hessian block ‖H_ij‖", "hessian"), ("‖∂E_i/∂r_j‖", "energy")], value=kind
        )
        self.info = widgets.HTML()
        self.views = {"backbone": StructureView(atoms), "MuSE": StructureView(atoms)}
        boxes = []
        for name, view in self.views.items():
            view.widget.layout.width = "480px"
            view.widget.observe(self._picked, "picked")
            label = "backbone alone" if name == "backbone" else "MuSE (all levels)"
            boxes.append(widgets.VBox([widgets.HTML(f"<b>{label}</b>"), view.widget]))
        super().__init__([widgets.HBox([self.atom, self.kind]), widgets.HBox(boxes), self.info])
        self.atom.observe(lambda _c: self.refresh(), "value")
        self.kind.observe(lambda _c: self.refresh(), "value")
        self.refresh()

    def _picked(self, change) -> None:
        atom = (change["new"] or {}).get("atom1", {}).get("index")
        if atom is not None:
            self.atom.value = int(atom)

    def refresh(self) -> None:
        """Recompute both maps for the current atom and kind, and repaint."""
        i, kind = int(self.atom.value), self.kind.value
        self.values = {
            "backbone": influence(self.base, self.atoms, i, kind=kind),
            "MuSE": influence(self.model, self.atoms, i, kind=kind),
        }
        others = np.ones(len(self.atoms), dtype=bool)
        others[i] = False
        vmax = max(float(v[others].max(initial=0.0)) for v in self.values.values())
        for name, view in self.views.items():
            colors = sequential(np.where(others, self.values[name], 0.0), vmax=vmax)
            colors[i] = "#ff0000"
            view.paint(colors)
        unit = "eV/Å²" if kind == "hessian" else "eV/Å"
        reach = {
            name: int((v[others] > 1e-10).sum()) for name, v in self.values.items()
        }  # atoms acting on it above 1e-10 (the notebooks count the same way)
        self.info.value = (
            f"atom {i} ({self.atoms[i].symbol}, red); colour scale 0 → {vmax:.3g} {unit}. "
            f"Atoms acting on it: backbone {reach['backbone']}, MuSE {reach['MuSE']} "
            f"of {len(self.atoms) - 1}."
        )
