"""What the energy charts plot: per-scale energies, per-node energies, energies along frames."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from muse_explore.explore.colors import node_color
from muse_explore.explore.snapshot import Snapshot


def scale_names(levels: int) -> list[str]:
    """``["atoms", "level 1", ...]``."""
    return ["atoms"] + [f"level {lev}" for lev in range(1, levels + 1)]


def scale_energy_bars(snap: Snapshot, *, relative_to_atoms: bool = True) -> dict:
    """Bars of the energy of each scale (eV).

    The atom scale holds the per-element energy shifts (thousands of eV) and would dwarf the
    coarse scales, so with ``relative_to_atoms`` the bars hold the coarse scales only and the
    atom scale is returned as ``atoms_total``.
    """
    names = scale_names(snap.levels)
    e = np.asarray(snap.scale_energies, dtype=float)
    if relative_to_atoms:
        return {"x": names[1:], "y": e[1:].tolist(), "atoms_total": float(e[0])}
    return {"x": names, "y": e.tolist(), "atoms_total": float(e[0])}


def node_energy_bars(snap: Snapshot, level: int, *, highlight: int | None = None) -> dict:
    """Bars of the energy (eV) of every node of ``level`` (0: atoms), coloured by node."""
    e = np.asarray(snap.node_energies[level], dtype=float)
    if level == 0:
        symbols = snap.atoms.get_chemical_symbols()
        x = [f"{s}{i}" for i, s in enumerate(symbols)]
        colors = ["#7f7f7f"] * len(e)
    else:
        x = [f"node {k}" for k in range(len(e))]
        colors = [node_color(k) for k in range(len(e))]
    lines = [2.5 if highlight is not None and k == highlight else 0.0 for k in range(len(e))]
    return {"x": x, "y": e.tolist(), "colors": colors, "line_widths": lines}


def trajectory_energies(snaps: Sequence[Snapshot]) -> dict:
    """Per-scale energies (eV) against frame; the atom scale relative to its first frame."""
    if not snaps:
        raise ValueError("no frames")
    e = np.array([s.scale_energies for s in snaps], dtype=float)
    names = scale_names(snaps[0].levels)
    series = {names[0] + " (− frame 0)": (e[:, 0] - e[0, 0]).tolist()}
    for j, name in enumerate(names[1:], start=1):
        series[name] = e[:, j].tolist()
    total = np.array([s.energy for s in snaps])
    series["total (− frame 0)"] = (total - total[0]).tolist()
    return {"frame": list(range(len(snaps))), "series": series}
