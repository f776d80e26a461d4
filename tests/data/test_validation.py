import pytest
from ase import Atoms

from muse_explore.data.validation import validate_atoms
from muse_explore.errors import MuSEInputError
from muse_explore.testing import bad_inputs


@pytest.mark.parametrize("name", list(bad_inputs()))
def test_bad_inputs_raise_named_errors(name):
    atoms, fragment = bad_inputs()[name]
    with pytest.raises(MuSEInputError, match=fragment):
        validate_atoms(atoms, cutoff=5.0, elements=["H", "C", "N", "O"])


def test_unknown_element_names_the_element_and_the_model_elements():
    with pytest.raises(MuSEInputError, match=r"unknown element S .*knows only H, C"):
        validate_atoms(Atoms("HS", positions=[[0, 0, 0], [2, 0, 0]]), elements=["H", "C"])


def test_cell_too_small_for_cutoff():
    atoms = Atoms("C", positions=[[0, 0, 0]], cell=[0.5, 10, 10], pbc=True)
    with pytest.raises(MuSEInputError, match="too small for the cutoff"):
        validate_atoms(atoms, cutoff=25.0)


def test_cell_too_dense_names_the_density_and_compressed_diamond_passes():
    from ase.build import bulk

    atoms = bulk("C", "diamond", 3.57, cubic=True)  # 8 atoms, 0.176 atoms/Å³
    validate_atoms(atoms, cutoff=5.0)
    atoms.set_cell(atoms.cell * 0.75, scale_atoms=True)  # 2.4 times denser: 0.42 atoms/Å³
    validate_atoms(atoms, cutoff=5.0)
    atoms = bulk("C", "diamond", 0.357, cubic=True)  # the cell in nm, read as Å
    message = r"cell too dense: 8 atom\(s\).*999.0 times diamond.*in Å\?"
    with pytest.raises(MuSEInputError, match=message):
        validate_atoms(atoms, cutoff=5.0)


def test_not_atoms():
    with pytest.raises(MuSEInputError, match="ase.Atoms"):
        validate_atoms([1, 2, 3])


def test_good_structure_passes(benzene):
    validate_atoms(benzene, cutoff=5.0, elements=["H", "C"])
