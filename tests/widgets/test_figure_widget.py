"""The FigureWidget sends the whole figure in its first message to the browser."""

import pytest

pytest.importorskip("plotly")
pytest.importorskip("nglview")

import comm  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
from comm.base_comm import BaseComm  # noqa: E402
from plotly.subplots import make_subplots  # noqa: E402

from muse_explore import widgets  # noqa: E402
from muse_explore.widgets.figure_widget import FigureWidget  # noqa: E402


@pytest.fixture
def sent(monkeypatch):
    """Every message the widgets send to the browser: (comm id, kind, state)."""
    messages = []

    class Recorder(BaseComm):
        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            messages.append((self.comm_id, msg_type, dict((data or {}).get("state", {}))))

    monkeypatch.setattr(comm, "create_comm", lambda *a, **k: Recorder(*a, **k))
    return messages


def _figure():
    figure = make_subplots(rows=1, cols=2, subplot_titles=("left", "right"))
    figure.update_layout(height=320, width=940)
    figure.add_bar(x=["a", "b"], y=[1.0, 3.0], row=1, col=1)
    figure.add_bar(x=["c"], y=[2.0], row=1, col=2)
    return figure


def test_the_first_message_carries_the_whole_figure(sent):
    fw = FigureWidget(_figure())
    kind, state = sent[0][1:]
    assert kind == "comm_open"  # nothing was sent before the comm opened
    layout, data = state["_widget_layout"], state["_widget_data"]
    assert [a["text"] for a in layout["annotations"]] == ["left", "right"]
    assert (layout["height"], layout["width"]) == (320, 940)
    assert [list(t["y"]) for t in data] == [[1.0, 3.0], [2.0]]
    assert all(msg[0] == sent[0][0] for msg in sent)  # one comm, its id the widget's model id
    assert (
        fw._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]["model_id"]
        == (sent[0][0])
    )


def test_edits_after_the_first_message_still_go_to_the_browser(sent):
    fw = FigureWidget(_figure())
    opened = len(sent)
    with fw.batch_update():
        fw.data[0].y = [5.0, 6.0]
        fw.layout.annotations[1].text = "renamed"
    update = [s["_py2js_update"] for _, kind, s in sent[opened:] if s.get("_py2js_update")]
    assert update and update[0]["style_data"]["y"] == [[5.0, 6.0]]
    assert update[0]["layout_data"] == {"annotations.1.text": "renamed"}
    assert isinstance(fw, go.FigureWidget)


def test_the_energy_charts_open_with_their_bars(sent, model, atoms):
    energies = widgets.show_energies(model=model, atoms=atoms).children[1]
    opened = {cid: state for cid, kind, state in sent if kind == "comm_open"}
    state = opened[energies.figure._model_id]
    scale_bars, node_bars = state["_widget_data"]
    assert list(scale_bars["y"]) == pytest.approx(list(energies.scale_bars.y))
    assert list(node_bars["y"]) == pytest.approx(list(energies.node_bars.y)) and node_bars["y"]
    assert state["_widget_layout"]["annotations"][1]["text"] == energies.node_title
