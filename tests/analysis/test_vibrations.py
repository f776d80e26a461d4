import numpy as np
import pytest
from ase.build import molecule

from muse_explore.analysis.vibrations import compare_hessians, frequencies
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
