"""The 3D view: what it asks the browser to do (camera, picking, labels, outlines)."""

import json
import shutil
import subprocess

import pytest

pytest.importorskip("nglview")

from muse_explore.explore import node_spheres, snapshots  # noqa: E402
from muse_explore.widgets.structure_view import PICKING_JS, StructureView  # noqa: E402


def queued(view):
    """The calls waiting for the browser view to load, in order: (method, message)."""
    return [
        (c._method_name, c._ngl_msg) for c in view.widget._ngl_displayed_callbacks_before_loaded
    ]


def test_camera_centred_once_the_structure_is_loaded_and_picking_installed(atoms):
    view = StructureView(atoms)
    names = [name for name, _ in queued(view)]
    assert names.index("loadFile") < names.index("autoView")  # centred after loading
    assert queued(view)[names.index("autoView")][1]["component_index"] == 0
    code = [m["args"][0] for name, m in queued(view) if name == "executeCode"]
    assert code == [PICKING_JS]
    # kept in nglview's archive, so a re-displayed view gets it too
    assert any(m["methodName"] == "executeCode" for m in view.widget._ngl_msg_archive)


def test_labels_are_sent_once_and_not_archived(atoms):
    view = StructureView(atoms)
    labels = [f"atom {i}" for i in range(len(atoms))]
    view.set_labels(labels)
    view.set_labels(labels)  # unchanged: nothing sent
    sent = [m["args"][0] for name, m in queued(view) if name == "executeCode"][1:]
    assert sent == [f"this._museLabels = {json.dumps(labels)};"]
    archived = [
        m["args"][0] for m in view.widget._ngl_msg_archive if m["methodName"] == "executeCode"
    ]
    assert archived == [PICKING_JS]


def test_the_picked_node_is_drawn_as_rings_around_a_faint_sphere(model, atoms):
    view = StructureView(atoms)
    spheres = node_spheres(snapshots(model, atoms)[0], 1, highlight=1)
    view.draw_spheres(spheres)
    shapes = [m["args"] for m in view.widget._ngl_msg_archive if m["methodName"] == "addShape"]
    by_name = {name: items for name, items in shapes}
    assert [item[0] for item in by_name["picked node"]] == ["torus"] * 3
    assert all(item[1] == spheres[1]["center"] for item in by_name["picked node"])
    faint = by_name[f"coarse nodes {spheres[1]['opacity']:g}"]
    assert [item[4] for item in faint] == ["node 1"]
    assert len(by_name["coarse nodes 0.3"]) == len(spheres) - 1


