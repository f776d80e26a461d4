import numpy as np
import pytest
import torch
from ase.build import molecule
from ase.calculators.singlepoint import SinglePointCalculator

from muse_explore.data import AtomsToGraph, atoms_to_batch
from muse_explore.errors import MuSEInputError
from muse_explore.pooling import Seeder
from muse_explore.testing import bad_inputs


def test_batch_fields_and_targets(periodic_sheet):
    mol = molecule("H2O")
    mol.calc = SinglePointCalculator(mol, energy=-1.5, forces=np.ones((3, 3)))
    sheet = periodic_sheet.copy()
    sheet.calc = SinglePointCalculator(
        sheet, energy=2.0, forces=np.zeros((len(sheet), 3)), stress=np.arange(6.0)
    )
    batch = atoms_to_batch([mol, sheet], cutoff=5.0, seeder=Seeder((2, 4)), dtype=torch.float64)
    assert batch.num_graphs == 2
    for key in (
        "z",
        "pos",
        "cell",
        "pbc",
        "batch",
        "edge_index",
        "shifts",
        "fragment",
        "seed_mask",
    ):
        assert key in batch, key
    assert batch.cell.shape == (2, 3, 3) and batch.pbc.shape == (2, 3)
    assert batch.pos.dtype == torch.float64
    assert torch.equal(batch.energy, torch.tensor([-1.5, 2.0], dtype=torch.float64))
    assert batch.forces.shape == (3 + len(sheet), 3)
    only_sheet = atoms_to_batch([sheet, sheet], cutoff=5.0)
    assert only_sheet.stress.shape == (2, 3, 3)
    assert only_sheet.stress[1, 0, 1] == 5.0  # Voigt xy -> full
    # edges of the second graph point into the second graph
    second = batch.batch[batch.edge_index[1]] == 1
    assert (batch.edge_index[:, second] >= 3).all()


def test_topology_is_cached_per_bond_graph_and_can_be_frozen(water_on_coronene):
    conv = AtomsToGraph(5.0, seeder=Seeder((2, 4)))
    t1 = conv.topology(water_on_coronene)
    moved = water_on_coronene.copy()
    moved.positions += 0.01
    assert conv.topology(moved) is t1
    conv.clear_cache()
    assert conv.topology(moved) is not t1
    np.testing.assert_array_equal(conv.topology(moved).seed_mask, t1.seed_mask)
    frozen = conv.freeze(water_on_coronene)
    stretched = water_on_coronene.copy()
    stretched.positions[-1] += [0.0, 0.0, 1.0]  # an O-H bond far beyond bonding
    assert conv.topology(stretched) is frozen
    with pytest.raises(MuSEInputError, match="frozen"):
        conv.topology(molecule("CH4"))
    conv.unfreeze()
    assert conv.topology(stretched) is not frozen


@pytest.mark.parametrize("name", list(bad_inputs()))
@pytest.mark.parametrize("skin", [0.0, 0.5])
def test_converter_names_each_bad_input(name, skin):
    atoms, fragment = bad_inputs()[name]
    with pytest.raises(MuSEInputError, match=fragment):
        AtomsToGraph(5.0, elements=["H", "C", "N", "O"], skin=skin)(atoms)


@pytest.mark.parametrize("cutoff", [0.2, 5.0])
def test_converter_finds_overlaps_across_the_cell_and_below_its_cutoff(cutoff):
    """The overlap check uses the graph's pair list where it reaches far enough, not beyond."""
    from ase import Atoms

    across = Atoms("H2", positions=[[0.05, 5, 5], [9.9, 5, 5]], cell=[10, 10, 10], pbc=True)
    with pytest.raises(MuSEInputError, match=r"atoms 0 \(H\) and 1 \(H\) are 0.15 Å apart"):
        AtomsToGraph(cutoff)(across)
    apart = across.copy()
    apart.positions[1, 0] = 9.6  # 0.45 Å through the boundary: beyond the minimum, kept
    assert AtomsToGraph(cutoff)(apart).edge_index.shape[1] == (2 if cutoff > 0.45 else 0)
    same = Atoms("H2O", positions=[[0, 0, 0], [0, 0, 0], [1, 0, 0]])  # exactly on top
    with pytest.raises(MuSEInputError, match=r"atoms 0 \(H\) and 1 \(H\) are 0 Å apart"):
        AtomsToGraph(cutoff)(same)


def test_no_structures():
    with pytest.raises(ValueError, match="no structures"):
        AtomsToGraph(5.0).batch([])


def test_seeds_of_a_structure_do_not_depend_on_its_geometry_or_history():
    """Symmetric seeding: every rattle of a structure gets the same seeds, in any order.

    Regression: the format-1 rule broke ties by bond-length sums, so rattles of one bonding
    pattern got different seeds (still shown below in legacy mode), and its path cache made
    the seeds of a structure depend on what was converted before it.
    """
    from muse_explore.reference import benzene_on_graphene

    rng = np.random.default_rng(0)
    frames = []
    for _ in range(6):
        a = benzene_on_graphene(3.5)
        a.positions += rng.normal(0.0, 0.02, a.positions.shape)
        frames.append(a)
    fresh = [AtomsToGraph(5.0, seeder=Seeder((2, 4))).topology(a).seed_mask for a in frames]
    for m in fresh[1:]:
        np.testing.assert_array_equal(fresh[0], m)
    conv = AtomsToGraph(5.0, seeder=Seeder((2, 4)))
    for a in frames[::-1]:
        np.testing.assert_array_equal(conv.topology(a).seed_mask, fresh[0])
    legacy = [
        AtomsToGraph(5.0, seeder=Seeder((2, 4), seeding="legacy")).topology(a) for a in frames
    ]
    assert any(not np.array_equal(legacy[0].seed_mask, t.seed_mask) for t in legacy[1:])


def test_positions_are_taken_relative_to_the_centroid_kept_in_float64(water_on_coronene):
    far = water_on_coronene.copy()
    far.positions += (1.0e4, -3.0e4, 2.5e4)
    conv = AtomsToGraph(5.0, dtype=torch.float32)
    near_g, far_g = conv(water_on_coronene), conv(far)
    assert far_g.origin.dtype == torch.float64 and far_g.origin.shape == (1, 3)
    np.testing.assert_allclose(far_g.origin[0].numpy(), far.positions.mean(0), rtol=0, atol=1e-9)
    # the float32 coordinates the model sees are those of the structure near the origin
    assert (far_g.pos - near_g.pos).abs().max() < 1e-6
    np.testing.assert_allclose(
        far_g.pos.double().numpy() + far_g.origin.numpy(), far.positions, rtol=0, atol=2e-3
    )
    batch = conv.batch([water_on_coronene, far])
    assert batch.origin.shape == (2, 3)
