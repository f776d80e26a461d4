import numpy as np
import pytest
import torch
from ase import Atoms

import muse_explore as mx
from muse_explore.errors import MuSEInputError

from ..conftest import small_model


@pytest.mark.parametrize("mass_weighted", [False, True])
def test_scale_and_atom_energies_sum_to_the_energy(water_on_coronene, mass_weighted):
    calc = mx.MuSECalculator(small_model(mass_weighted=mass_weighted))
    water_on_coronene.calc = calc
    e = water_on_coronene.get_potential_energy()
    r = calc.results
    assert r["scale_energies"].shape == (3,)
    assert r["scale_energies"].sum() == pytest.approx(e, abs=1e-10)
    assert r["energies"].sum() == pytest.approx(e, abs=1e-10)
    assert [a.shape for a in r["assignments"]][0][0] == len(water_on_coronene)
    assert r["assignments"][1].shape[0] == r["assignments"][0].shape[1]
    assert len(r["coarse_positions"]) == 2


def test_levels_zero_is_the_plain_backbone(water_on_coronene):
    model = small_model(levels=0)
    assert len(model.backbones) == 1 and len(model.assignments) == 0
    calc = mx.MuSECalculator(model)
    water_on_coronene.calc = calc
    water_on_coronene.get_potential_energy()
    assert calc.results["scale_energies"].shape == (1,)
    assert calc.results["assignments"] == []


def test_backbone_only_shares_the_atom_level(water_on_coronene):
    model = small_model().double()
    base = model.backbone_only()
    assert base.levels == 0
    for k, v in base.state_dict().items():
        torch.testing.assert_close(v, model.state_dict()[k])


def test_default_model_has_reach_beyond_16_angstrom():
    model = mx.build_model(elements=["H", "C"], levels=2)
    assert model.config.cutoffs[-1] >= 16.0 and model.backbones[-1].cutoff >= 16.0


def test_deeper_hierarchy(benzene):
    model = small_model(levels=3)
    cutoffs = [b.cutoff for b in model.backbones]
    assert len(cutoffs) == 4 and cutoffs == sorted(set(cutoffs))  # each level reaches further
    calc = mx.MuSECalculator(model)
    benzene.calc = calc
    benzene.get_potential_energy()
    assert calc.results["scale_energies"].shape == (4,)


def test_energy_shifts_and_zbl(benzene):
    plain = small_model()
    shifted = small_model(energy_shifts={"H": -13.6, "C": -1000.0})
    diff = []
    for model in (plain, shifted):
        a = benzene.copy()
        a.calc = mx.MuSECalculator(model)
        diff.append(a.get_potential_energy())
    assert diff[1] - diff[0] == pytest.approx(6 * -13.6 + 6 * -1000.0, abs=1e-8)
    zbl = small_model(zbl=True)
    squeezed = Atoms("CC", positions=[[0, 0, 0], [0.6, 0, 0]])
    e = []
    for model in (plain, zbl):
        s = squeezed.copy()
        s.calc = mx.MuSECalculator(model)
        e.append(s.get_potential_energy())
    assert e[1] - e[0] > 10.0  # strong repulsion at 0.6 Å


def test_output_modules_add_exactly_their_atom_energies(benzene):
    from muse_explore.models.outputs import AtomLevel

    model = small_model(zbl=True, long_range="les").double()
    assert [type(m).__name__ for m in model.outputs] == ["ElementShift", "ZBL", "LatentEwald"]
    assert [type(m).__name__ for m in small_model().outputs] == ["ElementShift"]
    batch = model.graph_converter(torch.float64).batch(benzene, targets=False)
    full = model(batch).scale_energies[0, 0]
    terms = {}
    originals = [m.atom_energies for m in model.outputs]
    for m in model.outputs:  # record what each module adds, then drop the modules one by one

        def spy(atoms: AtomLevel, m=m, f=m.atom_energies):
            terms[type(m).__name__] = f(atoms).sum()
            return f(atoms)

        m.atom_energies = spy
    model(batch)
    for m, f in zip(model.outputs, originals, strict=True):
        m.atom_energies = lambda atoms, f=f: 0 * f(atoms)
    bare = model(batch).scale_energies[0, 0]
    torch.testing.assert_close(full - bare, sum(terms.values()))
    assert float(terms["ZBL"]) > 0 and set(terms) == {"ElementShift", "ZBL", "LatentEwald"}


def test_unknown_element_in_model_forward():
    model = small_model(elements=["H", "C"])
    conv = mx.MuSE.graph_converter(model)
    conv.elements = None  # bypass the converter's check to reach the model's own
    batch = conv.batch(Atoms("NH", positions=[[0, 0, 0], [1.0, 0, 0]]))
    with pytest.raises(MuSEInputError, match="unknown element N"):
        model(batch)


