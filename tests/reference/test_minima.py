import json

import numpy as np
import pytest
from ase import Atoms, units

from muse_explore.errors import MuSEFileError
from muse_explore.reference import minima as mn
from muse_explore.reference.molecules import small_molecule
from muse_explore.reference.structures import graphene_flake


def spring_hessian(atoms: Atoms, cutoff: float = 2.6, k: float = 20.0) -> np.ndarray:
    """Hessian of pair springs at rest: translation- and rotation-invariant, 6 zero modes."""
    n = len(atoms)
    h = np.zeros((3 * n, 3 * n))
    for i in range(n):
        for j in range(i + 1, n):
            d = atoms.positions[j] - atoms.positions[i]
            r = np.linalg.norm(d)
            if r < cutoff:
                block = k * np.outer(d, d) / r**2
                for a, b, s in ((i, i, 1), (j, j, 1), (i, j, -1), (j, i, -1)):
                    h[3 * a : 3 * a + 3, 3 * b : 3 * b + 3] += s * block
    return h


def spring_minimum(name: str, atoms: Atoms, indices=None) -> mn.Minimum:
    h = spring_hessian(atoms)
    if indices is not None:
        sel = np.ravel([[3 * i, 3 * i + 1, 3 * i + 2] for i in indices])
        h = h[np.ix_(sel, sel)] + 5.0 * np.eye(len(sel))  # tethered to the fixed atoms
    return mn.Minimum(name, atoms, h, None if indices is None else np.asarray(indices))


def potential(m: mn.Minimum, dx: np.ndarray) -> float:
    moving = np.arange(len(m.atoms)) if m.indices is None else m.indices
    x = dx[moving].ravel()
    return 0.5 * x @ m.hessian @ x


@pytest.mark.parametrize("temperature", [300.0, 600.0])
def test_sampling_is_thermal_and_has_no_rigid_body_motion(temperature):
    # a flake drawn flat and exactly symmetric: the sampling must not care
    m = spring_minimum("flake", graphene_flake(1))
    rng = np.random.default_rng(0)
    samples = [m.sample(temperature, rng) for _ in range(2000)]
    # in-plane springs give a flat flake no out-of-plane stiffness: those modes are soft
    n_modes = (m.frequencies()[6:] > mn.SOFTEST_MODE_CM).sum()
    assert 2 * len(m.atoms) - 3 - 2 <= n_modes < 3 * len(m.atoms) - 6
    mean_v = np.mean([potential(m, dx) for dx in samples])
    # equipartition: k_B T / 2 per vibrational mode (2000 draws: ~1 % spread)
    assert mean_v == pytest.approx(n_modes * units.kB * temperature / 2, rel=0.05)
    masses = m.atoms.get_masses()[:, None]
    for dx in samples[:50]:
        # Eckart conditions: no centre-of-mass motion, no rotation about the minimum
        np.testing.assert_allclose((masses * dx).sum(0), 0, atol=1e-10)
        np.testing.assert_allclose((masses * np.cross(m.atoms.positions, dx)).sum(0), 0, atol=1e-9)


def test_partial_hessian_moves_only_its_atoms_and_zero_kelvin_nothing():
    atoms = graphene_flake(0)
    m = spring_minimum("part", atoms, indices=[0, 1, 2])
    dx = m.sample(500.0, np.random.default_rng(1))
    assert np.abs(dx[:3]).max() > 0 and np.abs(dx[3:]).max() == 0
    assert np.abs(m.sample(0.0, np.random.default_rng(1))).max() == 0
    with pytest.raises(ValueError, match="temperature"):
        m.sample(-1.0, np.random.default_rng(1))


def test_soft_and_imaginary_modes_are_not_sampled():
    atoms = small_molecule("water")
    h = spring_hessian(atoms)
    lam, vec = spring_minimum("w", atoms).modes()
    m = spring_minimum("w", atoms)
    # turn the stiffest mode into an imaginary one in the mass-weighted frame
    masses = np.repeat(atoms.get_masses(), 3)
    e = vec[:, -1]
    h_bad = h - 2 * lam[-1] * np.sqrt(np.outer(masses, masses)) * np.outer(e, e)
    bad = mn.Minimum("w", atoms, h_bad)
    assert bad.frequencies()[0] < 0
    dx = bad.sample(300.0, np.random.default_rng(2))
    mw = (np.sqrt(masses) * dx.ravel()) @ e
    assert abs(mw) < 1e-10 and np.abs(dx).max() > 0
    assert np.isfinite(m.sample(300.0, np.random.default_rng(2))).all()


def test_save_load_round_trip_and_bad_files(tmp_path):
    m = spring_minimum("benzene", graphene_flake(0))
    path = tmp_path / "benzene.npz"
    m.save(path, {"method": "x"})
    back, meta = mn.Minimum.load(path)
    assert meta == {"name": "benzene", "method": "x"}
    np.testing.assert_array_equal(back.hessian, m.hessian)
    np.testing.assert_array_equal(back.atoms.positions, m.atoms.positions)
    assert back.indices is None and back.name == "benzene"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(MuSEFileError, match="not a readable minimum file"):
        mn.Minimum.load(path)
    (tmp_path / "x.npz").write_text("not numpy")
    with pytest.raises(MuSEFileError, match="not a readable minimum file"):
        mn.Minimum.load(tmp_path / "x.npz")


