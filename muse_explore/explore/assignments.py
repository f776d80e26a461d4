"""What the assignment viewer draws: atom colours, coarse-node spheres, labels and the legend."""

from __future__ import annotations

import numpy as np

from muse_explore.explore.colors import blend, node_color, sequential, to_rgb
from muse_explore.explore.snapshot import Snapshot

#: Radius (Å) of a coarse-node sphere holding one atom; it grows with the cube root of the count.
SPHERE_RADIUS = 0.9
#: Opacity of the coarse-node spheres, and of the picked node's (drawn as an outline) fill.
SPHERE_OPACITY = 0.3
OUTLINE_OPACITY = 0.08


def atom_colors(snap: Snapshot, level: int, *, node: int | None = None, bins: int = 5) -> list[str]:
    """One colour per atom.

    Without ``node``: the colour of the atom's dominant node on ``level``, its intensity the
    atom's share in that node. With ``node``: the atom's share in ``node`` on the
    white-to-blue ramp. Shares are rounded to ``bins`` steps so that a view needs few
    representations (:func:`color_groups`).
    """
    if node is not None:
        k = snap.num_nodes(level)
        if not 0 <= node < k:
            raise ValueError(f"level {level} has nodes 0..{k - 1}, got {node}")
        share = snap.membership(level)[:, node]
        return sequential(np.round(share * bins) / bins, vmax=1.0)
    k, share = snap.dominant(level)
    q = np.round(share * bins) / bins
    return [blend(node_color(int(a)), float(f)) for a, f in zip(k, q, strict=True)]


def color_groups(colors: list[str]) -> dict[str, list[int]]:
    """Atoms grouped by colour, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(colors):
        groups.setdefault(c, []).append(i)
    return groups


def node_spheres(snap: Snapshot, level: int, *, highlight: int | None = None) -> list[dict]:
    """One translucent sphere per node of ``level``.

    Each sphere: ``node``, ``center``, ``color`` (RGB 0-1), ``radius`` (grows with the cube
    root of the node's mass, the number of atoms it holds with fractional shares counted),
    ``opacity``, ``mass`` and ``outline``. The ``highlight`` node is drawn as an outline:
    nearly transparent (so that its members, coloured by their share, stay visible) with
    ``rings``, three great circles as ``(major, minor)`` axis vectors of length ``radius``.
    """
    mass = snap.membership(level).sum(axis=0)
    out = []
    for k, (center, m) in enumerate(zip(snap.positions[level], mass, strict=True)):
        hi = highlight is not None and k == highlight
        r = float(SPHERE_RADIUS * max(m, 0.0) ** (1 / 3) * (1.25 if hi else 1.0))
        sphere = {
            "node": k,
            "center": [float(x) for x in center],
            "color": [float(x) for x in to_rgb(node_color(k))],
            "radius": r,
            "opacity": OUTLINE_OPACITY if hi else SPHERE_OPACITY,
            "mass": float(m),
            "outline": hi,
        }
        if hi:
            e = r * np.eye(3)
            sphere["rings"] = [(e[0].tolist(), e[1].tolist()), (e[1].tolist(), e[2].tolist()),
                               (e[2].tolist(), e[0].tolist())]  # fmt: skip
        out.append(sphere)
    return out


def atom_labels(snap: Snapshot, level: int, *, node: int | None = None) -> list[str]:
    """Hover and pick labels: atom index, element, node and share on ``level``.

    Without ``node``: the atom's dominant node and its share in it; with ``node``: its share
    in that node.
    """
    symbols = snap.atoms.get_chemical_symbols()
    if node is not None:
        share = snap.membership(level)[:, node]
        k = np.full(len(share), node)
    else:
        k, share = snap.dominant(level)
    return [
        f"atom {i} {s} · level {level} node {int(a)} · share {f:.2f}"
        for i, (s, a, f) in enumerate(zip(symbols, k, share, strict=True))
    ]


def legend(snap: Snapshot, level: int) -> list[dict]:
    """Per node of ``level``: colour, atoms it holds (mass), energy (eV) and seed atom."""
    mass = snap.membership(level).sum(axis=0)
    symbols = snap.atoms.get_chemical_symbols()
    return [
        {
            "node": k,
            "color": node_color(k),
            "mass": float(mass[k]),
            "energy": float(snap.node_energies[level][k]),
            "seed": f"{symbols[int(a)]}{int(a)}",
        }
        for k, a in enumerate(snap.anchors[level])
    ]
