import itertools

import numpy as np
import pytest

from muse_explore.explore.colors import (
    PALETTE,
    SCALE_COLORS,
    delta_e,
    log_position,
    log_sequential,
    log_ticks,
    model_colors,
    node_color,
    node_palette,
    scale_color,
    to_lab,
)

#: CIE76 ΔE below which two node colours count as near-duplicates. A just-noticeable
#: difference is ΔE ≈ 2.3; categorical marks as small as an atom or a thin bar need about ten
#: times that to be told apart at a glance (Tableau 10, a standard qualitative palette, has its
#: closest pair, purple and pink, at 27.7). The old palette had two pairs below 5.
MIN_DELTA_E = 25.0


def min_delta_e(colors):
    return min(delta_e(a, b) for a, b in itertools.combinations(colors, 2))


def test_cielab_of_known_colours():
    np.testing.assert_allclose(to_lab("#ffffff"), [100.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(to_lab("#000000"), [0.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(to_lab("#ff0000"), [53.24, 80.09, 67.20], atol=0.05)
    assert delta_e("#ffffff", "#000000") == pytest.approx(100.0, abs=0.01)


def largest_demo_level() -> int:
    """Nodes of the largest level of the shipped demo structure (benzene on circumcoronene,
    muse-painn-graphene; the peptide of notebook 05 has 14 on level 1)."""
    import warnings

    from muse_explore.explore import snapshots
    from muse_explore.pretrained import list_pretrained
    from muse_explore.reference import benzene_on_graphene

    if "muse-painn-graphene" not in list_pretrained():
        pytest.skip("the pretrained demo model is not shipped here")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # legacy-format model
        snap = snapshots("muse-painn-graphene", benzene_on_graphene(3.4))[0]
    return max(snap.num_nodes(lev) for lev in range(1, snap.levels + 1))


def test_node_palette_has_no_near_duplicates_for_any_node_count():
    biggest = largest_demo_level()  # 15 nodes on level 1
    assert len(PALETTE) >= biggest
    assert len(set(PALETTE)) == len(PALETTE)
    for n in range(2, len(PALETTE) + 1):  # every level size the palette covers
        assert min_delta_e(node_palette(n)) >= MIN_DELTA_E, n
    # colours repeat only beyond the palette
    assert node_palette(len(PALETTE)) == list(PALETTE)
    assert node_color(len(PALETTE)) == PALETTE[0] and node_color(len(PALETTE) + 3) == PALETTE[3]


def test_node_colours_show_on_white_and_are_not_greys():
    for c in PALETTE:
        lightness, a, b = to_lab(c)
        assert 35 <= lightness <= 80 and np.hypot(a, b) >= 25, c
        assert delta_e(c, SCALE_COLORS["atoms"]) >= MIN_DELTA_E  # not the atoms' grey


def test_one_colour_per_scale_all_distinct():
    roles = ["atoms", "level 1", "level 2", "total", "baseline", "reference"]
    assert set(roles) <= set(SCALE_COLORS)
    assert min_delta_e(list(SCALE_COLORS.values())) >= MIN_DELTA_E
    assert delta_e(scale_color("baseline"), scale_color("level 2")) >= MIN_DELTA_E
    assert scale_color("level 5") == scale_color("level 1")  # deeper levels cycle
    with pytest.raises(KeyError, match="no colour"):
        scale_color("phonons")


def test_model_colours_by_role():
    assert model_colors([True, False]) == [SCALE_COLORS["total"], SCALE_COLORS["baseline"]]
    assert model_colors([False, True]) == [SCALE_COLORS["baseline"], SCALE_COLORS["total"]]
    three = model_colors([True, True, False, False])
    assert len(set(three)) == 4 and three[0] == SCALE_COLORS["total"]


def test_log_scale_shows_weak_couplings_next_to_a_bonded_block():
    """0.07 eV/Å² next to 30 eV/Å²: white on a linear scale, visible on the log scale."""
    values = [30.0, 0.07, 0.0, 1e-9]
    colors = log_sequential(values, vmax=30.0, decades=5)
    assert colors[2] == colors[3] == "#ffffff"  # zero and below the floor (3e-4)
    assert colors[1] != "#ffffff" and delta_e(colors[1], "#ffffff") > 15
    assert delta_e(colors[0], colors[1]) > 15
    t = log_position(values, vmax=30.0, decades=5)
    assert t[0] == 1.0 and t[2] == 0.0 and t[1] == pytest.approx(1 + np.log10(0.07 / 30) / 5)
    assert log_sequential([0.0, 0.0], vmax=0.0) == ["#ffffff", "#ffffff"]
    with pytest.raises(ValueError, match="finite"):
        log_sequential([np.nan], vmax=1.0)


def test_log_ticks_are_the_whole_decades():
    ticks, labels = log_ticks(30.0, 5)
    assert ticks == [-3.0, -2.0, -1.0, 0.0, 1.0]
    assert labels == ["0.001", "0.01", "0.1", "1", "10"]
    assert log_ticks(0.0, 5) == ([], [])
