import numpy as np
import pytest

from muse_explore.data import AtomsToGraph
from muse_explore.errors import MuSEInputError
from muse_explore.pooling import Seeder
from muse_explore.reference import benzene_on_graphene, graphene_flake


def test_data_layer_does_not_import_pooling():
    """The data layer is given a seeder; it never reaches up into pooling by itself."""
    import ast
    from pathlib import Path

    import muse_explore.data as data

    for path in Path(data.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
        names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [n for n in names if n.startswith("muse_explore.pooling")], path.name


def test_fragments_only_and_seeds():
    atoms = benzene_on_graphene(4.0, rings=1)
    plain = AtomsToGraph(5.0)(atoms, targets=False)
    assert not hasattr(plain, "fragment") and not hasattr(plain, "seed_mask")
    frag = AtomsToGraph(5.0, seeder=Seeder(()))(atoms, targets=False)
    assert frag.fragment.unique().numel() == 2 and not hasattr(frag, "seed_mask")
    full = AtomsToGraph(5.0, seeder=Seeder((2, 4)))(atoms, targets=False)
    assert full.seed_mask.shape == (len(atoms), 2) and full.copy_offset.shape == (len(atoms), 3)


def test_freeze_is_the_seeders_and_refuses_other_atoms():
    seeder = Seeder((2, 4))
    conv = AtomsToGraph(5.0, seeder=seeder)
    atoms = benzene_on_graphene(4.0, rings=1)
    conv.freeze(atoms)
    assert conv.frozen and seeder.frozen
    with pytest.raises(MuSEInputError, match="frozen for another structure"):
        conv(graphene_flake(1), targets=False)
    conv.unfreeze()
    assert not conv.frozen
    np.testing.assert_array_equal(
        conv(atoms, targets=False).seed_mask.numpy(), seeder.topology(atoms).seed_mask
    )
    with pytest.raises(ValueError, match="without a seeder"):
        AtomsToGraph(5.0).freeze(atoms)
    with pytest.raises(ValueError, match="seeding must be one of"):
        Seeder((2,), seeding="random")
