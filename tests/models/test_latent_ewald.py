import numpy as np
import pytest
import torch
from scipy.special import erf

import muse_explore as mx
from muse_explore.errors import MuSEConfigError, MuSEInputError
from muse_explore.reference import benzene_on_graphene, graphene_sheet
from muse_explore.testing import (
    assert_batch_consistent,
    assert_forces_match_finite_differences,
    assert_invariance,
    interaction_energy,
)


def les_model(levels=0):
    m = mx.build_model(levels=levels, long_range="les", seed=0).double()
    with torch.no_grad():  # the head starts with tiny charges; give it larger ones
        g = torch.Generator().manual_seed(1)
        m.long_range.charge[-1].weight.copy_(0.05 * torch.randn(1, m.config.hidden, generator=g))
        m.long_range.charge[-1].bias.fill_(0.02)
    return m


def test_energy_is_the_smeared_coulomb_sum_of_the_latent_charges():
    m = les_model()
    atoms = benzene_on_graphene(4.0, rings=0)
    batch = m.graph_converter(dtype=torch.float64).batch(atoms, targets=False)
    captured = {}
    hook = m.long_range.register_forward_hook(lambda mod, inp, out: captured.update(e=out))
    m(batch)
    hook.remove()
    q = m.long_range.charges(captured_scalar(m, batch)).detach().numpy()
    x = atoms.positions
    r = np.linalg.norm(x[:, None] - x[None], axis=-1)
    np.fill_diagonal(r, np.inf)
    k = erf(r / (np.sqrt(2.0) * 1.0)) / r
    expected = 0.5 * 14.399645 * q * (k * q[None]).sum(1)
    np.testing.assert_allclose(captured["e"].detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def captured_scalar(m, batch):
    """The atom-level scalar features the head sees (levels = 0: the backbone's output)."""
    from muse_explore.backbones.contract import GeometricGraph
    from muse_explore.data.neighbors import edge_vectors

    v = edge_vectors(batch.pos, batch.edge_index, batch.shifts, batch.cell, batch.batch)
    g = GeometricGraph(batch.pos, batch.edge_index, v, v.norm(dim=-1), batch.batch, 1, m.cutoff)
    b = m.backbones[0]
    return b.interact(b.embed_atoms(m.species(batch.z)), g).scalar


def test_les_starts_close_to_the_backbone_but_can_learn():
    plain = mx.build_model(levels=0, seed=0).double()
    les = mx.build_model(levels=0, long_range="les", seed=0).double()
    les.load_state_dict(plain.state_dict(), strict=False)
    atoms = benzene_on_graphene(3.5, rings=1)
    batch = les.graph_converter(dtype=torch.float64).batch(atoms, targets=False)
    q = les.long_range.charges(captured_scalar(les, batch))
    assert 0 < q.abs().max() < 1e-2  # small, but not the stationary point q = 0
    energy = les(batch).energy.sum()
    energy.backward()
    assert les.long_range.charge[-1].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("levels", [0, 1])
def test_les_passes_the_suite(levels):
    m = les_model(levels)
    calc = mx.MuSECalculator(m, dtype="float64")
    atoms = benzene_on_graphene(5.0, rings=1)
    atoms.rattle(0.02, seed=3)
    assert_invariance(calc, atoms)
    assert_forces_match_finite_differences(calc, atoms, d=1e-5, indices=[0, 20, 40], atol=1e-5)
    assert_batch_consistent(m, [atoms, benzene_on_graphene(8.0, rings=0)])


def test_les_reaches_beyond_the_cutoff_and_decays():
    m = les_model()
    calc = mx.MuSECalculator(m, dtype="float64")
    e = [interaction_energy(calc, benzene_on_graphene(d, rings=1), 36) for d in (8.0, 16.0, 64.0)]
    assert abs(e[0]) > abs(e[1]) > abs(e[2]) > 0.0  # the backbone alone gives exactly 0
    plain = mx.MuSECalculator(mx.build_model(levels=0, seed=0).double(), dtype="float64")
    assert abs(interaction_energy(plain, benzene_on_graphene(8.0, rings=1), 36)) < 1e-10


def test_les_refuses_periodic_cells_and_bad_configs():
    calc = mx.MuSECalculator(les_model(), dtype="float64")
    with pytest.raises(MuSEInputError, match="periodic"):
        calc.get_potential_energy(graphene_sheet(4, 4))
    with pytest.raises(MuSEConfigError, match="long_range"):
        mx.build_model(levels=0, long_range="ewald")
    with pytest.raises(MuSEConfigError, match="long_range_sigma"):
        mx.build_model(levels=0, long_range="les", long_range_sigma=0.0)


def test_les_model_saves_and_loads(tmp_path):
    m = les_model()
    m.save(tmp_path / "les.pt")
    back = mx.load_model(tmp_path / "les.pt").double()
    atoms = benzene_on_graphene(6.0, rings=0)
    e = [mx.MuSECalculator(x, dtype="float64").get_potential_energy(atoms) for x in (m, back)]
    assert back.config.long_range == "les" and e[0] == pytest.approx(e[1], abs=1e-6)  # float32 file
