"""Widget state without a browser: traitlets, what the 3D views were told, figure data."""

import numpy as np
import pytest

pytest.importorskip("nglview")
pytest.importorskip("plotly")

import plotly.graph_objects as go  # noqa: E402
from plotly.callbacks import Points  # noqa: E402

import muse_explore as mx  # noqa: E402
from muse_explore import widgets  # noqa: E402
from muse_explore.explore import atom_colors  # noqa: E402
from muse_explore.reference import benzene_on_graphene  # noqa: E402

# the ``model`` and ``atoms`` fixtures come from tests/widgets/conftest.py


def test_assignment_viewer_paints_levels_nodes_and_live_pooling(model, atoms):
    v = widgets.show_assignments(model=model, atoms=atoms)
    assert v.level == 1 and v.node == -1
    painted = {i: c for c, idx in v.view.groups.items() for i in idx}
    assert [painted[i] for i in range(len(atoms))] == atom_colors(v.snapshot(), 1)
    assert len(v.view.spheres) == v.snapshot().num_nodes(1)
    v.node = 2
    assert v.node_menu.value == 2 and v.view.spheres[2]["outline"]
    assert v.view.spheres[2]["opacity"] < v.view.spheres[0]["opacity"]  # members stay visible
    assert "membership of node 2" in v.legend.value
    v.level = 2
    assert v.node == -1 and len(v.view.spheres) == v.snapshot().num_nodes(2)
    before = v.snapshot().membership(2).copy()
    v.sigma.value = 0.5
    after = v.snapshot().membership(2)
    assert not np.allclose(before, after)
    assert model.config.levels[2].sigma != v.model.config.levels[2].sigma == 0.5
    assert model.config.levels[2].sigma != 0.5  # the user's model is left alone
    v.hard.value = "hard"
    assert v.model.config.hard and (v.snapshot().membership(1).max(axis=1) > 0.99).mean() > 0.8


def test_sigma_slider_holds_every_levels_own_sigma(atoms):
    deep = mx.build_model(levels=4, sigma=(1.5, 3.0, 6.0, 12.0), seed=0).double().eval()
    v = widgets.show_assignments(model=deep, atoms=atoms)
    for level in (4, 3):
        v.level = level
        assert v.sigma.value == deep.config.levels[level].sigma  # not clamped by the slider
    assert v.model.config.levels == deep.config.levels  # showing a level changes no σ


def test_picking_an_atom_selects_its_node(model, atoms):
    v = widgets.show_assignments(model=model, atoms=atoms)
    k, _ = v.snapshot().dominant(1)
    v.view.widget.picked = {"atom1": {"index": 5}}
    assert v.node == int(k[5])


def test_energy_breakdown_is_linked_both_ways(model, atoms):
    v = widgets.show_assignments(model=model, atoms=atoms)
    e = widgets.show_energies(viewer=v)
    snap = v.snapshot()
    assert list(e.scale_bars.y) == pytest.approx(list(1000 * snap.scale_energies[1:]))  # meV
    assert len(e.node_bars.y) == snap.num_nodes(1)
    v.node = 1
    assert e.node == 1 and e.node_bars.marker.line.width[1] > 0
    e.node = 3
    assert v.node == 3
    v.level = 2
    assert len(e.node_bars.y) == v.snapshot().num_nodes(2)
    assert e.node_title == "energy per node, level 2"
    # one plotly figure for both bar charts (each FigureWidget sends a 5 MB bundle)
    figures = [w for w in e.children if isinstance(w, go.FigureWidget)]
    assert figures == [e.figure] and len(e.figure.data) == 2
    # a click on a bar picks that node
    e.node_bars._dispatch_on_click(Points(point_inds=[2], trace_name="nodes", trace_index=1), None)
    assert e.node == 2 and v.node == 2


