import pytest
import torch

import muse_explore as mx
from muse_explore.reference import benzene_on_graphene


@pytest.fixture(scope="module")
def model():
    return mx.build_model(levels=2, seed=0).to(torch.float64).eval()


@pytest.fixture
def atoms():
    return benzene_on_graphene(3.4, rings=1)


@pytest.fixture
def first_drawn():
    """The figure a browser draws when it first shows a plotly FigureWidget, as JSON.

    That is the widget's state when it was created (``_widget_data``, ``_widget_layout``):
    plotly sends later changes as messages, which are lost if they arrive while its bundle is
    still loading. A chart must therefore match it at once.
    """
    go = pytest.importorskip("plotly.graph_objects")
    pio = pytest.importorskip("plotly.io")

    def drawn(figure) -> tuple[str, str]:
        sent = go.Figure(data=figure._widget_data, layout=figure._widget_layout)
        return pio.to_json(sent, validate=False), pio.to_json(go.Figure(figure), validate=False)

    return drawn
