"""What the energy charts plot: per-scale energies, per-node energies, energies along frames.

Every function takes ``unit`` ("eV" or "meV"); the widgets draw meV throughout. Colours come
from :mod:`muse_explore.explore.colors` (one per scale, one per node).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from muse_explore.explore.colors import node_palette, scale_color
from muse_explore.explore.snapshot import Snapshot

#: Energy units the charts offer: name -> factor from eV.
UNITS = {"eV": 1.0, "meV": 1000.0}


def unit_factor(unit: str) -> float:
    """The factor from eV to ``unit``."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {list(UNITS)}, got {unit!r}")
    return UNITS[unit]


def scale_names(levels: int) -> list[str]:
    """``["atoms", "level 1", ...]``."""
    return ["atoms"] + [f"level {lev}" for lev in range(1, levels + 1)]


def scale_energy_bars(snap: Snapshot, *, relative_to_atoms: bool = True, unit: str = "eV") -> dict:
    """Bars of the energy of each scale, each in its scale colour.

    The atom scale holds the per-element energy shifts (thousands of eV) and would dwarf the
    coarse scales, so with ``relative_to_atoms`` the bars hold the coarse scales only and the
    atom scale is returned as ``atoms_total``.
    """
    f = unit_factor(unit)
    names = scale_names(snap.levels)
    e = f * np.asarray(snap.scale_energies, dtype=float)
    first = 1 if relative_to_atoms else 0
    return {
        "x": names[first:],
        "y": e[first:].tolist(),
        "colors": [scale_color(n) for n in names[first:]],
        "atoms_total": float(e[0]),
        "unit": unit,
    }


def node_energy_bars(
    snap: Snapshot, level: int, *, highlight: int | None = None, unit: str = "eV"
) -> dict:
    """Bars of the energy of every node of ``level`` (0: atoms), coloured by node."""
    e = unit_factor(unit) * np.asarray(snap.node_energies[level], dtype=float)
    if level == 0:
        symbols = snap.atoms.get_chemical_symbols()
        x = [f"{s}{i}" for i, s in enumerate(symbols)]
        colors = [scale_color("atoms")] * len(e)
    else:
        x = [f"node {k}" for k in range(len(e))]
        colors = node_palette(len(e))
    lines = [2.5 if highlight is not None and k == highlight else 0.0 for k in range(len(e))]
    return {"x": x, "y": e.tolist(), "colors": colors, "line_widths": lines, "unit": unit}


def frame_axis(frames) -> tuple[list[float], str]:
    """The x values and axis title of a chart along a trajectory.

    Simulation time in ps when every frame carries ``info["time_ps"]`` (or ``"time_fs"``),
    else the MD step (``info["md_step"]``), else the frame index.
    """
    infos = [getattr(a, "info", {}) for a in frames]
    if infos and all("time_ps" in i for i in infos):
        return [float(i["time_ps"]) for i in infos], "time (ps)"
    if infos and all("time_fs" in i for i in infos):
        return [float(i["time_fs"]) / 1000.0 for i in infos], "time (ps)"
    if infos and all("md_step" in i for i in infos):
        return [int(i["md_step"]) for i in infos], "MD step"
    return list(range(len(frames))), "frame"


def trajectory_energies(snaps: Sequence[Snapshot], *, unit: str = "eV") -> dict:
    """Per-scale energies against frame; the atom scale and total relative to the first frame.

    Returns:
        ``frame`` (indices), ``x`` and ``x_title`` (:func:`frame_axis`), ``series`` (name ->
        values) and ``colors`` (name -> the scale's colour).
    """
    if not snaps:
        raise ValueError("no frames")
    f = unit_factor(unit)
    e = f * np.array([s.scale_energies for s in snaps], dtype=float)
    names = scale_names(snaps[0].levels)
    series = {names[0] + " (− frame 0)": (e[:, 0] - e[0, 0]).tolist()}
    colors = {names[0] + " (− frame 0)": scale_color("atoms")}
    for j, name in enumerate(names[1:], start=1):
        series[name] = e[:, j].tolist()
        colors[name] = scale_color(name)
    total = f * np.array([s.energy for s in snaps])
    series["total (− frame 0)"] = (total - total[0]).tolist()
    colors["total (− frame 0)"] = scale_color("total")
    x, title = frame_axis([s.atoms for s in snaps])
    return {
        "frame": list(range(len(snaps))), "x": x, "x_title": title, "series": series,
        "colors": colors, "unit": unit,
    }  # fmt: skip
