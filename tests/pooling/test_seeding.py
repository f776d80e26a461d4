import numpy as np
from ase.build import molecule

from muse_explore.pooling.seeding import covalent_bonds, find_topology
from muse_explore.reference import graphene_flake, graphene_sheet, place_molecule
from muse_explore.testing import rattle


def _topo(atoms, hops=(2, 4)):
    return find_topology(atoms.numbers, atoms.positions, np.asarray(atoms.cell), atoms.pbc, hops)


def test_fragments_of_molecule_on_flake():
    complex_ = place_molecule("C6H6", graphene_flake(2), 3.0)
    topo = _topo(complex_)
    assert len(set(topo.fragment[:72])) == 1 and len(set(topo.fragment[72:])) == 1
    assert topo.fragment[0] != topo.fragment[-1]


def test_hydrogen_never_seeds_unless_alone():
    topo = _topo(rattle(molecule("CH3CH2OH")))
    assert not topo.seed_mask[np.array(molecule("CH3CH2OH").numbers) == 1].any()
    h2 = _topo(molecule("H2"))
    assert h2.seed_mask[:, 0].sum() == 1


def test_every_fragment_has_a_seed_on_every_level_and_levels_nest():
    complex_ = place_molecule("H2O", graphene_flake(2), 3.0)
    topo = _topo(complex_)
    for level in range(2):
        for frag in np.unique(topo.fragment):
            assert topo.seed_mask[topo.fragment == frag, level].any()
    assert not (topo.seed_mask[:, 1] & ~topo.seed_mask[:, 0]).any()


def test_seed_count_grows_linearly_with_size():
    counts = []
    for rings in (2, 4, 8):
        flake = rattle(graphene_flake(rings), 0.02)
        counts.append((len(flake), _topo(flake).seed_mask.sum(0)))
    per_atom = np.array([c / n for n, c in counts])
    assert (per_atom[:, 0] > 0.08).all() and (per_atom[:, 0] < 0.25).all()
    np.testing.assert_allclose(per_atom[1], per_atom[2], rtol=0.25)


def test_seeds_are_permutation_invariant():
    atoms = rattle(place_molecule("C6H6", graphene_flake(2), 3.0), 0.03)
    perm = np.random.default_rng(0).permutation(len(atoms))
    a, b = _topo(atoms), _topo(atoms[perm])
    np.testing.assert_array_equal(a.seed_mask[perm], b.seed_mask)


def test_periodic_bonds_cross_the_cell():
    sheet = graphene_sheet(3, 3)
    i, j, d = covalent_bonds(sheet.numbers, sheet.positions, np.asarray(sheet.cell), sheet.pbc)
    assert np.bincount(i).tolist() == [3] * len(sheet)  # every carbon has three bonds
    np.testing.assert_allclose(d, 1.42, atol=1e-6)
