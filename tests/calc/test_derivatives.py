import copy

import numpy as np
import pytest
import torch
from ase.build import molecule

import muse_explore as mx
from muse_explore.calc.derivatives import compute_properties, hessian

from ..conftest import small_model


def test_partial_hessian_is_a_block_of_the_full_one(benzene):
    model = small_model().double()
    batch = model.graph_converter(dtype=torch.float64).batch(benzene)
    full = hessian(model, batch, chunk_size=7)
    idx = [1, 4, 9]
    part = hessian(model, batch, indices=idx, chunk_size=100)
    dof = np.array([[3 * i, 3 * i + 1, 3 * i + 2] for i in idx]).ravel()
    torch.testing.assert_close(part, full[np.ix_(dof, dof)])


def test_chunking_does_not_change_the_hessian(benzene):
    model = small_model().double()
    batch = model.graph_converter(dtype=torch.float64).batch(benzene)
    torch.testing.assert_close(
        hessian(model, batch, chunk_size=5), hessian(model, batch, chunk_size=36)
    )


def test_hessian_translational_invariance(benzene):
    """Rows of the Hessian sum to zero over atoms (energy invariant under translation)."""
    calc = mx.MuSECalculator(small_model())
    h = mx.hessian(calc, benzene).reshape(len(benzene), 3, len(benzene), 3)
    assert np.abs(h.sum(axis=2)).max() < 1e-8


def test_stress_is_nan_for_molecules_in_mixed_batches(benzene, periodic_sheet):
    model = small_model().double()
    batch = model.graph_converter(dtype=torch.float64).batch([benzene, periodic_sheet])
    res = compute_properties(model, batch, stress=True)
    assert torch.isnan(res["stress"][0]).all() and torch.isfinite(res["stress"][1]).all()


def test_hessian_indices_are_checked():
    from muse_explore.errors import MuSEInputError

    calc = mx.MuSECalculator(small_model("painn", 0))
    water = molecule("H2O")
    for indices, fragment in [
        ([5], "atom 5 does not exist; the structure has 3 atoms"),
        ([-1], "atom -1 does not exist"),
        ([0, 0], "more than once"),
        ([0.5], "list of atom numbers"),
        ([], "no atoms chosen"),
    ]:
        with pytest.raises(MuSEInputError, match=fragment):
            mx.hessian(calc, water, indices=indices)


@pytest.mark.parametrize("backbone", ["painn", "mace"])
def test_scale_forces_sum_to_the_forces_and_each_is_translation_free(benzene, water_on_coronene,
                                                                     backbone):  # fmt: skip
    """Each scale's force share is an energy gradient: shares add up to the forces, each
    share sums to zero over a structure's atoms, and the coarse levels pull on the atoms."""
    from muse_explore.calc.derivatives import scale_forces

    model = small_model(backbone).double()
    frames = [molecule("C6H6"), benzene, water_on_coronene]  # exact, rattled, a complex
    batch = model.graph_converter(dtype=torch.float64).batch(frames)
    shares = scale_forces(model, batch)
    assert shares.shape == (len(batch.pos), 3, 3)
    total = compute_properties(model, batch)["forces"].detach()
    torch.testing.assert_close(shares.sum(dim=1), total, atol=1e-10, rtol=1e-8)
    for b in range(len(frames)):
        per_scale = shares[batch.batch == b].sum(dim=0)  # (L+1, 3)
        assert per_scale.abs().max() < 1e-9, per_scale
    # symmetric benzene (ASE's, symmetric to ~1e-6 Å): every share is in-plane and equal on
    # the six carbons; a seeding that broke the ring's symmetry would differ by ~1e-2 eV/Å
    sym = shares[batch.batch == 0]
    assert sym[:, :, 2].abs().max() < 1e-10
    carbon = sym[:6].norm(dim=-1)
    torch.testing.assert_close(carbon, carbon[:1].expand_as(carbon), atol=1e-6, rtol=0)
    # the coarse levels carry forces of their own on the complex
    assert shares[batch.batch == 2][:, 1:].abs().max() > 1e-6


@pytest.mark.parametrize(("neutral", "levels"), [("none", 0), ("fragment", 0), ("fragment", 2)])
def test_long_range_forces_are_the_latent_ewald_terms_share(
    benzene, water_on_coronene, neutral, levels
):
    """The LES term's share is an energy gradient: the forces less it are exactly those of
    the same model without the term, it sums to zero over each structure's atoms, and on
    the exactly symmetric benzene it is in-plane and the same on the six carbons."""
    from muse_explore.calc.derivatives import long_range_forces

    from ..models.test_latent_ewald import les_model

    model = les_model(levels=levels, neutral=neutral)
    frames = [_exact_benzene(), benzene, water_on_coronene]  # exact, rattled, a complex
    batch = model.graph_converter(dtype=torch.float64).batch(frames)
    share = long_range_forces(model, batch)
    assert not model.long_range._forward_hooks  # the hook is gone
    assert share.shape == batch.pos.shape
    total = compute_properties(model, batch)["forces"].detach()
    local = copy.deepcopy(model)
    local.long_range = None
    rest = compute_properties(local, batch)["forces"].detach()
    torch.testing.assert_close(total - share, rest, atol=1e-10, rtol=1e-8)
    for b in range(len(frames)):
        assert share[batch.batch == b].sum(dim=0).abs().max() < 1e-10
    sym = share[batch.batch == 0]
    assert sym[:, 2].abs().max() < 1e-10
    carbon = sym[:6].norm(dim=-1)
    torch.testing.assert_close(carbon, carbon[:1].expand_as(carbon), atol=1e-12, rtol=1e-10)
    assert carbon.min() > 1e-4  # the term pulls on the ring
    assert share[batch.batch == 2].abs().max() > 1e-6  # and on the complex


def _exact_benzene():
    """Benzene with D6h symmetry to machine precision (ASE's is symmetric to ~1e-6 Å)."""
    from ase import Atoms

    angles = np.arange(6) * np.pi / 3
    ring = np.stack([np.cos(angles), np.sin(angles), np.zeros(6)], axis=1)
    return Atoms("C6H6", positions=np.concatenate([1.39 * ring, 2.47 * ring]))


def test_long_range_forces_need_a_long_range_term(benzene):
    from muse_explore.calc.derivatives import long_range_forces
    from muse_explore.errors import MuSEInputError

    model = small_model().double()
    batch = model.graph_converter(dtype=torch.float64).batch(benzene)
    with pytest.raises(MuSEInputError, match="no long-range term"):
        long_range_forces(model, batch)
