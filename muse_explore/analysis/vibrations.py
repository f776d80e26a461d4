r"""Vibrations from Hessians: frequencies and Hessian comparisons.

Frequencies come from the mass-weighted Hessian :math:`\tilde H_{ab} = H_{ab} /
\sqrt{m_a m_b}` over the chosen atoms (the others held fixed, as ASE's ``Vibrations`` with
``FixAtoms``): :math:`\omega = \sqrt{\lambda}` converted to cm⁻¹; a negative eigenvalue is
reported as a negative (imaginary) frequency.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms

from muse_explore.units import CM_PER_SQRT_EV_A2_AMU as _TO_CM


def normal_modes(
    hessian: np.ndarray, atoms: Atoms, indices: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Eigenvalues and modes of the mass-weighted Hessian over ``indices`` (default: all).

    Eigenvalues in eV/Å²/amu, ascending; the modes as unit Cartesian displacements (columns,
    Å): the mass-weighted eigenvectors divided by :math:`\sqrt{m}` and normalised.
    """
    idx = np.arange(len(atoms)) if indices is None else np.asarray(indices)
    h = np.asarray(hessian, dtype=float)
    if h.shape != (3 * len(idx), 3 * len(idx)):
        raise ValueError(f"a Hessian over {len(idx)} atoms is {3 * len(idx)}² , got {h.shape}")
    m = np.repeat(atoms.get_masses()[idx], 3)
    w, vec = np.linalg.eigh(0.5 * (h + h.T) / np.sqrt(np.outer(m, m)))
    u = vec / np.sqrt(m)[:, None]
    return w, u / np.linalg.norm(u, axis=0)


def frequencies(hessian: np.ndarray, atoms: Atoms, indices: Sequence[int] | None = None):
    """Harmonic frequencies (cm⁻¹, ascending; imaginary ones negative) of a (partial) Hessian."""
    w = normal_modes(hessian, atoms, indices)[0]
    return np.sign(w) * np.sqrt(np.abs(w)) * _TO_CM


def compare_hessians(
    model: np.ndarray, ref: np.ndarray, atoms: Atoms, indices=None, *, low: int = 6
) -> dict:
    """Element-wise MAE (eV/Å²), frequency MAE (cm⁻¹) and the ``low`` lowest modes' MAE.

    For a full Hessian (``indices=None``) the six rigid-body modes (numerical noise near zero)
    are left out of the frequency MAE and there is no low-mode MAE (``None``); for a partial
    Hessian of an adsorbate on a frozen substrate the ``low`` lowest modes are the
    intermolecular ones.
    """
    fm, fr = frequencies(model, atoms, indices), frequencies(ref, atoms, indices)
    skip = 6 if indices is None else 0
    return {
        "hessian_mae": float(np.abs(model - ref).mean()),
        "frequency_mae": float(np.abs(fm[skip:] - fr[skip:]).mean()),
        "low_mode_mae": None if indices is None else float(np.abs(fm[:low] - fr[:low]).mean()),
        "frequencies": fm.tolist(),
        "reference_frequencies": fr.tolist(),
    }
