"""Colours of the explorer: a categorical palette for coarse nodes and a sequential ramp."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: One colour per coarse node (cycled when a level has more nodes).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#393b79", "#e6550d", "#31a354", "#756bb1", "#843c39", "#3182bd", "#de2d26",
)  # fmt: skip

#: Stops of the sequential ramp (white -> light blue -> dark blue) for memberships/influence.
RAMP = ("#ffffff", "#9ecae1", "#3182bd", "#08306b")


def to_rgb(color: str) -> np.ndarray:
    """``"#rrggbb"`` -> RGB floats in [0, 1]."""
    c = color.lstrip("#")
    if len(c) != 6:
        raise ValueError(f"expected a colour like '#1f77b4', got {color!r}")
    return np.array([int(c[i : i + 2], 16) / 255.0 for i in (0, 2, 4)])


def to_hex(rgb: Sequence[float]) -> str:
    """RGB floats in [0, 1] -> ``"#rrggbb"``."""
    r, g, b = (int(round(255 * float(np.clip(v, 0.0, 1.0)))) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


def node_color(k: int) -> str:
    """The palette colour of coarse node ``k``."""
    return PALETTE[k % len(PALETTE)]


def blend(color: str, fraction: float, *, floor: float = 0.15) -> str:
    """``color`` at intensity ``fraction`` (0: white, 1: the colour itself).

    ``floor`` keeps a faint tint at zero so that every atom shows its node.
    """
    f = floor + (1.0 - floor) * float(np.clip(fraction, 0.0, 1.0))
    return to_hex((1.0 - f) * np.ones(3) + f * to_rgb(color))


def sequential(values: Sequence[float], *, vmax: float | None = None) -> list[str]:
    """Map values >= 0 onto the white-to-blue ramp (``vmax``: the value drawn darkest)."""
    v = np.asarray(values, dtype=float)
    if np.any(~np.isfinite(v)):
        raise ValueError("sequential colours need finite values")
    top = float(vmax) if vmax is not None else float(v.max(initial=0.0))
    t = np.clip(v / top, 0.0, 1.0) if top > 0 else np.zeros_like(v)
    stops = np.array([to_rgb(c) for c in RAMP])
    x = t * (len(stops) - 1)
    lo = np.minimum(np.floor(x).astype(int), len(stops) - 2)
    w = (x - lo)[:, None]
    rgb = (1 - w) * stops[lo] + w * stops[lo + 1]
    return [to_hex(c) for c in rgb]
