"""The assignment viewer and its energy charts: every view redraws from the new settings."""

import copy

import numpy as np
import pytest

pytest.importorskip("nglview")
pytest.importorskip("plotly")

from muse_explore import widgets  # noqa: E402
from muse_explore.explore import atom_labels, snapshots, trajectory_energies  # noqa: E402
from muse_explore.explore.colors import node_palette, scale_color  # noqa: E402
from muse_explore.reference import benzene_on_graphene  # noqa: E402
from muse_explore.widgets.layout import label_width  # noqa: E402


def fresh_model(model, sigma=None, temperature=None, hard=None):
    """The model evaluated from scratch at the given settings (``sigma``: level -> σ)."""
    m = copy.deepcopy(model)
    for level, s in (sigma or {}).items():
        m.set_pooling(sigma=s, level=level)
    m.set_pooling(temperature=temperature, hard=hard)
    return m


def assert_charts_show(e, snap, level):
    """The energy charts and header of ``e`` hold ``snap``'s energies on ``level``, in meV."""
    np.testing.assert_allclose(e.scale_bars.y, 1000 * snap.scale_energies[1:], atol=1e-9)
    np.testing.assert_allclose(e.node_bars.y, 1000 * snap.node_energies[level], atol=1e-9)
    for lev in range(1, snap.levels + 1):
        assert f"level {lev} {1000 * snap.scale_energies[lev]:.1f} meV" in e.header.value


def test_a_sigma_change_after_a_level_change_redraws_from_the_new_settings(model, atoms):
    v = widgets.show_assignments(model=model, atoms=atoms)
    e = widgets.show_energies(viewer=v)
    v.level = 2  # re-registered the viewer's σ handler after the charts' before the fix
    v.sigma.value = 0.5
    assert_charts_show(e, snapshots(fresh_model(model, {2: 0.5}), atoms)[0], level=2)
    # any further sequence of level, σ, temperature and soft/hard changes
    v.temperature.value = 0.5
    v.hard.value = "hard"
    v.level = 1
    v.sigma.value = 2.2
    expected = fresh_model(model, {2: 0.5, 1: 2.2}, temperature=v.temperature.value, hard=True)
    assert_charts_show(e, snapshots(expected, atoms)[0], level=1)
    v.level = 2  # shows level 2's own σ again, without changing the model
    assert v.sigma.value == 0.5 and v.model.config.levels == expected.config.levels
    assert_charts_show(e, snapshots(expected, atoms)[0], level=2)


def test_the_trajectory_chart_follows_too_in_ps_and_in_scale_colours(model):
    frames = [benzene_on_graphene(h, rings=1) for h in (3.2, 3.6, 4.0)]
    for i, a in enumerate(frames):
        a.info["time_ps"] = 0.1 * i
    v = widgets.show_assignments(model=model, trajectory=frames)
    e = widgets.show_energies(viewer=v)
    v.level = 2
    v.sigma.value = 0.6
    expected = trajectory_energies(snapshots(fresh_model(model, {2: 0.6}), frames), unit="meV")
    chart = e.trajectory
    assert [t.name for t in chart.data] == list(expected["series"])
    for trace in chart.data:
        np.testing.assert_allclose(trace.y, expected["series"][trace.name], atol=1e-9)
        assert trace.line.color == expected["colors"][trace.name]
    assert chart.data[-1].line.color == scale_color("total")
    assert list(chart.data[0].x) == pytest.approx([0.0, 0.1, 0.2])
    assert chart.layout.xaxis.title.text == "time (ps)"
    assert chart.layout.yaxis.title.text == "energy (meV)"
    v.frame = 2
    assert chart.layout.shapes[0].x0 == pytest.approx(0.2)  # the frame marked at its time
    m = chart.layout.margin
    assert chart.layout.height - m.t - m.b >= 280 and chart.layout.width - m.l - m.r >= 800


def test_energy_charts_in_mev_with_the_shared_colours(model, atoms):
    v = widgets.show_assignments(model=model, atoms=atoms)
    e = widgets.show_energies(viewer=v)
    assert list(e.scale_bars.marker.color) == [scale_color("level 1"), scale_color("level 2")]
    assert list(e.node_bars.marker.color) == node_palette(v.snapshot().num_nodes(1))
    assert e.figure.layout.yaxis.title.text == "energy per scale (meV)"
    assert e.figure.layout.yaxis2.title.text == "energy per node (meV)"
    assert " eV" not in e.header.value.replace("meV", "")  # meV throughout
    assert " eV" not in v.legend.value.replace("meV", "")


def test_labels_and_the_picked_atom(model, atoms):
    v = widgets.show_assignments(model=model, atoms=atoms)
    assert v.view.labels == atom_labels(v.snapshot(), 1)
    k, share = v.snapshot().dominant(1)
    v.view.widget.picked = {"atom1": {"index": 5, "name": "[MOL]1:A.C"}}
    assert v.node == int(k[5])
    assert f"picked: atom 5 C · level 1 node {k[5]} · share" in v.legend.value
    # with a node picked, the labels give every atom's share in that node
    assert v.view.labels == atom_labels(v.snapshot(), 1, node=int(k[5]))
    assert v.view.spheres[int(k[5])]["outline"]


def test_temperature_slider_is_fine_and_labels_show_in_full(model, atoms):
    v = widgets.show_assignments(model=model, atoms=atoms)
    t = v.temperature
    assert type(t).__name__ == "FloatLogSlider" and t.max - t.min <= 2.0
    assert (t.max - t.min) / t.step >= 200  # ~1 % steps: 30 px move ~0.25 decade, not 0.74
    assert t.min <= 0 <= t.max  # the default temperature 1 is on the scale
    for control in (v.level_menu, v.node_menu, v.sigma, v.temperature, v.hard, v.frame_slider):
        width = control.style.description_width
        assert width.endswith("px") and int(width[:-2]) >= label_width(control.description)
    assert v.hard.style.button_width == "auto"
