import numpy as np
import pytest
from ase.build import molecule

from muse_explore.analysis.vibrations import compare_hessians, frequencies, normal_modes
from muse_explore.reference.xtb import hessian as reference_hessian
from muse_explore.reference.xtb import tblite_available


def test_frequencies_of_a_harmonic_diatomic():
    from ase import Atoms

    k = 40.0  # eV/Å², along the bond only
    a = Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]])
    h = np.zeros((6, 6))
    h[0, 0] = h[3, 3] = k
    h[0, 3] = h[3, 0] = -k
    mu = a.get_masses()[0] / 2
    expected = np.sqrt(k / mu) * 521.47  # sqrt(eV/Å²/amu) = 521.47 cm⁻¹
    f = frequencies(h, a)
    assert f[-1] == pytest.approx(expected, rel=1e-3)
    assert np.allclose(f[:-1], 0.0, atol=1e-6)
    with pytest.raises(ValueError, match="Hessian over"):
        frequencies(h[:3, :3], a)


def test_normal_modes_are_unit_cartesian_displacements_that_keep_the_centre_of_mass():
    from ase import Atoms

    k = 30.0  # a CO stretch along x only (eV/Å²)
    a = Atoms("CO", positions=[[0, 0, 0], [1.13, 0, 0]])
    h = np.zeros((6, 6))
    h[0, 0] = h[3, 3] = k
    h[0, 3] = h[3, 0] = -k
    w, u = normal_modes(h, a)
    assert np.allclose(np.linalg.norm(u, axis=0), 1.0)
    stretch = u[:, -1]
    m = a.get_masses()
    # the atoms move against each other along the bond, the centre of mass stays
    assert stretch[0] * m[0] + stretch[3] * m[1] == pytest.approx(0.0, abs=1e-12)
    assert np.allclose(stretch[[1, 2, 4, 5]], 0.0)
    # each mode's Rayleigh quotient with the mass matrix is its eigenvalue
    mass = np.repeat(m, 3)
    assert stretch @ h @ stretch / (stretch**2 @ mass) == pytest.approx(w[-1])
    assert w[-1] == pytest.approx(k * (1 / m[0] + 1 / m[1]))
    f = frequencies(h, a)
    assert f[-1] == pytest.approx(np.sqrt(w[-1]) * 521.47, rel=1e-3)
    # a partial Hessian: the modes span only the chosen atoms
    w1, u1 = normal_modes(h[:3, :3], a, [0])
    assert u1.shape == (3, 3) and w1[-1] == pytest.approx(k / m[0])


@pytest.mark.skipif(not tblite_available(), reason="needs tblite (the [reference] extra)")
def test_reference_hessian_matches_ase_vibrations(tmp_path, monkeypatch):
    from ase.vibrations import Vibrations

    from muse_explore.reference.xtb import gfn2_calculator, relax

    monkeypatch.chdir(tmp_path)
    water = relax(molecule("H2O"), fmax=1e-4)
    h = reference_hessian(water)
    work = water.copy()
    work.calc = gfn2_calculator()
    vib = Vibrations(work, delta=0.005)
    vib.run()
    ase_f = vib.get_frequencies().real[-3:]
    np.testing.assert_allclose(frequencies(h, water)[-3:], ase_f, atol=0.5)
    c = compare_hessians(h, h, water)
    assert c["hessian_mae"] == 0.0 and c["frequency_mae"] == 0.0