HARNESS = r"""
// NGL's MouseControls as far as PICKING_JS uses them (trigger "type[-key]-button")
function parse(t) {
  var p = t.split("-"), key = p.indexOf("ctrl") >= 0 ? 2 : 0;
  var button = p.indexOf("left") >= 0 ? 1 : (p.indexOf("middle") >= 0 ? 2 : 0);
  return [p[0], key, button];
}
var actions = [];
var mc = {
  add: function (t, cb) {
    var q = parse(t);
    actions.push({type: q[0], key: q[1], button: q[2], cb: cb});
  },
  remove: function (t) { var q = parse(t); actions = actions.filter(function (a) {
    return !(a.type === q[0] && a.key === q[1] && a.button === q[2]); }); },
};
function movePick() {}
function measurePick() {}
function tooltipPick() {}
mc.add("clickPick-left", movePick);
mc.add("clickPick-ctrl-left", measurePick);
mc.add("clickPick-middle", movePick);
mc.add("hoverPick", tooltipPick);
var clicked = [];
var structure = {};
var stage = {
  mouseControls: mc, compList: [structure], tooltip: {style: {}, innerText: ""},
  getParameters: function () { return {tooltip: true}; },
  signals: {clicked: {add: function (f) { clicked.push(f); }}},
};
global.window = {innerHeight: 500};
var info = "";
var view = {stage: stage, $pickingInfo: {text: function (t) { info = t; }}};
new Function(CODE).call(view);
view._museLabels = ["atom 0 C · node 2 · share 0.90", "atom 1 H · node 0 · share 0.55"];
var pp = {atom: {index: 1}, component: structure, mouse: {position: {x: 10, y: 20}},
          getLabel: function () { return "[MOL]1:A.H"; }};
actions.filter(function (a) { return a.type === "hoverPick"; })[0].cb(stage, pp);
var atomTip = stage.tooltip.innerText;  // before the shape's hover replaces it
clicked.forEach(function (f) { f(pp); });
var shape = {atom: undefined, component: {}, mouse: pp.mouse,
             getLabel: function () { return "sphere: node 3"; }};
actions.filter(function (a) { return a.type === "hoverPick"; })[0].cb(stage, shape);
console.log(JSON.stringify({
  actions: actions.map(function (a) { return [a.type, a.key, a.button, a.cb.name]; }),
  tooltipAtom: atomTip, info: info, tooltipShape: stage.tooltip.innerText,
}));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node.js")
def test_picking_js_keeps_the_camera_and_shows_our_labels(tmp_path):
    """PICKING_JS run against a stand-in for NGL's stage (the browser test runs the real one)."""
    path = tmp_path / "harness.js"
    path.write_text(HARNESS.replace("CODE", json.dumps(PICKING_JS)))
    out = json.loads(subprocess.run(["node", str(path)], capture_output=True, text=True,
                                    check=True).stdout)  # fmt: skip
    kinds = [(t, k, b) for t, k, b, _ in out["actions"]]
    assert ("clickPick", 0, 1) not in kinds  # a left click no longer moves the camera
    assert ("clickPick", 2, 1) in kinds and ("clickPick", 0, 2) in kinds  # the others stay
    assert [a[3] for a in out["actions"] if a[0] == "hoverPick"] != ["tooltipPick"]
    assert out["tooltipAtom"] == out["info"] == "atom 1 H · node 0 · share 0.55"
    assert out["tooltipShape"] == "sphere: node 3"  # other objects keep NGL's label


def test_the_default_camera_is_tilted_after_centring(atoms):
    import math

    from muse_explore.widgets.structure_view import TILT_DEGREES

    view = StructureView(atoms)
    names = [name for name, _ in queued(view)]
    rotate = names.index("rotate")
    assert names.index("autoView") < rotate  # tilted after it is centred
    q = queued(view)[rotate][1]["args"][0]
    assert q[1:3] == [0.0, 0.0]  # about the x axis
    assert math.degrees(2 * math.atan2(abs(q[0]), q[3])) == pytest.approx(TILT_DEGREES)
    side = StructureView(atoms, tilt=90.0)  # the scan's side view
    (q,) = [m["args"][0] for name, m in queued(side) if name == "rotate"]
    assert math.degrees(2 * math.atan2(abs(q[0]), q[3])) == pytest.approx(90.0)


def test_bonds_are_drawn_once_under_the_atom_colours(atoms):
    view = StructureView(atoms)
    calls = []
    view.widget.add_representation = lambda kind, **kw: calls.append((kind, kw))
    colors = ["#ff0000" if i % 2 else "#0000ff" for i in range(len(atoms))]
    view.paint(colors)
    bonds = [kw for kind, kw in calls if kind == "licorice"]
    assert len(bonds) == 1 and bonds[0]["selection"] == "all"  # across colour groups too
    spheres = [kw for kind, kw in calls if kind == "spacefill"]
    assert sorted(kw["color"] for kw in spheres) == ["#0000ff", "#ff0000"]
    assert [kind for kind, _ in calls][0] == "licorice"  # atoms drawn on top


def test_a_shown_view_is_resized_and_recentred_and_cameras_link(atoms):
    view, other = StructureView(atoms), StructureView(atoms)
    before = len(queued(view))
    view.refresh()
    assert [name for name, _ in queued(view)[before:]] == ["handleResize", "autoView", "rotate"]
    view.link_camera(other)
    assert other.widget._model_id in view.widget._synced_model_ids
    assert view.widget._model_id in other.widget._synced_model_ids
