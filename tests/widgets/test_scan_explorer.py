"""The scan explorer: busy state, one rule for all controls, kept slider, atomic uploads."""

import numpy as np
import pytest

pytest.importorskip("nglview")
pytest.importorskip("plotly")

from muse_explore import widgets  # noqa: E402
from muse_explore.errors import MuSEInputError  # noqa: E402
from muse_explore.explore import ScanSetup  # noqa: E402
from muse_explore.explore.colors import scale_color  # noqa: E402
from muse_explore.widgets import scan_explorer  # noqa: E402
from muse_explore.widgets.layout import label_width  # noqa: E402

WATER = b"3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n"
# a 4 Å cube: however it is laid, an atom sits 2 Å below its centroid, in the flake at 3 Å
CUBE = b"8\ncube\n" + b"".join(
    f"C {x} {y} {z}\n".encode() for x in (0, 4) for y in (0, 4) for z in (0, 4)
)


def small(model, **models):
    setup = ScanSetup(molecule="benzene", rings=1, distances=np.linspace(3.0, 9.0, 13))
    return widgets.ScanExplorer({"MuSE": model, **models}, setup=setup)


def upload(s, name, content):
    s._uploaded_file({"new": ({"name": name, "content": memoryview(content)},)})


def test_a_scan_is_busy_while_it_runs(model, monkeypatch):
    s = small(model)
    seen = []

    def curves(*args, **kwargs):
        seen.append(
            (s.button.disabled, s.button.description, s.status.value,
             [t.opacity for t in s.figure.data])
        )  # fmt: skip
        return real(*args, **kwargs)

    real = scan_explorer.interaction_curves
    monkeypatch.setattr(scan_explorer, "interaction_curves", curves)
    assert s.run()
    ((disabled, label, status, opacities),) = seen
    assert disabled and label == "scanning…" and "scanning" in status
    assert opacities and all(o == 0.3 for o in opacities)  # the old curves dimmed
    assert not s.button.disabled and s.button.description == "scan" and not s.busy
    assert all(t.opacity in (None, 1.0) for t in s.figure.data) and "heights" in s.status.value


def test_every_control_re_scans_at_once(model, monkeypatch):
    s = small(model)
    assert "re-scans at once" in s.rule.value and "re-scans at once" in type(s).__doc__
    calls = []
    monkeypatch.setattr(s, "run", lambda **kw: calls.append(kw) or True)
    changes = {
        s.molecule: "water", s.flake: 2, s.offset_x: 1.0, s.offset_y: -1.0, s.rotation: 30.0,
        s.tilt: 10.0, s.range: (3.5, 8.0), s.points: 20, s.coarse: False, s.xtb: True,
    }  # fmt: skip
    for control, value in changes.items():
        before = len(calls)
        control.value = value
        assert len(calls) == before + 1, control.description
    upload(s, "w.xyz", WATER)
    assert len(calls) == len(changes) + 1 and len(calls[-1]["molecule"]) == 3
    sliders = [s.offset_x, s.offset_y, s.rotation, s.tilt, s.range, s.points]
    assert not any(c.continuous_update for c in sliders)  # one scan per release, not per pixel


def test_the_height_slider_keeps_its_place_across_scans(model):
    s = small(model)
    d = s.curves["distances"]
    s.distance.value = s.distance.options[7]
    s.coarse.value = False  # re-scans the same heights
    assert s.distance.value == pytest.approx(d[7])
    assert s.figure.data[-1].x[0] == pytest.approx(d[7])
    s.range.value = (4.0, 12.0)  # new heights: the nearest one
    new = s.curves["distances"]
    assert s.distance.value == pytest.approx(new[np.argmin(np.abs(new - d[7]))], abs=1e-3)


def test_a_failed_upload_changes_nothing(model):
    s = small(model)
    before = (s.molecule.value, s.molecule.options, s.frames, s.curves, s.figure.data)
    upload(s, "cube.xyz", CUBE)  # read fine, refused by the scan
    assert "1.2 Å" in s.status.value
    assert (s.molecule.value, s.molecule.options, s.frames, s.curves, s.figure.data) == before
    upload(s, "w.pdb", b"")  # unreadable
    assert ".xyz or .extxyz" in s.status.value
    assert (s.molecule.value, s.molecule.options, s.frames, s.curves) == before[:4]
    upload(s, "w.xyz", WATER)  # a good one is listed and shown
    assert s.molecule.value == "w.xyz (uploaded)" and len(s.frames[1]) == 3
    s.molecule.value = "pyridine"
    assert len(s.frames[1]) == 11
    s.molecule.value = "w.xyz (uploaded)"  # and can be picked again
    assert len(s.frames[1]) == 3


def test_a_refused_molecule_leaves_the_menu_on_the_charts_molecule(model, monkeypatch):
    s = small(model)

    def refuse(setup):
        raise MuSEInputError("refused")

    monkeypatch.setattr(scan_explorer, "scan_frames", refuse)
    s.molecule.value = "water"
    assert s.molecule.value == "benzene" and "refused" in s.status.value


def test_scan_curves_take_the_shared_colours_and_quantity_names(model, monkeypatch):
    def reference(setup, every, frames):
        return {"distances": setup.distances[::every], "e_int": 0 * setup.distances[::every]}

    monkeypatch.setattr(scan_explorer, "reference_curve", reference)
    s = small(model, baseline=model.backbone_only())
    s.xtb.value = True
    color = {t.name: t.line.color if t.mode == "lines" else t.marker.color for t in s.figure.data}
    assert color["MuSE"] == scale_color("total") and color["baseline"] == scale_color("baseline")
    for scale in ("atoms", "level 1", "level 2"):
        assert color[f"MuSE: {scale}"] == scale_color(scale)
    assert color["GFN2-xTB"] == scale_color("reference")
    assert color["baseline"] != color["MuSE: level 2"]
    assert s.figure.layout.xaxis.title.text == "height above the flake (Å)"
    assert s.figure.layout.yaxis.title.text == "E_int (meV)"
    for control in (s.molecule, s.offset_x, s.rotation, s.range, s.distance):
        width = control.style.description_width
        assert int(width[:-2]) >= label_width(control.description)


def test_the_chart_is_complete_when_the_browser_first_draws_it(model, first_drawn):
    """Created with its first scan drawn in full: messages sent before plotly's bundle has
    loaded are lost, so a chart filled after creation showed up empty on a busy machine."""
    s = small(model, base=model.backbone_only())
    assert s.children[0].children[1] is s.figure
    sent, now = first_drawn(s.figure)
    assert sent == now and '"current"' in sent and '"base"' in sent
    deferred = widgets.ScanExplorer({"MuSE": model}, setup=s.setup, defer=True)
    assert deferred.figure is None
    assert "first scan" in deferred.children[0].children[1].value
    s.distance.value = s.distance.options[5]  # a later scan keeps the slider's height
    assert deferred.run()
    assert deferred.children[0].children[1] is deferred.figure
    sent, now = first_drawn(deferred.figure)
    assert sent == now and '"current"' in sent
    marker = s.figure.data[-1]  # the later scan's chart changes in place, marker included
    s.points.value = 7
    assert len(s.figure.data[0].x) == 7 and s.figure.data[-1] is not marker
    assert s.figure.data[-1].x[0] == pytest.approx(s.curves["distances"][s.distance.index])
