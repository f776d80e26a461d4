import numpy as np
import pytest
from ase.build import molecule

from muse_explore.pooling.seeding import covalent_bonds, find_topology
from muse_explore.reference import graphene_flake, graphene_sheet, place_molecule
from muse_explore.testing import rattle


def _topo(atoms, hops=(2, 4), seeding="symmetric"):
    return find_topology(
        atoms.numbers, atoms.positions, np.asarray(atoms.cell), atoms.pbc, hops, seeding=seeding
    )


def test_fragments_of_molecule_on_flake():
    complex_ = place_molecule("C6H6", graphene_flake(2), 3.0)
    topo = _topo(complex_)
    assert len(set(topo.fragment[:72])) == 1 and len(set(topo.fragment[72:])) == 1
    assert topo.fragment[0] != topo.fragment[-1]


def test_hydrogen_never_seeds_unless_alone():
    topo = _topo(rattle(molecule("CH3CH2OH")))
    assert not topo.seed_mask[np.array(molecule("CH3CH2OH").numbers) == 1].any()
    h2 = _topo(molecule("H2"))  # no heavy atom: hydrogen seeds, both (they are equivalent)
    assert h2.seed_mask[:, 0].sum() == 2


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
        flake = graphene_flake(rings)  # exactly symmetric: seeds come in whole orbits
        counts.append((len(flake), _topo(flake).seed_mask.sum(0)))
    per_atom = np.array([c / n for n, c in counts])
    assert (per_atom[:, 0] > 0.08).all() and (per_atom[:, 0] < 0.25).all()
    np.testing.assert_allclose(per_atom[1], per_atom[2], rtol=0.25)


@pytest.mark.parametrize("stdev", [0.0, 0.03])
def test_seeds_are_permutation_equivariant(stdev):
    atoms = rattle(place_molecule("C6H6", graphene_flake(2), 3.0), stdev)
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(len(atoms))
        a, b = _topo(atoms), _topo(atoms[perm])
        np.testing.assert_array_equal(a.seed_mask[perm], b.seed_mask)


def test_seeds_keep_the_symmetry_of_the_bond_graph():
    """Atoms exchanged by a symmetry are seeds together: benzene's ring is all seeds."""
    benzene = _topo(molecule("C6H6"))
    assert benzene.seed_mask[:6].all() and not benzene.seed_mask[6:].any()
    flake = graphene_flake(2)
    topo = _topo(flake)
    # a 60° rotation about the flake's centre maps the seed set onto itself
    rot = np.array([[0.5, -np.sqrt(3) / 2, 0], [np.sqrt(3) / 2, 0.5, 0], [0, 0, 1]])
    for level in range(2):
        seeds = flake.positions[topo.seed_mask[:, level]]
        turned = seeds @ rot.T
        d = np.linalg.norm(turned[:, None] - seeds[None], axis=-1).min(1)
        assert d.max() < 1e-6


def test_seeds_do_not_depend_on_geometry():
    exact = place_molecule("C6H6", graphene_flake(2), 3.0)
    ref = _topo(exact).seed_mask
    for seed in range(3):
        np.testing.assert_array_equal(_topo(rattle(exact, 0.05, seed)).seed_mask, ref)


def test_supercell_seeds_are_copies_of_the_cell_seeds():
    from ase.build import bulk

    for cell in (bulk("C", "diamond", 3.57), graphene_sheet(2, 1, vacuum=8.0),
                 place_molecule("H2O", graphene_sheet(3, 3, vacuum=8.0), 3.0)):  # fmt: skip
        one, two = _topo(cell), _topo(cell.repeat((2, 1, 1)))
        np.testing.assert_array_equal(two.seed_mask, np.concatenate([one.seed_mask] * 2))


def test_fragment_copies_unwrap_molecules_across_the_boundary():
    from ase import Atoms

    water = molecule("H2O")
    water.positions += [2.0, 0.3, 2.0]  # one H sticks out through y = 0
    box = Atoms(water, cell=[4.0, 4.0, 4.0], pbc=True)
    box.wrap()
    topo = _topo(box)
    assert np.abs(topo.copy_offset).sum() > 0  # one atom is unwrapped by a cell
    assert not topo.copy_span.any()  # a finite molecule: no direction of self-bonding
    sheet = _topo(graphene_sheet(2, 2, vacuum=8.0))
    span = sheet.copy_span[0]
    np.testing.assert_allclose(span, np.diag([1.0, 1.0, 0.0]), atol=1e-12)  # bonded in x, y


def test_legacy_seeding_breaks_ties_by_geometry():
    exact = place_molecule("C6H6", graphene_flake(2), 3.0)
    masks = [_topo(rattle(exact, 0.02, s), seeding="legacy").seed_mask for s in range(4)]
    assert any(not np.array_equal(masks[0], m) for m in masks[1:])


def test_periodic_bonds_cross_the_cell():
    sheet = graphene_sheet(3, 3)
    cell = np.asarray(sheet.cell)
    i, j, d, shifts = covalent_bonds(sheet.numbers, sheet.positions, cell, sheet.pbc)
    assert np.bincount(i).tolist() == [3] * len(sheet)  # every carbon has three bonds
    np.testing.assert_allclose(d, 1.42, atol=1e-6)
    assert shifts.any()  # bonds through the boundary carry their cell shift
