import numpy as np
import pytest

from muse_explore.explore import (
    atom_colors,
    blend,
    color_groups,
    legend,
    node_energy_bars,
    node_spheres,
    scale_energy_bars,
    sequential,
    snapshots,
    trajectory_energies,
)
from muse_explore.explore.colors import PALETTE, to_rgb
from muse_explore.reference import benzene_on_graphene


def test_blend_and_sequential():
    assert blend("#1f77b4", 1.0) == "#1f77b4"
    assert blend("#1f77b4", 0.0, floor=0.0) == "#ffffff"
    ramp = sequential([0.0, 0.5, 1.0])
    assert ramp[0] == "#ffffff" and ramp[-1] == "#08306b"
    assert to_rgb(ramp[1]).sum() < to_rgb(ramp[0]).sum()
    with pytest.raises(ValueError):
        sequential([np.nan])


def hard_snapshot(model, atoms):
    import copy

    hard = copy.deepcopy(model)
    hard.set_pooling(hard=True)
    return snapshots(hard, atoms)[0]


def test_atom_colors_follow_the_dominant_node(model, complex_):
    snap = snapshots(model, complex_)[0]
    k, share = snap.dominant(1)
    colors = atom_colors(snap, 1)
    for i in range(len(k)):  # the dominant node's colour at the (rounded) share's intensity
        assert colors[i] == blend(PALETTE[k[i] % len(PALETTE)], round(share[i] * 5) / 5)
    one = hard_snapshot(model, complex_)  # hard assignments: every atom fully in one node
    k1, share1 = one.dominant(1)
    assert np.allclose(share1[share1 > 0.99], 1.0) and (share1 > 0.99).mean() > 0.8
    assert all(atom_colors(one, 1)[i] == PALETTE[k1[i] % len(PALETTE)]
               for i in np.flatnonzero(share1 > 0.999))  # fmt: skip
    groups = color_groups(colors)
    assert sorted(i for g in groups.values() for i in g) == list(range(len(complex_)))


def test_node_membership_colours(model, complex_):
    snap = snapshots(model, complex_)[0]
    colors = atom_colors(snap, 2, node=0)
    m = snap.membership(2)[:, 0]
    assert colors[int(m.argmax())] == "#08306b" or m.max() < 0.95
    assert colors[int(m.argmin())] == "#ffffff"
    with pytest.raises(ValueError, match="nodes 0.."):
        atom_colors(snap, 2, node=99)


def test_spheres_legend_and_bars(model, complex_):
    snap = snapshots(model, complex_)[0]
    spheres = node_spheres(snap, 1, highlight=2)
    assert len(spheres) == snap.num_nodes(1)
    np.testing.assert_allclose([s["center"] for s in spheres], snap.positions[1])
    assert sum(s["mass"] for s in spheres) == pytest.approx(len(complex_))
    # the picked node is an outline: nearly transparent over its members, with three rings
    assert spheres[2]["outline"] and not spheres[0]["outline"]
    assert spheres[2]["opacity"] < spheres[0]["opacity"] and spheres[2]["opacity"] <= 0.1
    assert len(spheres[2]["rings"]) == 3 and "rings" not in spheres[0]
    for major, minor in spheres[2]["rings"]:
        assert np.linalg.norm(major) == pytest.approx(spheres[2]["radius"])
        assert np.dot(major, minor) == pytest.approx(0.0)
    rows = legend(snap, 1)
    assert [r["node"] for r in rows] == list(range(snap.num_nodes(1)))
    assert rows[0]["seed"][0] in "CHNO"
    bars = scale_energy_bars(snap)
    assert bars["x"] == ["level 1", "level 2"]
    assert bars["atoms_total"] + sum(bars["y"]) == pytest.approx(snap.energy)
    nb = node_energy_bars(snap, 2, highlight=1)
    assert sum(nb["y"]) == pytest.approx(snap.scale_energies[2])
    assert nb["line_widths"][1] > 0 and nb["line_widths"][0] == 0


def test_trajectory_energies(model):
    snaps = snapshots(model, [benzene_on_graphene(h, rings=1) for h in (3.0, 3.5, 4.0)])
    t = trajectory_energies(snaps)
    assert t["frame"] == [0, 1, 2]
    assert t["series"]["total (− frame 0)"][0] == 0.0
    np.testing.assert_allclose(t["series"]["level 1"], [s.scale_energies[1] for s in snaps])


def test_atom_labels_name_index_element_node_and_share(model, complex_):
    from muse_explore.explore import atom_labels

    snap = snapshots(model, complex_)[0]
    k, share = snap.dominant(1)
    labels = atom_labels(snap, 1)
    i = len(complex_) - 1
    assert labels[i] == f"atom {i} H · level 1 node {k[i]} · share {share[i]:.2f}"
    m = snap.membership(2)[:, 1]
    assert atom_labels(snap, 2, node=1)[0] == f"atom 0 C · level 2 node 1 · share {m[0]:.2f}"
