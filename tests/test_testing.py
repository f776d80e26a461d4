"""The reusable model suite (muse_explore.testing) on every backbone, alone and inside MuSE."""

import numpy as np
import pytest
from ase.build import molecule

import muse_explore as mx
from muse_explore import testing as T
from muse_explore.backbones import BACKBONES
from muse_explore.reference import graphene_flake, graphene_sheet, place_molecule

from .conftest import small_model

CASES = [(name, levels, {}) for name in sorted(BACKBONES) for levels in (0, 2)]
# the shared down pass (MuSEConfig.unpool = "share") must keep every property too
CASES.append(("painn", 2, {"unpool": "share"}))
# and so must mass-weighted coarse levels (MuSEConfig.mass_weighted)
CASES.append(("painn", 2, {"unpool": "share", "mass_weighted": True}))
IDS = [f"{name}-L{levels}" + "".join(f"-{v}" for v in kw.values()) for name, levels, kw in CASES]


@pytest.fixture(params=CASES, ids=IDS)
def calc(request):
    name, levels, kw = request.param
    return mx.MuSECalculator(small_model(name, levels, **kw), dtype="float64")


def test_invariance_molecule_on_flake(calc, water_on_coronene):
    T.assert_invariance(calc, water_on_coronene)


def test_invariance_periodic(calc, periodic_sheet):
    T.assert_invariance(calc, periodic_sheet)


def test_forces_equal_finite_differences(calc, water_on_coronene):
    # the molecule's atoms and a few flake atoms: the ones that feel every level
    T.assert_forces_match_finite_differences(
        calc, water_on_coronene, indices=[0, 7, 20, 36, 37, 38]
    )


def test_forces_periodic_equal_finite_differences(calc, periodic_sheet):
    T.assert_forces_match_finite_differences(calc, periodic_sheet, indices=[0, 13, 32, 33, 34])


def test_stress_equals_numerical_stress(calc, periodic_sheet):
    T.assert_stress_matches_finite_differences(calc, periodic_sheet)


def test_hessian_symmetric_and_equals_finite_differences(calc, benzene):
    T.assert_hessian_matches_finite_differences(calc, benzene)


def test_smooth_through_every_cutoff(calc):
    flake, mol = graphene_flake(1), molecule("H2O")
    a = T.rattle(place_molecule(mol, flake, 2.6, offset=(0.4, 0.3), tilt=20), 0.03, seed=1)
    b = T.rattle(place_molecule(mol, flake, 26.0, offset=(0.4, 0.3), tilt=20), 0.03, seed=2)
    T.assert_smooth_path(calc, T.interpolate(a, b, 801))


def test_extensive_far_apart(calc, benzene):
    T.assert_extensive(calc, benzene, T.rattle(graphene_flake(1), 0.03, seed=4), separation=60.0)


def test_supercell_extensive(calc):
    T.assert_supercell_extensive(calc, T.rattle(graphene_sheet(4, 4), 0.03, seed=5))


def test_batch_of_mixed_systems(calc, benzene, water_on_coronene, periodic_sheet):
    T.assert_batch_consistent(
        calc.model, [benzene, periodic_sheet, water_on_coronene, molecule("H2O")]
    )


def test_bad_input_errors(calc):
    T.assert_bad_input_errors(calc)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_reach(name):
    """The backbone alone feels nothing beyond its cutoff; MuSE does, up to its reach."""
    flake, mol = graphene_flake(2), molecule("C6H6")
    T.assert_reach(mx.MuSECalculator(small_model(name, 2)), flake, mol)


def test_hard_assignment_is_caught_by_the_smoothness_check():
    """The smoothness check has teeth: the hard (argmax) ablation jumps along the same path."""
    flake, mol = graphene_flake(1), molecule("H2O")
    a = T.rattle(place_molecule(mol, flake, 2.6, offset=(0.4, 0.3), tilt=20), 0.03, seed=1)
    b = T.rattle(place_molecule(mol, flake, 26.0, offset=(0.4, 0.3), tilt=20), 0.03, seed=2)
    calc = mx.MuSECalculator(small_model("painn", 2, hard=True))
    with pytest.raises(AssertionError, match="jump"):
        T.assert_smooth_path(calc, T.interpolate(a, b, 801))


def test_random_rotation_is_proper():
    r = T.random_rotation(3)
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


# --- one geometry, one energy (docs/method.md, Section 2): exactly symmetric inputs ---


def _symmetric_molecules():
    return {
        "benzene": molecule("C6H6"),
        "circumcoronene": graphene_flake(2),
        "benzene over C54H18": place_molecule("C6H6", graphene_flake(2), 3.4),
    }


def _small_cells():
    from ase import Atoms
    from ase.build import bulk

    water = Atoms(cell=[4.6, 4.6, 4.6], pbc=True)
    rng = np.random.default_rng(1)
    for centre in ([0.5, 0.5, 0.5], [2.8, 1.0, 2.5], [1.5, 3.2, 3.6]):
        w = molecule("H2O")
        w.rotate(rng.uniform(0, 360), "z")
        w.positions += centre
        water += w
    return {
        "diamond (2 atoms)": bulk("C", "diamond", 3.57),
        "graphene (4 atoms, vacuum)": graphene_sheet(2, 1, vacuum=8.0),
        "water box (3 molecules)": water,
    }


