"""The explorer's one colour language.

* :data:`PALETTE`: one qualitative colour per coarse node, ordered so that every prefix is
  as well separated as it can be (Tableau's nine non-grey colours, then farthest-point picks in
  CIELAB among sRGB colours of lightness 35-75 and chroma 25-80). The first *n* colours are
  the palette of a level with *n* nodes (:func:`node_palette`); any two of them differ by
  CIE76 ΔE ≥ 26, about ten times a just-noticeable difference (ΔE ≈ 2.3), so no two nodes of
  a level look alike. Colours repeat only beyond 32 nodes.
* :data:`SCALE_COLORS`: one colour per energy scale and per curve role (atoms, level 1, level 2,
  ..., total, baseline, reference). Every chart (scan, energy per scale, energies along a
  trajectory) takes its colours from here, so "level 1" is the same green everywhere.
* :data:`RAMP` and :data:`LOG_RAMP`: sequential ramps for memberships (linear, 0 → 1) and for
  influence maps (logarithmic, several decades).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: One colour per coarse node, best-separated first (cycled only beyond its 32 colours).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
    "#17becf", "#a5b487", "#4b5a00", "#a5004b", "#1e695a", "#ff9678", "#0078ff", "#965a00",
    "#00c396", "#a50096", "#b4a5d2", "#e178ff", "#ff3c96", "#d2a55a", "#e196a5", "#784bd2",
    "#00783c", "#873c69", "#e1a500", "#96c35a", "#87a5ff", "#4bc3ff", "#a53c2d", "#f06987",
)  # fmt: skip

#: One colour per energy scale and curve role, shared by every chart of the explorer.
SCALE_COLORS = {
    "atoms": "#7f7f7f",
    "level 1": "#2ca02c",
    "level 2": "#9467bd",
    "level 3": "#8c564b",
    "level 4": "#e377c2",
    "total": "#1f77b4",
    "baseline": "#ff7f0e",
    "reference": "#000000",
}

#: Curves of further models (beyond the first MuSE model and the first baseline).
OTHER_MODEL_COLORS = ("#17becf", "#bcbd22", "#d62728")

#: Stops of the sequential ramp (white -> light blue -> dark blue) for memberships.
RAMP = ("#ffffff", "#9ecae1", "#3182bd", "#08306b")

#: Stops of the logarithmic ramp; it starts at a visible tint so that the smallest value above
#: the floor differs from white (values at or below the floor, zeros included, are white).
LOG_RAMP = ("#deebf7", "#9ecae1", "#3182bd", "#08306b")


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


def to_lab(color: str) -> np.ndarray:
    """``"#rrggbb"`` (sRGB, D65) -> CIELAB ``(L*, a*, b*)``."""
    rgb = to_rgb(color)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array(
        [[0.4124564, 0.3575761, 0.1804375],
         [0.2126729, 0.7151522, 0.0721750],
         [0.0193339, 0.1191920, 0.9503041]]
    )  # fmt: skip
    xyz = m @ linear / np.array([0.95047, 1.0, 1.08883])
    eps = (6 / 29) ** 3
    f = np.where(xyz > eps, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str) -> float:
    """CIE76 colour difference ΔE*ab (Euclidean distance in CIELAB)."""
    return float(np.linalg.norm(to_lab(a) - to_lab(b)))


def node_color(k: int) -> str:
    """The palette colour of coarse node ``k``."""
    return PALETTE[k % len(PALETTE)]


def node_palette(n: int) -> list[str]:
    """The colours of a level with ``n`` nodes: the ``n`` best-separated ones (cycled past 32)."""
    return [node_color(k) for k in range(int(n))]


def scale_color(name: str) -> str:
    """The colour of a scale or curve role (``"atoms"``, ``"level 3"``, ``"total"``, ...).

    Levels deeper than those in :data:`SCALE_COLORS` reuse the level colours in turn.
    """
    if name in SCALE_COLORS:
        return SCALE_COLORS[name]
    if name.startswith("level "):
        levels = [c for k, c in SCALE_COLORS.items() if k.startswith("level ")]
        return levels[(int(name.split()[1]) - 1) % len(levels)]
    raise KeyError(f"no colour for scale {name!r}; known: {list(SCALE_COLORS)}")


def model_colors(coarse: Sequence[bool]) -> list[str]:
    """Curve colours of models in order, given whether each has coarse levels.

    The first model with coarse levels is drawn in the "total" colour, the first without in
    the "baseline" colour, and any further model in :data:`OTHER_MODEL_COLORS`.
    """
    out, taken, others = [], set(), 0
    for has_levels in coarse:
        role = "total" if has_levels else "baseline"
        if role not in taken:
            taken.add(role)
            out.append(SCALE_COLORS[role])
        else:
            out.append(OTHER_MODEL_COLORS[others % len(OTHER_MODEL_COLORS)])
            others += 1
    return out


def blend(color: str, fraction: float, *, floor: float = 0.15) -> str:
    """``color`` at intensity ``fraction`` (0: white, 1: the colour itself).

    ``floor`` keeps a faint tint at zero so that every atom shows its node.
    """
    f = floor + (1.0 - floor) * float(np.clip(fraction, 0.0, 1.0))
    return to_hex((1.0 - f) * np.ones(3) + f * to_rgb(color))


def _ramp(t: np.ndarray, stops: Sequence[str]) -> list[str]:
    rgb_stops = np.array([to_rgb(c) for c in stops])
    x = np.clip(t, 0.0, 1.0) * (len(rgb_stops) - 1)
    lo = np.minimum(np.floor(x).astype(int), len(rgb_stops) - 2)
    w = (x - lo)[:, None]
    return [to_hex(c) for c in (1 - w) * rgb_stops[lo] + w * rgb_stops[lo + 1]]


def sequential(values: Sequence[float], *, vmax: float | None = None) -> list[str]:
    """Map values >= 0 onto the white-to-blue ramp (``vmax``: the value drawn darkest)."""
    v = np.asarray(values, dtype=float)
    if np.any(~np.isfinite(v)):
        raise ValueError("sequential colours need finite values")
    top = float(vmax) if vmax is not None else float(v.max(initial=0.0))
    t = np.clip(v / top, 0.0, 1.0) if top > 0 else np.zeros_like(v)
    return _ramp(t, RAMP)


def log_position(values: Sequence[float], *, vmax: float, decades: float) -> np.ndarray:
    r"""Where values sit on a logarithmic scale from ``vmax`` down ``decades`` decades.

    .. math:: t = 1 + \log_{10}(v / v_\max) / D, \quad \text{clipped to } [0, 1]

    Values at or below the floor :math:`v_\max 10^{-D}` (zeros included) give ``t = 0``,
    values at or above ``vmax`` give 1.
    """
    v = np.asarray(values, dtype=float)
    if np.any(~np.isfinite(v)):
        raise ValueError("log colours need finite values")
    if vmax <= 0 or decades <= 0:
        return np.zeros_like(v)
    with np.errstate(divide="ignore"):
        t = 1.0 + np.log10(np.maximum(v, 0.0) / vmax) / decades
    return np.clip(np.nan_to_num(t, neginf=0.0), 0.0, 1.0)


def log_sequential(values: Sequence[float], *, vmax: float, decades: float = 5.0) -> list[str]:
    """Colours on :data:`LOG_RAMP` for a scale spanning ``decades`` decades below ``vmax``.

    Values above the floor ``vmax * 10**-decades`` take the ramp, from a light tint at the
    floor to dark blue at ``vmax``; values at or below it (and zeros) are white.
    """
    v = np.asarray(values, dtype=float)
    t = log_position(v, vmax=vmax, decades=decades)
    colors = _ramp(t, LOG_RAMP)
    floor = vmax * 10.0 ** (-decades) if vmax > 0 else np.inf
    return [c if x > floor else "#ffffff" for c, x in zip(colors, v, strict=True)]


def log_ticks(vmax: float, decades: float) -> tuple[list[float], list[str]]:
    """Ticks of a logarithmic colour bar: log10 positions of the whole decades, and labels."""
    if vmax <= 0:
        return [], []
    hi = float(np.log10(vmax))
    ks = range(int(np.ceil(hi - decades)), int(np.floor(hi)) + 1)
    return [float(k) for k in ks], [f"{10.0**k:g}" for k in ks]
