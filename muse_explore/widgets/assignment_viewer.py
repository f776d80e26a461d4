"""The assignment viewer: atoms coloured by their coarse node, nodes as spheres, live σ/T/hard."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import traitlets
from ase import Atoms

from muse_explore.explore.assignments import atom_colors, atom_labels, legend, node_spheres
from muse_explore.explore.models import resolve_model
from muse_explore.explore.snapshot import Snapshot, snapshots
from muse_explore.explore.sweep import SWEEP_RANGES, sweep_values
from muse_explore.widgets._deps import require
from muse_explore.widgets.layout import fill, labelled
from muse_explore.widgets.structure_view import StructureView

widgets, _, _ = require()

#: Milliseconds between the steps of the ▶ sweep (a σ change takes about 0.1 s at 100 atoms).
SWEEP_INTERVAL_MS = 700


class AssignmentViewer(widgets.VBox):
    """Soft assignments of a structure or trajectory on a 3D view.

    Atoms take the colour of their dominant coarse node on the chosen level, with the share
    setting the intensity; coarse nodes are translucent spheres. Pick a node (the node menu,
    a click on an atom, or a linked energy chart) to see its membership over all atoms on a
    white-to-blue scale; the picked node's sphere is drawn as an outline. Hovering or clicking
    an atom shows its index, element, node and share. The σ and temperature sliders and the
    soft/hard switch change the assignments live (on a copy of the model); the frame slider
    walks a trajectory.

    Views that draw from :meth:`snapshot` observe ``revision`` (not the sliders): it is bumped
    after the model and the cache have changed, so they never redraw from the old settings,
    whatever order the controls were used in.

    Traits: ``level`` (1..L), ``node`` (-1: none), ``frame``, ``revision``.
    """

    level = traitlets.Int(1)
    node = traitlets.Int(-1)
    frame = traitlets.Int(0)
    revision = traitlets.Int(0)

    def __init__(self, model, frames: Atoms | Sequence[Atoms], *, level: int = 1) -> None:
        self.model = copy.deepcopy(resolve_model(model)).to(torch.float64).eval()
        if self.model.levels < 1:
            raise ValueError("the assignment viewer needs a model with coarse levels")
        if not 1 <= int(level) <= self.model.levels:
            raise ValueError(f"level must be in 1..{self.model.levels}, got {level}")
        self.frames = [frames] if isinstance(frames, Atoms) else list(frames)
        if not self.frames:
            raise ValueError("the trajectory is empty")
        first = self.frames[0].get_chemical_symbols()
        for k, frame in enumerate(self.frames[1:], start=1):
            if frame.get_chemical_symbols() != first:
                raise ValueError(
                    f"trajectory frame {k} is {frame.get_chemical_formula()} ({len(frame)} atoms) "
                    f"where frame 0 is {self.frames[0].get_chemical_formula()} "
                    f"({len(first)} atoms): a trajectory keeps its atoms, in one order"
                )
        self._cache: dict[int, Snapshot] = {}
        self._syncing = False  # set while a level change moves the σ slider to that level's σ
        self.picked_atom: int | None = None
        # one converter for the whole trajectory: frames keep the seeds of the first
        self._converter = self.model.graph_converter(dtype=torch.float64, follow=True)
        self.view = StructureView(self.frames)
        cfg = self.model.config
        sigmas = [lev.sigma for lev in cfg.levels[1:]]
        self.level_menu = widgets.Dropdown(
            options=[(f"level {lev}", lev) for lev in range(1, self.model.levels + 1)],
            value=level, description="level",
        )  # fmt: skip
        self.node_menu = widgets.Dropdown(description="node")
        self.sigma = widgets.FloatSlider(
            # room for every level's own σ (deeper defaults double per level) and wider trials
            value=float(sigmas[level - 1]), min=0.2, max=max(8.0, 2 * max(sigmas)), step=0.1,
            description="σ (Å)", continuous_update=False,
        )  # fmt: skip
        # two decades in 200 steps across a wide track: ~0.01 decade per pixel
        self.temperature = widgets.FloatLogSlider(
            value=float(cfg.levels[level].temperature), base=10, min=-1.0, max=1.0, step=0.01,
            description="temperature", continuous_update=False, readout_format=".3g",
        )  # fmt: skip
        self.hard = widgets.ToggleButtons(
            options=["soft", "hard"], value="hard" if cfg.hard else "soft", description="assignment"
        )
        self.frame_slider = widgets.IntSlider(
            value=0, min=0, max=len(self.frames) - 1, description="frame",
            continuous_update=False, layout=widgets.Layout(
                display="flex" if len(self.frames) > 1 else "none"),
        )  # fmt: skip
        # ▶ sweeps σ (of the shown level) or the temperature there and back, in a loop
        self.sweep_kind = widgets.ToggleButtons(
            options=[("σ", "sigma"), ("temperature", "temperature")], value="sigma",
            description="sweep",
        )  # fmt: skip
        self.play = widgets.Play(value=0, min=0, max=1, interval=SWEEP_INTERVAL_MS, repeat=True,
                                 description="sweep σ or temperature")  # fmt: skip
        self._sweep_values()
        self.sweep_kind.observe(lambda _c: self._sweep_values(), "value")
        self.play.observe(self._swept, "value")
        self.legend = widgets.HTML()
        for control in (self.level_menu, self.node_menu, self.sigma, self.temperature,
                        self.hard, self.frame_slider):  # fmt: skip
            labelled(control, width="90px")
        controls = widgets.VBox(
            [self.level_menu, self.node_menu, self.sigma, self.temperature, self.hard,
             widgets.HBox([self.play, labelled(self.sweep_kind)]), self.frame_slider,
             self.legend],
            layout=widgets.Layout(flex="2 1 0%", min_width="360px"),
        )  # fmt: skip
        super().__init__(
            [widgets.HBox([self.view.widget, controls], layout=widgets.Layout(width="100%"))]
        )
        fill(self.view.widget, "3 1 0%", "420px")  # the dashboard's full width
        self.level = level
        self.level_menu.observe(lambda c: setattr(self, "level", c["new"]), "value")
        self.node_menu.observe(lambda c: setattr(self, "node", c["new"]), "value")
        self.frame_slider.observe(lambda c: setattr(self, "frame", c["new"]), "value")
        self.sigma.observe(self._pooling_changed, "value")
        self.temperature.observe(self._pooling_changed, "value")
        self.hard.observe(self._pooling_changed, "value")
        self.view.widget.observe(self._picked, "picked")
        self._node_options()
        self.redraw()

    # ------------------------------------------------------------------ data
    def snapshot(self, frame: int | None = None) -> Snapshot:
        """The evaluated frame (cached until the pooling settings change)."""
        f = self.frame if frame is None else int(frame)
        if f not in self._cache:
            self._cache[f] = snapshots(self.model, self.frames[f], converter=self._converter)[0]
        return self._cache[f]

    def all_snapshots(self) -> list[Snapshot]:
        """Every frame evaluated, the missing ones in batches (for charts along a trajectory)."""
        missing = [f for f in range(len(self.frames)) if f not in self._cache]
        if missing:
            evaluated = snapshots(
                self.model, [self.frames[f] for f in missing], converter=self._converter
            )
            self._cache.update(zip(missing, evaluated, strict=True))
        return [self._cache[f] for f in range(len(self.frames))]

    def colors(self) -> list[str]:
        """The atom colours now shown."""
        node = self.node if self.node >= 0 else None
        return atom_colors(self.snapshot(), self.level, node=node)

    # ------------------------------------------------------------------ events
    @traitlets.validate("level")
    def _valid_level(self, proposal):
        if not 1 <= proposal["value"] <= self.model.levels:
            raise traitlets.TraitError(f"level must be in 1..{self.model.levels}")
        return proposal["value"]

    @traitlets.validate("frame")
    def _valid_frame(self, proposal):
        if not 0 <= proposal["value"] < len(self.frames):
            raise traitlets.TraitError(f"frame must be in 0..{len(self.frames) - 1}")
        return proposal["value"]

    @traitlets.observe("level")
    def _level_changed(self, change) -> None:
        if self.level_menu.value != change["new"]:
            self.level_menu.value = change["new"]
        self._syncing = True  # the slider shows this level's σ; the model is unchanged
        try:
            self.sigma.value = float(self.model.config.levels[change["new"]].sigma)
        finally:
            self._syncing = False
        self._node_options()
        self.node = -1
        self.redraw()

    @traitlets.observe("node")
    def _node_changed(self, change) -> None:
        if self.node_menu.value != change["new"]:
            self.node_menu.value = change["new"]
        self.redraw()

    @traitlets.observe("frame")
    def _frame_changed(self, change) -> None:
        self.frame_slider.value = change["new"]
        self.view.set_frame(change["new"])
        self._node_options()
        self.redraw()

    def _pooling_changed(self, _change=None) -> None:
        if self._syncing:
            return
        self.model.set_pooling(
            sigma=self.sigma.value, level=self.level, temperature=self.temperature.value,
            hard=self.hard.value == "hard",
        )  # fmt: skip
        self._cache.clear()
        self._node_options()
        self.redraw()
        self.revision += 1  # last: dependent views redraw from the new snapshot

    def _sweep_values(self) -> None:
        kind = self.sweep_kind.value
        low, high = SWEEP_RANGES[kind]
        if kind == "sigma":  # within the slider's range
            low, high = max(low, self.sigma.min), min(high, self.sigma.max)
        else:  # a log slider: its range is base ** (min, max)
            t = self.temperature
            low, high = max(low, t.base**t.min), min(high, t.base**t.max)
        self.sweep = sweep_values(kind, low=low, high=high)
        self.play.max = len(self.sweep) - 1

    def _swept(self, change) -> None:
        """One step of the ▶ sweep: move the σ or temperature slider (which re-evaluates)."""
        value = float(self.sweep[int(change["new"]) % len(self.sweep)])
        (self.sigma if self.sweep_kind.value == "sigma" else self.temperature).value = value

    def _picked(self, change) -> None:
        atom = (change["new"] or {}).get("atom1", {}).get("index")
        if atom is None:
            return
        self.picked_atom = int(atom)
        k, _ = self.snapshot().dominant(self.level)
        if self.node == int(k[int(atom)]):
            self.redraw()  # same node: the pick line of the legend still changes
        self.node = int(k[int(atom)])

    # ------------------------------------------------------------------ drawing
    def _node_options(self) -> None:
        n = self.snapshot().num_nodes(self.level)
        options = [("all (dominant node)", -1)] + [(f"node {k}", k) for k in range(n)]
        if list(self.node_menu.options) != options:
            self.node_menu.options = options
        if self.node >= n:
            self.node = -1
        self.node_menu.value = self.node

    def redraw(self) -> None:
        """Repaint atoms, spheres and legend from the current state."""
        snap = self.snapshot()
        highlight = self.node if self.node >= 0 else None
        self.view.paint(self.colors())
        self.view.draw_spheres(node_spheres(snap, self.level, highlight=highlight))
        labels = atom_labels(snap, self.level, node=highlight)
        self.view.set_labels(labels)
        picked = ""
        if self.picked_atom is not None and self.picked_atom < len(labels):
            picked = f"<br>picked: {labels[self.picked_atom]}"
        rows = "".join(
            f"<tr><td style='background:{r['color']};width:14px'></td><td>node {r['node']}</td>"
            f"<td>{r['mass']:.1f} atoms</td><td>{1000 * r['energy']:.1f} meV</td>"
            f"<td>seed {r['seed']}</td></tr>"
            for r in legend(snap, self.level)
        )
        scale = (
            f"membership of node {self.node}: white 0 → dark blue 1"
            if highlight is not None
            else "colour: dominant node; intensity: the atom's share in it"
        )
        self.legend.value = (
            f"<b>level {self.level}</b>: {snap.num_nodes(self.level)} nodes; {scale}{picked}"
            f"<table style='font-size:11px'>{rows}</table>"
        )
