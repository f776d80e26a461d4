"""GFN2-xTB, the project's reference method, through tblite's ASE calculator.

tblite is an optional dependency (``pip install "muse-explore[reference]"``); everything else in
muse_explore works without it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator


def tblite_available() -> bool:
    """Whether tblite (GFN2-xTB) can be imported."""
    try:
        import tblite.ase  # noqa: F401
    except ImportError:
        return False
    return True


def gfn2_calculator(**kwargs):
    """A fresh tblite GFN2-xTB ASE calculator (energies in eV, forces eV/Å, stress eV/Å³).

    Raises:
        ImportError: when tblite is not installed, with the command that installs it.
    """
    try:
        from tblite.ase import TBLite
    except ImportError:
        raise ImportError(
            "GFN2-xTB reference calculations need tblite: pip install 'muse-explore[reference]'"
        ) from None
    kwargs.setdefault("method", "GFN2-xTB")
    kwargs.setdefault("verbosity", 0)
    return TBLite(**kwargs)


def single_point(atoms: Atoms, calc=None, *, stress: bool = False) -> Atoms:
    """A copy of ``atoms`` labelled with GFN2-xTB energy, forces (and stress for a cell).

    The copy carries a ``SinglePointCalculator``, so ``ase.io.write`` stores the labels and
    the data layer reads them as training targets. ``atoms.info`` is kept.
    """
    calc = calc if calc is not None else gfn2_calculator()
    work = atoms.copy()
    work.calc = calc
    energy = float(work.get_potential_energy())
    forces = np.asarray(work.get_forces(), dtype=float)
    results = {"energy": energy, "forces": forces}
    if stress:
        results["stress"] = np.asarray(work.get_stress(), dtype=float)
    labelled = atoms.copy()
    labelled.info = dict(atoms.info)
    labelled.calc = SinglePointCalculator(labelled, **results)
    return labelled


def relax(atoms: Atoms, calc=None, *, fmax: float = 0.01, steps: int = 500) -> Atoms:
    """GFN2-xTB minimum of ``atoms`` (BFGS to ``fmax`` eV/Å), as a new unlabelled ``Atoms``."""
    from ase.optimize import BFGS

    work = atoms.copy()
    work.calc = calc if calc is not None else gfn2_calculator()
    BFGS(work, logfile=None).run(fmax=fmax, steps=steps)
    out = atoms.copy()
    out.positions = work.positions
    return out


def hessian(
    atoms: Atoms, indices: Sequence[int] | None = None, *, delta: float = 0.005, calc=None
) -> np.ndarray:
    """GFN2-xTB Hessian (eV/Å²) over ``indices`` by central differences of the forces.

    6 m force evaluations for m atoms (about a second each for a 100-atom complex here); the
    result is symmetrised.
    """
    idx = np.arange(len(atoms)) if indices is None else np.asarray(indices)
    work = atoms.copy()
    work.calc = calc if calc is not None else gfn2_calculator()
    h = np.zeros((3 * len(idx), 3 * len(idx)))
    for a, i in enumerate(idx):
        for c in range(3):
            f = []
            for sign in (1, -1):
                work.positions[i, c] += sign * delta
                f.append(work.get_forces()[idx].reshape(-1))
                work.positions[i, c] -= sign * delta
            h[3 * a + c] = -(f[0] - f[1]) / (2 * delta)
    return 0.5 * (h + h.T)
