import numpy as np
import pytest
from scipy.spatial.distance import cdist

from muse_explore.reference.molecules import MOLECULES, small_molecule


@pytest.mark.parametrize(
    "name, formula",
    [
        ("benzene", "C6H6"),
        ("naphthalene", "C10H8"),
        ("pyridine", "C5H5N"),
        ("water", "H2O"),
        ("1,8-naphthyridine", "C8H6N2"),
    ],
)
def test_formulas_and_centring(name, formula):
    mol = small_molecule(name)
    assert mol.get_chemical_formula() == formula
    np.testing.assert_allclose(mol.positions.mean(0), 0, atol=1e-12)
    assert mol.info["name"] == name
    d = cdist(mol.positions, mol.positions) + 10 * np.eye(len(mol))
    assert d.min() > 0.9  # no overlapping atoms


def test_naphthyridine_nitrogens_flank_one_bridgehead():
    mol = small_molecule("1,8-naphthyridine")
    n_idx = np.flatnonzero(mol.numbers == 7)
    c_idx = np.flatnonzero(mol.numbers == 6)
    d = cdist(mol.positions[n_idx], mol.positions[c_idx])
    shared = set(c_idx[d[0] < 1.5]) & set(c_idx[d[1] < 1.5])
    assert len(shared) == 1  # both N bonded to the same (bridgehead) carbon: positions 1 and 8
    assert np.linalg.norm(mol.positions[n_idx[0]] - mol.positions[n_idx[1]]) == pytest.approx(
        2.42, abs=0.05
    )
    h = mol.positions[mol.numbers == 1]
    assert cdist(mol.positions[n_idx], h).min() > 1.9  # no N–H


def test_unknown_name():
    with pytest.raises(ValueError, match="unknown molecule 'toluene'"):
        small_molecule("toluene")
    assert len(MOLECULES) == 5
