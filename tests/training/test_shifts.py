import numpy as np
import pytest
from ase.build import molecule
from ase.calculators.singlepoint import SinglePointCalculator

from muse_explore.training.shifts import fit_energy_shifts


def test_least_squares_recovers_per_element_energies():
    true = {"H": -13.1, "C": -47.9, "O": -101.5}
    structures = []
    for name in ["H2O", "CH4", "C2H6", "CO2", "H2", "C6H6"]:
        a = molecule(name)
        e = sum(true[s] for s in a.get_chemical_symbols())
        a.calc = SinglePointCalculator(a, energy=e, forces=np.zeros((len(a), 3)))
        structures.append(a)
    shifts = fit_energy_shifts(structures, ["H", "C", "N", "O"])
    assert set(shifts) == {"H", "C", "O"}  # no N in the data: no shift for N
    for k, v in true.items():
        assert shifts[k] == pytest.approx(v, abs=1e-9)
    assert all(type(k) is str and type(v) is float for k, v in shifts.items())
