import numpy as np
import pytest
import torch

import muse_explore as mx
from muse_explore.reference import graphene_flake, place_molecule
from muse_explore.testing import rattle

pytest.importorskip("mace")


def _train_like_mace_torch(path):
    """A small ScaleShiftMACE built and saved the way mace-torch does (no download)."""
    from e3nn import o3
    from mace import modules

    torch.manual_seed(0)
    model = modules.ScaleShiftMACE(
        r_max=4.0,
        num_bessel=6,
        num_polynomial_cutoff=5,
        max_ell=2,
        interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        interaction_cls_first=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        num_interactions=2,
        num_elements=3,
        hidden_irreps=o3.Irreps("8x0e+8x1o"),
        MLP_irreps=o3.Irreps("8x0e"),
        atomic_energies=np.array([-13.5, -1030.5, -2041.25]),
        avg_num_neighbors=9.0,
        atomic_numbers=[1, 6, 8],
        correlation=2,
        gate=torch.nn.functional.silu,
        radial_MLP=[16, 16],
        atomic_inter_scale=1.3,
        atomic_inter_shift=0.1,
    )
    torch.save(model, path)
    return model


@pytest.fixture
def mace_file(tmp_path):
    path = tmp_path / "small.model"
    _train_like_mace_torch(path)
    return path


def test_levels_zero_reproduces_the_mace_model(mace_file, water_on_coronene):
    from mace.calculators import MACECalculator

    model = mx.from_mace(mace_file, levels=0)
    assert model.elements == ["H", "C", "O"] and model.cutoff == 4.0
    ref = water_on_coronene.copy()
    ref.calc = MACECalculator(model_paths=str(mace_file), device="cpu", default_dtype="float64")
    ours = water_on_coronene.copy()
    ours.calc = mx.MuSECalculator(model)
    assert ours.get_potential_energy() == pytest.approx(ref.get_potential_energy(), abs=1e-8)
    np.testing.assert_allclose(ours.get_forces(), ref.get_forces(), atol=1e-8)


def test_frozen_atom_level_and_trainable_coarse_levels(mace_file, tmp_path):
    model = mx.from_mace(mace_file, levels=2, freeze_atoms=True)
    assert model.config.cutoffs == (4.0, 10.0, 20.0)
    assert not any(p.requires_grad for p in model.backbones[0].parameters())
    assert all(p.requires_grad for p in model.backbones[1].parameters())
    # one optimisation step changes only the coarse levels
    before = {k: v.clone() for k, v in model.state_dict().items()}
    atoms = rattle(place_molecule("H2O", graphene_flake(1), 3.0))
    batch = model.graph_converter(dtype=torch.float32).batch(atoms)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    model(batch).energy.sum().backward()
    opt.step()
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(not k.startswith("backbones.0.") for k in changed)
    # the file remembers the freezing
    model.save(tmp_path / "m.pt")
    loaded = mx.load_model(tmp_path / "m.pt")
    assert loaded.config.freeze_atoms
    assert not any(p.requires_grad for p in loaded.backbones[0].parameters())
    unfrozen = mx.from_mace(mace_file, levels=1, freeze_atoms=False)
    assert all(p.requires_grad for p in unfrozen.backbones[0].parameters())


def test_bad_files(tmp_path):
    with pytest.raises(mx.MuSEFileError, match="no MACE model file"):
        mx.from_mace(tmp_path / "absent.model")
    bad = tmp_path / "bad.model"
    bad.write_text("junk")
    with pytest.raises(mx.MuSEFileError, match="not a readable mace-torch model"):
        mx.from_mace(bad)
    torch.save({"a": 1}, tmp_path / "dict.model")
    with pytest.raises(mx.MuSEFileError, match="does not hold a mace-torch model"):
        mx.from_mace(tmp_path / "dict.model")
