import numpy as np
import pytest

from muse_explore.explore import node_energy_bars, scale_energy_bars, snapshots, trajectory_energies
from muse_explore.explore.colors import node_palette, scale_color
from muse_explore.explore.energies import frame_axis
from muse_explore.reference import benzene_on_graphene


def test_bars_in_mev_with_the_colour_of_their_scale_or_node(model, complex_):
    snap = snapshots(model, complex_)[0]
    ev, mev = scale_energy_bars(snap), scale_energy_bars(snap, unit="meV")
    np.testing.assert_allclose(mev["y"], 1000 * np.asarray(ev["y"]))
    assert mev["atoms_total"] == pytest.approx(1000 * ev["atoms_total"])
    assert mev["colors"] == [scale_color("level 1"), scale_color("level 2")]
    assert scale_energy_bars(snap, relative_to_atoms=False)["colors"][0] == scale_color("atoms")
    nb = node_energy_bars(snap, 1, unit="meV")
    np.testing.assert_allclose(nb["y"], 1000 * snap.node_energies[1])
    assert nb["colors"] == node_palette(snap.num_nodes(1)) and nb["unit"] == "meV"
    with pytest.raises(ValueError, match="unit must be"):
        scale_energy_bars(snap, unit="kcal/mol")


def test_trajectory_series_take_the_scale_colours(model):
    snaps = snapshots(model, [benzene_on_graphene(h, rings=1) for h in (3.0, 3.5)])
    t = trajectory_energies(snaps, unit="meV")
    assert t["colors"] == {
        "atoms (− frame 0)": scale_color("atoms"),
        "level 1": scale_color("level 1"),
        "level 2": scale_color("level 2"),
        "total (− frame 0)": scale_color("total"),
    }
    assert t["series"]["level 2"][1] == pytest.approx(1000 * snaps[1].scale_energies[2])
    assert t["x"] == [0, 1] and t["x_title"] == "frame"


def test_frame_axis_in_ps_when_the_frames_carry_time():
    frames = [benzene_on_graphene(3.4, rings=0) for _ in range(3)]
    assert frame_axis(frames) == ([0, 1, 2], "frame")
    for i, a in enumerate(frames):
        a.info["md_step"] = 20 * i
    assert frame_axis(frames) == ([0, 20, 40], "MD step")
    for i, a in enumerate(frames):
        a.info["time_fs"] = 50.0 * i
    assert frame_axis(frames) == ([0.0, 0.05, 0.1], "time (ps)")
    for i, a in enumerate(frames):
        a.info["time_ps"] = 0.1 * i + 1
    assert frame_axis(frames) == ([1.0, 1.1, 1.2], "time (ps)")
    del frames[1].info["time_ps"]  # not on every frame: the time in fs, which is
    assert frame_axis(frames) == ([0.0, 0.05, 0.1], "time (ps)")
