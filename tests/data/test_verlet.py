import numpy as np
import pytest
from ase import units
from ase.md.velocitydistribution import thermalize_momenta
from ase.md.verlet import VelocityVerlet

import muse_explore as mx
from muse_explore.data.neighbors import neighbor_list
from muse_explore.data.verlet import VerletList
from muse_explore.errors import MuSEInputError
from muse_explore.reference import benzene_on_graphene, graphene_sheet, place_molecule

from ..conftest import small_model


def _pairs(edge_index, shifts):
    return {(int(j), int(i), *map(int, s)) for (j, i), s in zip(edge_index.T, shifts, strict=True)}


@pytest.mark.parametrize("periodic", [False, True], ids=["molecule on flake", "periodic sheet"])
def test_reused_lists_are_the_fresh_lists_along_a_path(periodic):
    atoms = (
        place_molecule("H2O", graphene_sheet(3, 3), 3.0)
        if periodic
        else benzene_on_graphene(3.4, rings=1)
    )
    cell = np.asarray(atoms.cell) if periodic else np.zeros((3, 3))
    rng = np.random.default_rng(0)
    verlet = VerletList(4.0, skin=0.6)
    pos = atoms.positions.copy()
    for _ in range(40):  # a random walk: 0.05 Å steps, rebuilt every few steps
        pos = pos + rng.normal(0, 0.05 / np.sqrt(3), pos.shape)
        got = verlet(pos, cell, atoms.pbc)
        fresh = neighbor_list(pos, cell, atoms.pbc, 4.0)
        assert _pairs(*got) == _pairs(*fresh)
    assert 1 < verlet.builds < verlet.calls == 40  # reused, and rebuilt when needed


def test_a_new_cell_or_a_long_move_rebuilds():
    atoms = graphene_sheet(3, 3)
    verlet = VerletList(4.0, skin=0.4)
    verlet(atoms.positions, atoms.cell, atoms.pbc)
    verlet(atoms.positions + 0.1, atoms.cell, atoms.pbc)  # 0.17 Å < skin / 2: reused
    assert verlet.builds == 1
    moved = atoms.positions.copy()
    moved[0, 0] += 0.25  # one atom beyond skin / 2
    builds = verlet.builds
    verlet(moved, atoms.cell, atoms.pbc)
    assert verlet.builds == builds + 1
    verlet(moved, np.asarray(atoms.cell) * 1.01, atoms.pbc)
    assert verlet.builds == builds + 2
    with pytest.raises(ValueError, match="skin must be positive"):
        VerletList(4.0, skin=0.0)


def test_md_with_a_skin_gives_the_numbers_of_fresh_lists():
    model = small_model()
    atoms = benzene_on_graphene(3.4, rings=1)
    thermalize_momenta(atoms, temperature_K=600, rng=np.random.default_rng(1))
    atoms.calc = mx.MuSECalculator(model, skin=0.5)
    fresh = mx.MuSECalculator(model)
    dyn = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    for _ in range(12):
        dyn.run(1)
        ref = atoms.copy()
        ref.calc = fresh
        assert atoms.get_potential_energy() == pytest.approx(ref.get_potential_energy(), abs=1e-9)
        np.testing.assert_allclose(atoms.get_forces(), ref.get_forces(), atol=1e-9)
    verlet = atoms.calc.converter.verlet
    assert verlet.builds < verlet.calls


def test_overlapping_atoms_are_still_refused_with_a_skin():
    calc = mx.MuSECalculator(small_model(), skin=0.5)
    atoms = benzene_on_graphene(3.4, rings=1)
    atoms.calc = calc
    atoms.get_potential_energy()
    atoms.positions[1] = atoms.positions[0] + [0.1, 0, 0]
    with pytest.raises(MuSEInputError, match="on top of each other|closer than"):
        atoms.get_potential_energy()
