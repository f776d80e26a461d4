import pytest

ipywidgets = pytest.importorskip("ipywidgets")

from muse_explore.widgets.layout import label_width, labelled  # noqa: E402


def test_labelled_controls_show_their_description_in_full():
    short = labelled(ipywidgets.FloatSlider(description="σ (Å)"), width="90px")
    assert short.style.description_width == "90px"  # the column's width
    long = labelled(ipywidgets.FloatSlider(description="a rather long description"), width="90px")
    assert int(long.style.description_width[:-2]) == label_width("a rather long description") > 90
    toggle = labelled(ipywidgets.ToggleButtons(options=["Hessian block ‖H_ij‖", "‖∂E_i/∂r_j‖"]))
    assert toggle.style.button_width == "auto"