@pytest.mark.parametrize("name", ["benzene", "circumcoronene", "benzene over C54H18"])
def test_permutation_invariant_exactly_symmetric(calc, name):
    T.assert_permutation_invariant(calc, _symmetric_molecules()[name], atol=1e-9)


def test_permutation_invariant_periodic_sheet_and_diamond(calc):
    from ase.build import bulk

    T.assert_permutation_invariant(calc, graphene_sheet(3, 3, vacuum=8.0), atol=1e-9)
    T.assert_permutation_invariant(calc, bulk("C", "diamond", 3.57, cubic=True), atol=1e-9)


@pytest.mark.parametrize("name", ["diamond (2 atoms)", "graphene (4 atoms, vacuum)",
                                  "water box (3 molecules)"])  # fmt: skip
def test_supercell_consistent_small_cells(calc, name):
    cell = _small_cells()[name]
    T.assert_supercell_consistent(calc, cell)
    T.assert_supercell_consistent(calc, T.rattle(cell, 0.02, seed=3), repeats=[(2, 1, 1)])


@pytest.mark.parametrize("name", ["benzene", "benzene over C54H18"])
def test_single_valued_at_rattles_of_symmetric_structures(calc, name):
    T.assert_single_valued(calc.model, _symmetric_molecules()[name], rattles=3)


def test_smooth_between_rattles_through_the_symmetric_geometry(calc):
    """A straight line from one 0.02 Å rattle of benzene on C54H18 through the exact geometry."""
    exact = _symmetric_molecules()["benzene over C54H18"]
    a = T.rattle(exact, 0.02, seed=11)
    b = exact.copy()
    b.positions = 2 * exact.positions - a.positions  # the mirror rattle: the line hits `exact`
    T.assert_smooth_path(calc, T.interpolate(a, b, 61), energy_atol=1e-9)


@pytest.mark.parametrize("name", ["water", "benzene"])
def test_hessian_matches_fd_at_the_reference_step(calc, name):
    T.assert_hessian_matches_fd(calc, molecule({"water": "H2O", "benzene": "C6H6"}[name]))


def test_hessian_matches_fd_adsorbate_on_flake(calc):
    complex_ = _symmetric_molecules()["benzene over C54H18"]
    T.assert_hessian_matches_fd(calc, complex_, indices=range(72, 78))


def test_legacy_core_is_caught_by_the_new_checks():
    """The checks have teeth: the format-1 core (geometric seeds, ε-norm) fails each of them."""
    legacy = small_model("painn", 2, seeding="legacy", backbone_kwargs={"vector_norm": "legacy"})
    calc = mx.MuSECalculator(legacy)
    exact = _symmetric_molecules()["benzene over C54H18"]
    with pytest.raises(AssertionError, match="renumbered"):
        T.assert_permutation_invariant(calc, exact)
    with pytest.raises(AssertionError, match="single-valued"):
        T.assert_single_valued(legacy, exact, rattles=3)
    with pytest.raises(AssertionError, match="E\\(2x1x1\\)"):
        T.assert_supercell_consistent(calc, _small_cells()["diamond (2 atoms)"])
    with pytest.raises(AssertionError, match="finite differences"):
        T.assert_hessian_matches_fd(calc, molecule("H2O"))


def test_path_energy_and_work_sees_a_jump_and_nothing_else():
    """On E = Σ r⁴, whose forces are its gradient, the work matches every energy change
    (F·dr is cubic along the line: Simpson's rule is exact, the trapezoid rule is not); a
    step added to the energy from one frame on shows up once, as its own size."""
    from muse_explore.testing import path_energy_and_work

    start, end = np.random.default_rng(0).normal(size=(2, 5, 3))
    t = np.linspace(0.0, 1.0, 21)[:, None, None]
    pos = (1 - t) * start + t * end
    energy = (pos**4).sum(axis=(1, 2))
    change, work = path_energy_and_work(energy, -4 * pos**3, pos)
    np.testing.assert_allclose(change, work, atol=1e-12)
    power = (-4 * pos**3 * (pos[1] - pos[0])).sum(axis=(1, 2))
    trapezoid = -(power[:-2:2] + 2 * power[1:-1:2] + power[2::2]) / 2
    assert np.abs(change - trapezoid).max() > 1e-4  # so the rule matters here
    stepped = energy + 0.25 * (np.arange(21) >= 7)  # frames 6 → 8 is pair 3
    change, work = path_energy_and_work(stepped, -4 * pos**3, pos)
    np.testing.assert_allclose(change - work, 0.25 * (np.arange(10) == 3), atol=1e-12)
    for bad in (pos[:4], pos[:1]):
        with pytest.raises(ValueError, match="odd number"):
            path_energy_and_work(energy[: len(bad)], -4 * bad**3, bad)
    with pytest.raises(ValueError, match="do not describe the same"):
        path_energy_and_work(energy[:5], -4 * pos**3, pos)