def test_trajectory_viewer_and_energy_against_frame(model):
    frames = [benzene_on_graphene(h, rings=1) for h in (3.2, 3.6, 4.0)]
    box = widgets.show_energies(model=model, trajectory=frames)
    viewer, energies = box.children
    assert energies.trajectory is not None and len(energies.trajectory.data[0].x) == 3
    viewer.frame = 2
    assert viewer.view.widget.frame == 2
    assert energies.trajectory.layout.shapes[0].x0 == 2
    level1 = list(energies.trajectory.data[1].y)
    viewer.sigma.value = 0.6  # the trajectory chart follows the pooling settings
    assert energies.trajectory.data[1].name == "level 1"
    assert list(energies.trajectory.data[1].y) != pytest.approx(level1)
    # the chart's batched evaluation gives what evaluating frame by frame gives
    one_by_one = widgets.show_assignments(model=model, trajectory=frames)
    one_by_one.sigma.value = 0.6
    totals = {f: one_by_one.snapshot(f).energy for f in (2, 0, 1)}  # in any order
    expected = [totals[f] for f in range(3)]
    assert [s.energy for s in viewer.all_snapshots()] == pytest.approx(expected, abs=1e-10)
    with pytest.raises(ValueError, match="either atoms= or trajectory="):
        widgets.show_assignments(model=model)
    with pytest.raises(ValueError, match="level must be in 1..2"):
        widgets.show_assignments(model=model, atoms=frames[0], level=3)
    mixed = frames[:1] + [frames[1][-3:]]  # frame 1 is three atoms of the complex
    with pytest.raises(ValueError, match=r"trajectory frame 1 is .* where frame 0 is"):
        widgets.explore(model=model, trajectory=mixed)
    with pytest.raises(ValueError, match="the trajectory is empty"):
        widgets.AssignmentViewer(model, [])


def test_energy_charts_are_complete_when_the_browser_first_draws_them(model, first_drawn):
    """Each chart is created drawn in full: messages sent before plotly's bundle has loaded
    are lost, so bars added after creation left the first chart of a busy page empty."""
    frames = [benzene_on_graphene(h, rings=1) for h in (3.2, 3.6, 4.0)]
    viewer = widgets.show_assignments(model=model, trajectory=frames, level=2)
    viewer.frame, viewer.node = 1, 3
    e = widgets.show_energies(viewer=viewer)
    for chart in (e.figure, e.trajectory):
        sent, now = first_drawn(chart)
        assert sent == now
    assert e.node_title == "energy per node, level 2"
    assert e.node_bars.marker.line.width[3] > 0 and e.trajectory.layout.shapes[0].x0 == 1
    assert len(e.scale_bars.y) == 2 and [t.name for t in e.trajectory.data][1:3] == [
        "level 1",
        "level 2",
    ]


def test_scan_explorer_curves_slider_and_coarse_switch(model):
    s = widgets.show_scan(models={"MuSE": model, "base": model.backbone_only()})
    d = s.curves["distances"]
    assert len(d) == 50 and "scan" in s.timings
    names = [t.name for t in s.figure.data]
    assert names[:2] == ["MuSE", "MuSE: atoms"] and "base" in names and names[-1] == "current"
    s.distance.value = s.distance.options[20]
    marker = s.figure.data[-1]
    assert marker.x[0] == pytest.approx(d[20])
    assert marker.y[0] == pytest.approx(1000 * s.curves["MuSE"]["e_int"][20])
    n = len(s.frames[0])
    z = s.frames[2][20].positions[n:, 2].mean() - s.frames[0].positions[:, 2].mean()
    assert z == pytest.approx(d[20])
    s.coarse.value = False
    assert s.figure.data[0].name == "MuSE (backbone only)"
    beyond = d > 5.5
    assert np.allclose(s.curves["MuSE"]["e_int"][beyond], 0.0, atol=1e-6)
    s.range.value = (3.0, 6.0)
    s.points.value = 10
    s.molecule.value = "water"
    s.run()
    assert len(s.curves["distances"]) == 10 and len(s.frames[1]) == 3


