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
