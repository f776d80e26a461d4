r"""Per-element energy shifts fitted by least squares.

.. math:: \min_{\varepsilon} \sum_s \Big(E_s - \sum_e n_{s,e}\, \varepsilon_e\Big)^2

with n_{s,e} the number of atoms of element e in structure s. The network then learns the
residual, which is small and of order one per atom.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers


def fit_energy_shifts(structures: Sequence[Atoms], elements: Sequence[str]) -> dict[str, float]:
    """Least-squares per-element energies (eV) of ``structures`` (which need energies).

    Elements absent from the structures get no entry (their shift stays 0).
    """
    z = [atomic_numbers[e] for e in elements]
    counts = np.array([[np.count_nonzero(a.numbers == zi) for zi in z] for a in structures], float)
    energies = np.array([a.get_potential_energy() for a in structures], float)
    present = counts.sum(0) > 0
    sol, *_ = np.linalg.lstsq(counts[:, present], energies, rcond=None)
    kept = [e for e, p in zip(elements, present, strict=True) if p]
    return {str(e): float(v) for e, v in zip(kept, sol, strict=True)}