def test_scan_explorer_upload_and_bad_upload(model):
    s = widgets.ScanExplorer({"MuSE": model})
    good = b"3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n"
    s._uploaded_file({"new": ({"name": "w.xyz", "content": memoryview(good)},)})
    assert len(s.frames[1]) == 3
    s._uploaded_file({"new": ({"name": "w.pdb", "content": memoryview(b"")},)})
    assert ".xyz or .extxyz" in s.status.value
    s.molecule.value = "pyridine"  # back to a listed molecule
    assert len(s.frames[1]) == 11
    before = (s.frames, s.curves)
    s.tilt.value = 90.0  # standing up at 2 Å, the molecule would sit in the flake
    s.range.value = (2.0, 4.0)
    s.run()  # refused, and nothing changes
    assert "1.2 Å" in s.status.value and (s.frames, s.curves) == before


def test_scan_explorer_with_an_atoms_setup(model):
    from muse_explore.explore import ScanSetup
    from muse_explore.reference.molecules import small_molecule

    setup = ScanSetup(molecule=small_molecule("water"), rings=1, distances=np.linspace(3, 8, 6))
    s = widgets.ScanExplorer({"MuSE": model}, setup=setup)
    assert len(s.frames[1]) == 3 and len(s.curves["distances"]) == 6


def test_influence_map_and_explorer(model):
    far = benzene_on_graphene(8.0, rings=1)
    im = widgets.show_influence(model=model, atoms=far)
    flake = np.arange(len(far) - 12)
    assert np.all(im.values["backbone"][flake] == 0) and np.all(im.values["MuSE"][flake] > 0)
    assert "backbone 11, MuSE" in im.info.value
    im.atom.value = 0
    assert im.values["MuSE"].shape == (len(far),)
    ex = widgets.explore(model=model, atoms=far)
    assert [ex.get_title(i) for i in range(3)] == ["assignments", "scan", "influence"]


def test_the_explorer_sizes_each_tab_s_views_when_the_tab_is_shown(model, atoms, monkeypatch):
    from muse_explore.widgets.structure_view import StructureView

    shown = []
    monkeypatch.setattr(StructureView, "refresh", lambda self: shown.append(self))
    e = widgets.Explorer(model, atoms)
    assert not e.scan.curves and not e.influence.values  # computed on the first visit
    # and no 3D view is created in a hidden tab: the browser would draw it for nothing
    assert e.views(1) == [] and e.views(2) == []
    assert not _nglviews(e.children[1]) and not _nglviews(e.children[2])
    for tab in (1, 2, 0):
        shown.clear()
        e.selected_index = tab
        assert shown == e.views(tab) and shown  # every view of that tab, none other
    assert len(e.views(2)) == 2
    assert e.scan.curves and e.influence.values
    assert len(_nglviews(e.children[1])) == 1 and len(_nglviews(e.children[2])) == 2


def _nglviews(widget) -> list:
    """The nglview widgets inside ``widget`` (depth first)."""
    import nglview

    if isinstance(widget, nglview.NGLWidget):
        return [widget]
    return [w for child in getattr(widget, "children", ()) for w in _nglviews(child)]


def test_the_play_control_sweeps_sigma_then_temperature(model, atoms):
    v = widgets.show_assignments(model=model, atoms=atoms)
    before = v.snapshot().membership(1).copy()
    revision = v.revision
    v.play.value = 3
    assert v.sigma.value == pytest.approx(v.sweep[3]) and v.revision == revision + 1
    assert v.model.config.levels[1].sigma == pytest.approx(v.sweep[3])
    assert not np.allclose(v.snapshot().membership(1), before)  # atoms moved between nodes
    v.sweep_kind.value = "temperature"
    assert v.play.max == len(v.sweep) - 1
    v.play.value = 5
    assert v.temperature.value == pytest.approx(v.sweep[5])
    assert v.model.config.levels[1].temperature == pytest.approx(v.sweep[5])
