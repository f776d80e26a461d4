import numpy as np
import pytest

from muse_explore.calc import MuSECalculator
from muse_explore.explore import influence
from muse_explore.reference import benzene_on_graphene


def test_hessian_influence_is_the_norm_of_hessian_blocks(model):
    atoms = benzene_on_graphene(3.4, rings=0)  # benzene over benzene, 24 atoms
    calc = MuSECalculator(model, dtype="float64")
    h = calc.get_hessian(atoms).reshape(len(atoms), 3, len(atoms), 3)
    i = 20
    expected = np.linalg.norm(h[i].transpose(1, 0, 2).reshape(len(atoms), -1), axis=1)
    np.testing.assert_allclose(influence(model, atoms, i), expected, rtol=1e-8, atol=1e-12)


def test_backbone_reach_ends_at_its_cutoff_and_muse_goes_further(model):
    atoms = benzene_on_graphene(8.0, rings=1)
    flake = np.arange(len(atoms) - 12)
    base = influence(model.backbone_only(), atoms, len(atoms) - 1)
    muse = influence(model, atoms, len(atoms) - 1)
    assert np.all(base[flake] == 0.0)
    assert np.all(muse[flake] > 0.0)
    e = influence(model, atoms, len(atoms) - 1, kind="energy")
    assert e.shape == (len(atoms),) and np.all(e[flake] > 0.0)
    with pytest.raises(ValueError, match="kind"):
        influence(model, atoms, 0, kind="force")


def test_energy_influence_sums_to_the_forces(model):
    """Σ_i ∂E_i/∂r_j = ∂E/∂r_j = −F_j: the per-atom gradients add up to the forces."""
    import torch

    from muse_explore.calc.derivatives import atom_energy_gradient

    atoms = benzene_on_graphene(3.4, rings=0)
    batch = model.graph_converter(dtype=torch.float64).batch(atoms, targets=False)
    total = sum(atom_energy_gradient(model, batch, i) for i in range(len(atoms)))
    forces = MuSECalculator(model, dtype="float64").get_forces(atoms)
    np.testing.assert_allclose(total.numpy(), -forces, atol=1e-9)


def test_bonded_neighbours_of_a_benzene_carbon():
    from muse_explore.explore.influence import bonded_neighbours
    from muse_explore.reference.molecules import small_molecule

    benzene = small_molecule("benzene")
    c = next(i for i, s in enumerate(benzene.get_chemical_symbols()) if s == "C")
    bonded = bonded_neighbours(benzene, c)
    assert sorted(benzene[bonded].get_chemical_symbols()) == ["C", "C", "H"]
    assert c not in bonded


def test_influence_colours_share_one_log_scale():
    from muse_explore.explore.influence import influence_colors

    values = {
        "backbone": np.array([50.0, 30.0, 2.0, 0.0, 0.0]),  # atom 0 picked, 1 bonded
        "MuSE": np.array([50.0, 30.0, 2.0, 0.07, 1e-12]),
    }
    scale = influence_colors(values, 0, decades=5)
    assert scale["vmax"] == 30.0 and scale["floor"] == pytest.approx(30e-5)
    base, muse = scale["colors"]["backbone"], scale["colors"]["MuSE"]
    assert base[0] == muse[0] == "#ff0000"  # the picked atom
    assert base[3] == "#ffffff" and muse[3] != "#ffffff"  # 0.07 is visible, a zero is not
    assert muse[4] == "#ffffff"  # below the floor
    left = influence_colors(values, 0, leave_out=[1], decades=5)
    assert left["vmax"] == 2.0  # the bonded block no longer sets the top
    assert left["colors"]["MuSE"][1] == left["colors"]["MuSE"][2]  # both at the top colour