def test_batch_without_seeds_is_a_clear_error(benzene):
    from muse_explore.data import atoms_to_batch

    with pytest.raises(MuSEInputError, match="graph_converter"):
        small_model()(atoms_to_batch(benzene, cutoff=5.0))


def test_seed_makes_weights_reproducible():
    a, b = small_model(), small_model()
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values(), strict=False):
        assert torch.equal(v, w), k
    state = torch.get_rng_state()
    small_model()
    assert torch.equal(state, torch.get_rng_state())  # the global RNG is untouched


def test_float32_and_float64_agree(water_on_coronene):
    e = []
    for dtype in ("float32", "float64"):
        a = water_on_coronene.copy()
        a.calc = mx.MuSECalculator(small_model(), dtype=dtype)
        e.append(a.get_potential_energy())
    assert e[0] == pytest.approx(e[1], abs=1e-3)
    assert np.isfinite(e).all()


def test_set_energy_shifts_survives_save(tmp_path, benzene):
    model = small_model()
    model.set_energy_shifts({"C": -2.0})
    path = tmp_path / "m.pt"
    model.save(path)
    e = []
    for m in (model, mx.load_model(path)):
        a = benzene.copy()
        a.calc = mx.MuSECalculator(m)
        e.append(a.get_potential_energy())
    assert e[0] == e[1]
    with pytest.raises(ValueError, match="not in the model"):
        model.set_energy_shifts({"Fe": 1.0})


@pytest.mark.parametrize("backbone, runaway", [("painn", 1e6), ("so3krates", 30.0)])
def test_coarse_levels_start_from_bounded_features(water_on_coronene, backbone, runaway):
    # A MuSE-PaiNN training run met a structure (a molecule 1.9 Å from a flake) on which its
    # atom features grew to 1e2-1e5; each coarse level squared them again and the energy
    # reached 1e69 eV, then NaN. With pool_norm the coarse levels pool softly normalised
    # features: their energies stay of the size set by their weights, however large the
    # atom features (here made so by scaling the atom embedding by 100).
    coarse = {}
    for norm in (True, False):
        for scale in (1.0, 100.0):
            model = small_model(backbone, pool_norm=norm).double()
            with torch.no_grad():
                model.backbones[0].embedding.weight.mul_(scale)
            calc = mx.MuSECalculator(model)
            atoms = water_on_coronene.copy()
            atoms.calc = calc
            atoms.get_potential_energy()
            coarse[norm, scale] = calc.results["scale_energies"][1:]
    assert np.isfinite(coarse[True, 100.0]).all()
    assert np.abs(coarse[True, 100.0] - coarse[True, 1.0]).max() < 5.0
    assert np.abs(coarse[False, 100.0] - coarse[False, 1.0]).max() > runaway


def test_nodes_stand_for_all_the_atoms_on_every_level(water_on_coronene, periodic_sheet):
    """``node_atoms``: each level's nodes add up to the structure's atom count, in a batch of
    a flake complex and a periodic sheet (whose nodes straddle the cell boundary)."""
    from torch_geometric.utils import scatter

    structures = [water_on_coronene, periodic_sheet]
    for weighted in (False, True):
        model = small_model(mass_weighted=weighted).double()
        out = model(model.graph_converter(torch.float64).batch(structures, targets=False))
        assert len(out.node_atoms) == 3
        assert torch.equal(out.node_atoms[0], torch.ones_like(out.node_atoms[0]))
        for atoms, batch in zip(out.node_atoms, out.batches, strict=True):
            per_structure = scatter(atoms, batch, 0, dim_size=2, reduce="sum")
            torch.testing.assert_close(
                per_structure, torch.tensor([len(s) for s in structures], dtype=torch.float64)
            )
        # coarse nodes of the sheet hold several atoms each: the weighting has something to
        # act on (a lone water molecule's node holds its own few atoms)
        assert out.node_atoms[2].max() > 2.5


def test_mass_weighting_scales_coarse_node_energies_by_their_atoms(benzene, monkeypatch):
    """With the messages left alone (one coarse block that sends nothing: the readout of the
    embedded nodes), a weighted node's energy is its atom count times the plain one's."""
    plain = small_model(num_interactions=(2, 1, 1)).double()
    weighted = small_model(num_interactions=(2, 1, 1), mass_weighted=True).double()
    weighted.load_state_dict(plain.state_dict())
    for model in (plain, weighted):
        for b in model.backbones[1:]:
            monkeypatch.setattr(b, "interact", lambda state, graph: state)
    batch = plain.graph_converter(torch.float64).batch(benzene, targets=False)
    a, b = plain(batch), weighted(batch)
    torch.testing.assert_close(a.node_energies[0], b.node_energies[0])
    for level in (1, 2):
        torch.testing.assert_close(
            b.node_energies[level], a.node_energies[level] * a.node_atoms[level]
        )
