"""Draw docs/sigma_sweep.png: the σ sweep of the explorer's ▶ control, as a strip of pictures.

    python docs/sigma_sweep.py            # about 10 s

Benzene 3.4 Å above circumcoronene with the shipped MuSE-PaiNN graphene model; each panel is
the top view of level 1 at one σ, every atom in the colour of its dominant node with its share
as the intensity (exactly what the explorer's 3D view paints, muse_explore.explore.atom_colors),
and the nodes' centroids as rings. Small σ: each atom sits almost wholly in its nearest node;
large σ: shares spread, colours fade, and atoms change node.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import muse_explore as mx  # noqa: E402
from muse_explore.explore import atom_colors, snapshots, sweep_values  # noqa: E402
from muse_explore.reference import benzene_on_graphene  # noqa: E402

OUT = Path(__file__).resolve().parent / "sigma_sweep.png"


def main() -> None:
    """Evaluate the four σ values and write the strip."""
    model = mx.load_pretrained("muse-painn-graphene").model
    atoms = benzene_on_graphene(3.4)
    sigmas = sweep_values("sigma", 4, low=0.5, high=4.0)[:4]
    fig, axes = plt.subplots(1, len(sigmas), figsize=(3.2 * len(sigmas), 3.4))
    order = np.argsort(atoms.positions[:, 2])  # flake first, molecule drawn on top
    for ax, sigma in zip(axes, sigmas, strict=True):
        model.set_pooling(sigma=float(sigma), level=1)
        (snap,) = snapshots(model, atoms)
        colors = np.array(atom_colors(snap, 1))
        _, share = snap.dominant(1)
        xy = atoms.positions[:, :2]
        ax.scatter(*xy[order].T, c=colors[order], s=38, edgecolors="#555", linewidths=0.3)
        nodes = snap.positions[1][:, :2]
        ax.scatter(*nodes.T, s=70, facecolors="none", edgecolors="#222", linewidths=0.8)
        ax.set_title(f"σ = {sigma:.2g} Å · mean top share {share.mean():.2f}", fontsize=9)
        ax.set_aspect("equal")
        ax.axis("off")
    fig.suptitle("level-1 assignments of benzene on circumcoronene as σ grows", fontsize=10)
    fig.tight_layout()
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
