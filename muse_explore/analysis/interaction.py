r"""Molecule–substrate interaction energies from triples (complex, substrate, molecule).

.. math:: E_\mathrm{int}(d) = E(\text{complex}) - E(\text{flake}) - E(\text{molecule})

computed for the reference labels and for models on the same geometries, and their errors
per distance range.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from ase import Atoms

#: Distance ranges of the error table, Å (low inclusive, high exclusive).
RANGES = ((0.0, 4.0), (4.0, 6.0), (6.0, 10.0), (10.0, np.inf))


def range_label(low: float, high: float) -> str:
    """'< 4 Å', '4–6 Å', '> 10 Å'."""
    if low <= 0:
        return f"< {high:g} Å"
    if not np.isfinite(high):
        return f"> {low:g} Å"
    return f"{low:g}–{high:g} Å"


def predict(
    model, structures: Sequence[Atoms], *, dtype=torch.float64, batch_size: int = 16,
    forces: bool = False,
):  # fmt: skip
    """Energies (eV) of ``structures`` (and forces, a list of (n, 3) arrays) from ``model``.

    A shortcut over :func:`muse_explore.calc.evaluate.evaluate_many`.
    """
    from muse_explore.calc.evaluate import evaluate_many

    records = evaluate_many(model, structures, dtype=dtype, batch_size=batch_size, forces=forces)
    energies = np.array([r.energy for r in records])
    return (energies, [r.forces for r in records]) if forces else energies


def _group(atoms: Atoms):
    info = atoms.info
    if "scan" in info:
        return ("scan", int(info["scan"]))
    return (str(info.get("set", "")), int(info["config"]))


def interaction_energy(calc, complex_: Atoms, n_substrate: int) -> float:
    """E(complex) − E(substrate) − E(molecule) in eV from one calculator.

    The substrate is the first ``n_substrate`` atoms of ``complex_``, the molecule the rest;
    each part is evaluated alone, on a copy, so ``complex_`` keeps its own calculator.
    """
    energies = []
    for part in (complex_, complex_[:n_substrate], complex_[n_substrate:]):
        work = part.copy()
        work.calc = calc
        energies.append(work.get_potential_energy())
    return energies[0] - energies[1] - energies[2]


def interaction_energies(structures: Sequence[Atoms], energies: Sequence[float]) -> list[dict]:
    """E_int of every complex whose flake and molecule (same group) are in ``structures``.

    Structures carry ``info["part"]`` ("complex", "flake", "molecule") and a group
    (``info["config"]`` or ``info["scan"]``), as the reference sets store them.

    Returns:
        One dict per complex: ``group``, ``molecule``, ``height`` (Å), ``e_int`` (eV),
        ``index`` (position of the complex in ``structures``).
    """
    parts: dict[tuple, dict[str, float]] = {}
    for a, e in zip(structures, energies, strict=True):
        if a.info.get("part") in ("flake", "molecule"):
            parts.setdefault(_group(a), {})[a.info["part"]] = float(e)
    rows = []
    for i, (a, e) in enumerate(zip(structures, energies, strict=True)):
        if a.info.get("part") != "complex":
            continue
        g = parts.get(_group(a), {})
        if "flake" in g and "molecule" in g:
            rows.append({
                "group": _group(a), "molecule": a.info.get("molecule", ""),
                "height": float(a.info["height"]), "e_int": float(e) - g["flake"] - g["molecule"],
                "index": i,
            })  # fmt: skip
    return rows


def errors_by_range(heights, errors, ranges=RANGES) -> list[dict]:
    """MAE and count of ``errors`` (any unit) in each height range, then overall."""
    heights, errors = np.asarray(heights), np.abs(np.asarray(errors))
    out = []
    for low, high in ranges:
        m = (heights >= low) & (heights < high)
        out.append({"range": range_label(low, high), "n": int(m.sum()),
                    "mae": float(errors[m].mean()) if m.any() else float("nan")})  # fmt: skip
    out.append({"range": "all", "n": int(len(errors)),
                "mae": float(errors.mean()) if len(errors) else float("nan")})  # fmt: skip
    return out


def profile_minimum(heights, e_int, *, points: int = 2001) -> dict:
    """Position and depth of the well of an interaction profile E_int(d).

    A natural cubic spline through the points (sorted by height, duplicates averaged) is
    searched on a fine grid between the first and last height; at the ends the minimum is the
    end point itself (a profile still falling at its shortest height has no interior well,
    reported with ``interior=False``).

    Args:
        heights: molecule heights d (Å), at least four distinct values.
        e_int: interaction energies at those heights (any unit, returned unchanged).
        points: size of the search grid.

    Returns:
        ``{"d_min": Å, "e_min": same unit as e_int, "interior": bool}``.

    Raises:
        ValueError: for mismatched lengths, fewer than four distinct heights or non-finite
            values.
    """
    from scipy.interpolate import CubicSpline

    d, e = np.asarray(heights, dtype=float), np.asarray(e_int, dtype=float)
    if d.shape != e.shape or d.ndim != 1:
        raise ValueError(f"heights and e_int must be 1-D and alike, got {d.shape} and {e.shape}")
    if not (np.isfinite(d).all() and np.isfinite(e).all()):
        raise ValueError("heights and e_int must be finite")
    grid, inverse = np.unique(d, return_inverse=True)
    if len(grid) < 4:
        raise ValueError(f"a profile needs at least 4 distinct heights, got {len(grid)}")
    mean = np.bincount(inverse, weights=e) / np.bincount(inverse)
    spline = CubicSpline(grid, mean, bc_type="natural")
    x = np.linspace(grid[0], grid[-1], points)
    y = spline(x)
    k = int(np.argmin(y))
    return {"d_min": float(x[k]), "e_min": float(y[k]), "interior": 0 < k < points - 1}
