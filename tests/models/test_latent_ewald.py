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
    assert_stress_matches_finite_differences,
    assert_supercell_extensive,
    interaction_energy,
)


def les_model(levels=0, neutral="none"):
    m = mx.build_model(levels=levels, long_range="les", long_range_neutral=neutral, seed=0).double()
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


def periodic_complex(vacuum_z: float = 14.0):
    """Water over a fully periodic 4 x 4 graphene sheet (the periodic data set's kind of cell)."""
    from muse_explore.reference import place_molecule

    sheet = graphene_sheet(4, 4, vacuum=vacuum_z / 2)
    sheet.pbc = True
    sheet.positions[:, 2] -= sheet.positions[:, 2].mean()
    atoms = place_molecule("H2O", sheet, 3.2)
    atoms.pbc, atoms.cell = True, sheet.cell
    atoms.rattle(0.02, seed=5)
    return atoms


def test_ewald_of_a_neutral_cluster_in_a_large_box_is_the_finite_sum():
    from muse_explore.models.latent_ewald import LatentEwald

    head = LatentEwald(hidden=4, sigma=1.0).double()
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 2.0, (7, 3))
    q = rng.normal(size=7) * 0.3
    q -= q.mean()  # neutral: no background term
    finite = head._finite(torch.tensor(q), torch.tensor(x), torch.zeros(7, dtype=torch.long))
    dipole = (q[:, None] * x).sum(0)
    for box in (25.0, 50.0):
        cell = torch.eye(3, dtype=torch.float64) * box
        per = head._ewald(torch.tensor(q), torch.tensor(x) + box / 2, cell)
        # Ewald with tin-foil boundaries = the vacuum sum minus 2 pi k_e |M|^2 / 3V
        tinfoil = -2 * np.pi * 14.399645 * dipole @ dipole / (3 * box**3)
        assert float(per.sum() - finite.sum()) == pytest.approx(tinfoil, rel=0.03)


def test_les_periodic_cells_forces_stress_and_supercells():
    m = les_model()
    calc = mx.MuSECalculator(m, dtype="float64")
    atoms = periodic_complex()
    assert_invariance(calc, atoms)
    assert_forces_match_finite_differences(calc, atoms, d=1e-5, indices=[0, 33, 34], atol=1e-5)
    assert_stress_matches_finite_differences(calc, atoms, atol=1e-5)
    # the periodic sum is exact: a 2 x 1 x 1 supercell has exactly twice the energy
    assert_supercell_extensive(calc, atoms, atol=1e-6)
    # the long-range term matters: periodic images change the energy against a finite copy
    finite = atoms.copy()
    finite.pbc = False
    e_finite = mx.MuSECalculator(les_model(), dtype="float64").get_potential_energy(finite)
    assert abs(calc.get_potential_energy(atoms) - e_finite) > 1e-6
    assert_batch_consistent(m, [atoms, benzene_on_graphene(6.0, rings=0)])


def test_les_refuses_slabs_and_bad_configs():
    calc = mx.MuSECalculator(les_model(), dtype="float64")
    with pytest.raises(MuSEInputError, match="all three directions or none"):
        calc.get_potential_energy(graphene_sheet(4, 4))  # pbc (True, True, False)
    with pytest.raises(MuSEConfigError, match="long_range"):
        mx.build_model(levels=0, long_range="ewald")
    with pytest.raises(MuSEConfigError, match="long_range_sigma"):
        mx.build_model(levels=0, long_range="les", long_range_sigma=0.0)
    with pytest.raises(MuSEConfigError, match="long_range_neutral"):
        mx.build_model(levels=0, long_range="les", long_range_neutral="molecule")
    m = les_model(neutral="fragment")
    bare = mx.data.atoms_to_batch(benzene_on_graphene(5.0, rings=0), 5.0, dtype=torch.float64)
    with pytest.raises(ValueError, match="graph_converter"):
        m(bare)


def _charges(m, atoms_list):
    batch = m.graph_converter(dtype=torch.float64).batch(atoms_list, targets=False)
    q = m.long_range.charges(
        captured_scalar(m, batch), batch.batch, getattr(batch, "fragment", None)
    )
    return batch, q.detach()


@pytest.mark.parametrize("neutral", ["structure", "fragment"])
def test_neutral_charges_sum_to_zero_per_structure_or_fragment(neutral):
    m = les_model(neutral=neutral)
    frames = [benzene_on_graphene(4.0, rings=1), benzene_on_graphene(9.0, rings=0)]
    batch, q = _charges(m, frames)
    for g in range(2):
        sel = batch.batch == g
        assert abs(float(q[sel].sum())) < 1e-12
        if neutral == "fragment":
            for f in batch.fragment[sel].unique():
                assert abs(float(q[sel & (batch.fragment == f)].sum())) < 1e-12
            assert len(batch.fragment[sel].unique()) == 2  # flake and benzene
    _, q_free = _charges(les_model(), frames)
    assert abs(float(q_free.sum())) > 1e-3  # published LES: no constraint


def test_fragment_neutral_charges_remove_the_monopole_tail():
    """Two neutral fragments: 1/r coupling with free charges, dipolar (1/r^3) when neutral."""
    ratios = {}
    for neutral in ("none", "fragment"):
        calc = mx.MuSECalculator(les_model(neutral=neutral), dtype="float64")
        e = [interaction_energy(calc, benzene_on_graphene(d, rings=1), 36) for d in (30.0, 60.0)]
        ratios[neutral] = e[1] / e[0]
    assert ratios["none"] == pytest.approx(0.5, abs=0.03)
    assert 0 < ratios["fragment"] < 0.15  # 1/8 for a pure dipole-dipole coupling


def test_fragment_neutral_les_passes_the_suite():
    from muse_explore.testing import assert_hessian_matches_fd, assert_permutation_invariant

    m = les_model(neutral="fragment")
    calc = mx.MuSECalculator(m, dtype="float64")
    atoms = benzene_on_graphene(3.6, rings=1)  # exactly symmetric
    assert_invariance(calc, atoms)
    assert_permutation_invariant(calc, atoms)
    atoms.rattle(0.02, seed=4)
    assert_forces_match_finite_differences(calc, atoms, d=1e-5, indices=[0, 20, 40], atol=1e-5)
    assert_batch_consistent(m, [atoms, benzene_on_graphene(8.0, rings=0)])
    pair = benzene_on_graphene(4.0, rings=0)  # two benzenes: two fragments
    pair.rattle(0.01, seed=1)
    assert_hessian_matches_fd(calc, pair)


def test_les_model_saves_and_loads(tmp_path):
    m = les_model()
    m.save(tmp_path / "les.pt")
    back = mx.load_model(tmp_path / "les.pt").double()
    atoms = benzene_on_graphene(6.0, rings=0)
    e = [mx.MuSECalculator(x, dtype="float64").get_potential_energy(atoms) for x in (m, back)]
    assert back.config.long_range == "les" and e[0] == pytest.approx(e[1], abs=1e-6)  # float32 file
