r"""The influence map: how strongly each atom *j* acts on a chosen atom *i*.

``kind="hessian"``: :math:`\lVert H_{ij} \rVert_F` with :math:`H_{ij} = \partial^2 E /
\partial \mathbf r_i \partial \mathbf r_j` (eV/Å²), the coupling of the two atoms' motions.
``kind="energy"``: :math:`\lVert \partial E_i / \partial \mathbf r_j \rVert` (eV/Å), how atom
*j* moves atom *i*'s own energy. For a backbone alone, ∂E_i/∂r_j vanishes beyond T·r_c (T
interaction blocks, cutoff r_c) and H_ij beyond 2·T·r_c along chains of atoms; between two
fragments separated by a gap wider than r_c no edge crosses at all, so both are exactly zero
there, at any distance. MuSE's coarse levels bridge such gaps.
"""

from __future__ import annotations

import numpy as np
import torch
from ase import Atoms


def influence(
    model, atoms: Atoms, atom: int, *, kind: str = "hessian", dtype=torch.float64
) -> np.ndarray:
    """(n,) influence of every atom on ``atom`` (``kind``: "hessian" or "energy")."""
    import copy

    from muse_explore.calc.derivatives import atom_energy_gradient, hessian_rows
    from muse_explore.data.graph import batch_to
    from muse_explore.explore.models import resolve_model

    if kind not in ("hessian", "energy"):
        raise ValueError(f"kind must be 'hessian' or 'energy', got {kind!r}")
    if not 0 <= int(atom) < len(atoms):
        raise ValueError(f"atom must be in 0..{len(atoms) - 1}, got {atom}")
    model = copy.deepcopy(resolve_model(model)).to(dtype=dtype).eval()
    p = next(model.parameters())
    graph = model.graph_converter(dtype=dtype).batch(atoms, targets=False)
    batch = batch_to(graph, p.device, dtype)
    if kind == "energy":
        return atom_energy_gradient(model, batch, int(atom)).norm(dim=1).cpu().numpy()
    rows = hessian_rows(model, batch, [int(atom)]).reshape(3, -1, 3)  # (c, j, c')
    return rows.pow(2).sum(dim=(0, 2)).sqrt().cpu().numpy()


def bonded_neighbours(atoms: Atoms, atom: int, *, mult: float = 1.2) -> np.ndarray:
    """Indices of the atoms bonded to ``atom``: closer than ``mult`` × the sum of covalent radii."""
    from ase.data import covalent_radii

    i = int(atom)
    d = atoms.get_distances(i, np.arange(len(atoms)), mic=bool(atoms.pbc.any()))
    r = covalent_radii[atoms.numbers]
    bonded = d < mult * (r + r[i])
    bonded[i] = False
    return np.flatnonzero(bonded)


def influence_colors(
    values: dict[str, np.ndarray],
    atom: int,
    *,
    leave_out: np.ndarray | list[int] = (),
    decades: float = 5.0,
) -> dict:
    r"""One logarithmic colour scale shared by several influence maps.

    The scale runs from :math:`v_\max` (the largest value over all maps, leaving out the
    picked ``atom`` and the atoms in ``leave_out``, e.g. its bonded neighbours) down
    ``decades`` decades; a linear scale topped by a bonded block (≈ 30 eV/Å²) would draw
    couplings of 0.07 eV/Å² white, like zeros. Atoms left out of the scale that exceed
    :math:`v_\max` take its darkest colour; the picked atom is red.

    Returns:
        ``colors`` (name -> one colour per atom), ``vmax``, ``floor`` (:math:`v_\max
        10^{-D}`; values at or below it are white) and ``decades``.
    """
    from muse_explore.explore.colors import log_sequential

    n = len(next(iter(values.values())))
    scaled = np.ones(n, dtype=bool)
    scaled[int(atom)] = False
    scaled[np.asarray(leave_out, dtype=int)] = False
    vmax = max(float(np.asarray(v)[scaled].max(initial=0.0)) for v in values.values())
    colors = {}
    for name, v in values.items():
        c = log_sequential(np.where(np.arange(n) == int(atom), 0.0, v), vmax=vmax, decades=decades)
        c[int(atom)] = "#ff0000"
        colors[name] = c
    floor = vmax * 10.0 ** (-decades)
    return {"colors": colors, "vmax": vmax, "floor": floor, "decades": float(decades)}