def test_cache_is_used_and_a_different_recipe_is_recomputed(tmp_path, monkeypatch):
    calls = []

    def fake_compute(name, folder):
        calls.append(name)
        return spring_minimum(name, small_molecule(name))

    monkeypatch.setattr(mn, "_compute", fake_compute)
    first = mn.minimum("water", folder=tmp_path)
    again = mn.minimum("water", folder=tmp_path)
    assert calls == ["water"]
    np.testing.assert_array_equal(first.hessian, again.hessian)
    meta = json.loads(str(np.load(tmp_path / "water.npz")["meta"]))
    assert meta["method"] == "GFN2-xTB" and meta["fmax"] == mn.FMAX and "seconds" in meta
    monkeypatch.setattr(mn, "DELTA", 0.01)  # made another way: never silently reused
    mn.minimum("water", folder=tmp_path)
    assert calls == ["water", "water"]
    with pytest.raises(ValueError, match="unknown minimum"):
        mn.minimum("graphite", folder=tmp_path)


def test_shipped_minima_are_relaxed_and_stable():
    from pathlib import Path

    from muse_explore.cli.make_data import MINIMA, THERMAL_SETS  # noqa: F401

    folder = Path(__file__).resolve().parents[2] / MINIMA
    files = sorted(folder.glob("*.npz"))
    assert {f.stem for f in files} >= {"coronene", "circumcoronene", "C96H24", "benzene", "water"}
    for f in files:
        m, meta = mn.Minimum.load(f)
        assert meta["method"] == "GFN2-xTB" and meta["fmax"] == mn.FMAX
        freqs = m.frequencies()[6 if m.indices is None else 0 :]
        # a minimum: no imaginary mode beyond finite-difference noise
        # (water turning on the flake is nearly free: a few cm⁻¹ of finite-difference noise
        # on a mode far softer than SOFTEST_MODE_CM, which is never sampled)
        assert freqs.min() > -25.0, (f.name, freqs[:3])
        if f.stem == "circumcoronene":
            dx = m.sample(450.0, np.random.default_rng(0))
            assert 0.01 < np.abs(dx[:, 2]).mean() < 0.2  # it bends out of plane
            assert np.abs(dx).max() < 0.5


def test_rigid_motion_is_exact_and_agrees_to_first_order():
    atoms = small_molecule("water")
    pos, masses = atoms.positions, atoms.get_masses()
    rng = np.random.default_rng(3)
    centre = (masses[:, None] * pos).sum(0) / masses.sum()
    # a pure rigid motion, large: a linear rotation by 1.2 rad, plus a translation
    omega, t = np.array([0.3, -1.0, 0.6]), np.array([0.4, 0.1, -0.2])
    linear = t + np.cross(omega, pos - centre)
    moved = pos + mn.rigid_motion_exact(pos, masses, linear)
    np.testing.assert_allclose(
        np.linalg.norm(moved[:, None] - moved[None], axis=-1),
        np.linalg.norm(pos[:, None] - pos[None], axis=-1),
        atol=1e-12,
    )  # every distance kept
    np.testing.assert_allclose((masses[:, None] * moved).sum(0) / masses.sum(), centre + t)
    # small motions, rigid and internal mixed: the same as the linear displacement to 2nd order
    dx = rng.normal(size=pos.shape)
    err = [np.abs(mn.rigid_motion_exact(pos, masses, e * dx) - e * dx).max() for e in (1e-2, 1e-3)]
    assert err[0] < 0.2 * 1e-2 and 0.005 < err[1] / err[0] < 0.02  # second order in eps
    # a linear molecule with relaxation noise: no spurious spin about its axis
    co2 = np.array([[0.0, 0.0, -1.16], [0.0, 0.0, 0.0], [0.0, 0.0, 1.16]])
    co2[:, :2] += 1e-7 * rng.normal(size=(3, 2))
    small = 0.01 * rng.normal(size=(3, 3))
    m_co2 = np.array([16.0, 12.0, 16.0])
    assert np.abs(mn.rigid_motion_exact(co2, m_co2, small) - small).max() < 1e-3
    # a bond stretch (with the centre of mass kept; its small rotational part is applied as
    # a rotation) stays, to first order, the stretch it was
    internal = linear - linear  # zero, then a bond stretch along O-H
    internal[1] = 0.05 * (pos[1] - pos[0])
    internal[0] = -internal[1] * masses[1] / masses[0]
    internal -= (masses[:, None] * internal).sum(0) / masses.sum()
    part = mn.rigid_motion_exact(pos, masses, internal)
    assert np.linalg.norm(part - internal) < 1e-3 * np.linalg.norm(internal)


def test_adsorbate_librations_do_not_break_the_molecule():
    # water tethered by weak springs (soft librations, as on a flake) with stiff bonds:
    # harmonic amplitudes of the librations reach ~1 rad, yet every O-H bond stays intact
    atoms = small_molecule("water")
    flake = graphene_flake(0)
    flake.positions[:, 2] -= 3.0
    both = flake + atoms
    idx = np.arange(len(flake), len(both))
    h = spring_hessian(atoms, k=40.0) + 0.02 * np.eye(9)
    m = mn.Minimum("water/flake", both, h, idx)
    rng = np.random.default_rng(0)
    oh = np.linalg.norm(atoms.positions[1:] - atoms.positions[0], axis=1)
    moves, stretch = [], []
    for _ in range(300):
        dx = m.sample(400.0, rng)
        assert np.abs(dx[: len(flake)]).max() == 0
        p = both.positions[idx] + dx[idx]
        moves.append(np.abs(dx[idx]).max())
        stretch.append(np.abs(np.linalg.norm(p[1:] - p[0], axis=1) - oh).max())
    assert np.median(moves) > 0.3  # the librations are large ...
    assert max(stretch) < 0.15  # ... and the bonds only vibrate
