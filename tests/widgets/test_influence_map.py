"""The influence map: one logarithmic colour scale with its colour bar, centred cameras."""

import numpy as np
import pytest

pytest.importorskip("nglview")
pytest.importorskip("plotly")

from muse_explore import widgets  # noqa: E402
from muse_explore.explore.colors import LOG_RAMP, log_ticks  # noqa: E402
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


def test_the_colour_bar_spans_the_scale(model):
    far = benzene_on_graphene(8.0, rings=1)
    im = widgets.show_influence(model=model, atoms=far)
    (bar,) = im.colorbar.data
    vmax, decades = im.scale["vmax"], im.scale["decades"]
    assert bar.x[0] == pytest.approx(np.log10(vmax) - decades)
    assert bar.x[-1] == pytest.approx(np.log10(vmax))
    assert [c for _, c in bar.colorscale] == list(LOG_RAMP)
    ticks, labels = log_ticks(vmax, decades)
    assert list(im.colorbar.layout.xaxis.tickvals) == ticks
    assert list(im.colorbar.layout.xaxis.ticktext) == labels
    assert im.colorbar.layout.xaxis.title.text.startswith("‖H_ij‖ (eV/Å²)")
    im.kind.value = "energy"
    assert im.colorbar.layout.xaxis.title.text.startswith("‖∂E_i/∂r_j‖ (eV/Å)")


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
