"""Layout rules shared by the explorer's widgets: labels are shown in full, never truncated."""

from __future__ import annotations

#: Pixels per character of a control's description (JupyterLab's 13 px sans-serif, with margin).
CHAR_PX = 7.5


def label_width(text: str) -> int:
    """Pixels a description of ``text`` needs to be shown whole."""
    return int(CHAR_PX * len(text)) + 8


def labelled(control, *, width: str | None = None):
    """Give ``control``'s description room to show in full, and return the control.

    ``width`` (e.g. ``"90px"``) aligns a column of controls; it is widened when the
    description needs more. Toggle buttons size each button to its label.
    """
    need = label_width(getattr(control, "description", "") or "")
    px = max(need, int(width[:-2])) if width else need
    style = control.style
    if hasattr(style, "description_width"):
        style.description_width = f"{px}px"
    if hasattr(style, "button_width"):
        style.button_width = "auto"
    return control


def fill(widget, flex: str, min_width: str):
    """Let ``widget`` grow with its row (``flex`` as in CSS) but not below ``min_width``."""
    widget.layout.width = "auto"
    widget.layout.flex = flex
    widget.layout.min_width = min_width
    return widget
