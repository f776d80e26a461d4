"""A plotly FigureWidget whose first message to the browser carries the whole figure."""

from __future__ import annotations

from muse_explore.widgets._deps import require

_, _, go = require()


class FigureWidget(go.FigureWidget):
    """``plotly.graph_objects.FigureWidget`` that opens its comm only once the figure is built.

    plotly's FigureWidget opens its comm half-way through its constructor, before the figure
    is set: the browser's model is created empty, and the layout and data follow in later
    messages. plotly brings those traits up to date only in ``_repr_mimebundle_`` (plotly.py
    #4956), which never runs for a chart inside a Box, and its view draws the state it finds
    once. On a busy page the first chart could be drawn before the figure had arrived, and
    it stayed empty for good: blank axes, no title (seen in the browser test).

    Here the comm is held back until the constructor is done and then opened with the whole
    figure in its first message, so a view has nothing to wait for. Edits made afterwards go
    the usual way; the widgets build each chart in full before wrapping it, so the initial
    state is the one that counts.
    """

    def __init__(self, *args, **kwargs) -> None:
        self._hold_comm = True
        try:
            super().__init__(*args, **kwargs)
        finally:
            self._hold_comm = False
        # plotly's constructor ends by copying the figure into _widget_layout/_widget_data
        # (plotly 7.1, pinned), so the comm opened here carries it; the tests check that.
        self.open()

    def open(self) -> None:
        """Open the comm, unless the constructor is still building the figure."""
        if not getattr(self, "_hold_comm", False):
            super().open()
