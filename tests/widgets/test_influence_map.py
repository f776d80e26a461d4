"""The influence map: one logarithmic colour scale with its colour bar, centred cameras."""

import re

import numpy as np
import pytest

pytest.importorskip("nglview")
pytest.importorskip("plotly")

from muse_explore import widgets  # noqa: E402
from muse_explore.explore.colors import LOG_RAMP, log_position, log_ticks  # noqa: E402
from muse_explore.explore.influence import bonded_neighbours  # noqa: E402
from muse_explore.reference import benzene_on_graphene  # noqa: E402
from muse_explore.widgets.layout import label_width  # noqa: E402


def painted(view):
    return {i: c for c, idx in view.groups.items() for i in idx}


def test_weak_long_range_couplings_are_coloured_and_zeros_are_not(model):
    far = benzene_on_graphene(8.0, rings=1)
    i = len(far) - 1
    im = widgets.show_influence(model=model, atoms=far, atom=i)
    flake = np.arange(len(far) - 12)
    muse, base = painted(im.views["MuSE"]), painted(im.views["backbone"])
    assert all(base[j] == "#ffffff" for j in flake)  # the backbone's exact zeros
    # MuSE's couplings to the flake are orders of magnitude below the bonded block, yet shown
    weak = im.values["MuSE"][flake]
    assert weak.max() < 0.05 * im.scale["vmax"]
    shown = [j for j in flake if im.values["MuSE"][j] > im.scale["floor"]]
    assert len(shown) > 0.9 * len(flake) and all(muse[j] != "#ffffff" for j in shown)
    assert muse[i] == base[i] == "#ff0000"
    assert "log colour scale" in im.info.value


def test_a_bad_atom_or_kind_is_named(model):
    far = benzene_on_graphene(8.0, rings=1)
    with pytest.raises(ValueError, match=r"atom must be in 0..47, got 48"):
        widgets.show_influence(model=model, atoms=far, atom=48)
    with pytest.raises(ValueError, match="kind must be 'hessian' or 'energy', got 'forces'"):
        widgets.show_influence(model=model, atoms=far, kind="forces")


def test_the_colour_bar_spans_the_scale(model):
    far = benzene_on_graphene(8.0, rings=1)
    im = widgets.show_influence(model=model, atoms=far)
    vmax, decades = im.scale["vmax"], im.scale["decades"]
    html = im.colorbar.value
    assert f"linear-gradient(to right, {', '.join(LOG_RAMP)})" in html
    ticks, labels = log_ticks(vmax, decades)
    assert len(ticks) == int(decades) and all(f"<br>{label}</span>" in html for label in labels)
    # each decade sits where log_position puts it on the bar (left: the floor, right: vmax)
    lefts = [float(x) for x in re.findall(r"left:([0-9.]+)%", html)]
    expected = [100 * log_position([10.0**t], vmax=vmax, decades=decades)[0] for t in ticks]
    assert lefts == pytest.approx(expected, abs=0.01) and all(0 <= x <= 100 for x in lefts)
    assert "‖H_ij‖ (eV/Å²), log scale" in html
    im.kind.value = "energy"
    assert "‖∂E_i/∂r_j‖ (eV/Å), log scale" in im.colorbar.value


def test_the_colour_bar_of_a_zero_map_has_no_ticks():
    from muse_explore.widgets.influence_map import colorbar_html

    html = colorbar_html(0.0, 5.0, "t")
    assert "left:" not in html and "linear-gradient" in html


def test_bonded_neighbours_can_be_left_out_of_the_scale(model):
    far = benzene_on_graphene(8.0, rings=1)
    i = len(far) - 1
    im = widgets.show_influence(model=model, atoms=far, atom=i)
    with_bonded = im.scale["vmax"]
    im.bonded.value = True
    bonded = bonded_neighbours(far, i)
    others = np.setdiff1d(np.arange(len(far)), [i, *bonded])
    expected = max(float(v[others].max()) for v in im.values.values())
    assert im.scale["vmax"] == pytest.approx(expected) and expected <= with_bonded
    assert f"{len(bonded)} bonded neighbours above it" in im.info.value


def test_views_are_centred_and_labels_show(model):
    far = benzene_on_graphene(8.0, rings=0)
    im = widgets.show_influence(model=model, atoms=far, atom=0)
    for view in im.views.values():
        calls = [c._method_name for c in view.widget._ngl_displayed_callbacks_before_loaded]
        assert "autoView" in calls[calls.index("loadFile") :]
        assert view.labels[3].startswith(f"atom 3 {far[3].symbol} · ‖H_ij‖")
    assert im.kind.style.button_width == "auto"  # "Hessian block ‖H_ij‖" in full
    width = im.atom.style.description_width
    assert int(width[:-2]) >= label_width("atom")
