import numpy as np
import pytest
import torch

import muse_explore as mx
from muse_explore.reference import graphene_flake, place_molecule
from muse_explore.testing import rattle

from ..conftest import SMALL

pytest.importorskip("mace")


def _mace_model(levels=0, **kw):
    return mx.build_model(
        backbone="mace",
        elements=["H", "C", "O"],
        levels=levels,
        hidden=16,
        cutoffs=(4.5,) + (10.0, 20.0)[:levels],
        energy_shifts={"H": -13.5, "C": -1030.5, "O": -2041.25},
        backbone_kwargs=SMALL["mace"] | {"scale": 1.7, "shift": -0.3},
        seed=3,
        **kw,
    )


def test_parity_with_mace_torch(tmp_path):
    """No coarse levels + the same weights: mace-torch's own calculator gives our numbers."""
    from mace.calculators import MACECalculator

    model = _mace_model()
    inner = model.backbones[0].mace
    with torch.no_grad():  # mace-torch keeps E0s inside the model; ours are energy shifts
        e0 = inner.atomic_energies_fn.atomic_energies
        e0.copy_(torch.tensor([-13.5, -1030.5, -2041.25]).reshape(e0.shape))
    path = tmp_path / "mace.model"
    torch.save(inner, path)
    atoms = rattle(place_molecule("H2O", graphene_flake(1), 3.0), 0.03)
    ref = atoms.copy()
    ref.calc = MACECalculator(model_paths=str(path), device="cpu", default_dtype="float64")
    ours = atoms.copy()
    ours.calc = mx.MuSECalculator(model, dtype="float64")
    assert ours.get_potential_energy() == pytest.approx(ref.get_potential_energy(), abs=1e-8)
    np.testing.assert_allclose(ours.get_forces(), ref.get_forces(), atol=1e-8)


def test_mace_inside_muse_has_per_scale_energies(water_on_coronene):
    calc = mx.MuSECalculator(_mace_model(levels=2))
    water_on_coronene.calc = calc
    e = water_on_coronene.get_potential_energy()
    assert calc.results["scale_energies"].shape == (3,)
    assert calc.results["scale_energies"].sum() == pytest.approx(e, abs=1e-9)


def test_round_trip(tmp_path, water_on_coronene):
    model = _mace_model(levels=2)
    model.save(tmp_path / "m.pt")
    loaded = mx.load_model(tmp_path / "m.pt")
    e = []
    for m in (model, loaded):
        a = water_on_coronene.copy()
        a.calc = mx.MuSECalculator(m)
        e.append(a.get_potential_energy())
    assert e[0] == e[1]


def test_bad_mace_hyperparameters():
    with pytest.raises(mx.MuSEConfigError, match="interaction"):
        mx.build_model(backbone="mace", backbone_kwargs={"interaction": "Nope"})
    with pytest.raises(mx.MuSEConfigError, match="gate"):
        mx.build_model(backbone="mace", backbone_kwargs={"gate": "relu6"})


def test_mis_wired_width_fails_at_build_time_by_name():
    """hidden_irreps with 8 scalar channels but hidden=16: refused when built, not mid-forward."""
    from muse_explore.errors import MuSEConfigError

    with pytest.raises(MuSEConfigError, match=r"hidden=16.*8 scalar channels.*'8x0e\+8x1o'"):
        mx.build_model(backbone="mace", hidden=16, backbone_kwargs={"hidden_irreps": "8x0e+8x1o"})
    m = mx.build_model(backbone="mace", hidden=8, backbone_kwargs={"hidden_irreps": "8x0e+8x1o"})
    assert m.assignments[0].query.in_features == 8 and m.unpool_maps[0].in_features == 8
    atoms = place_molecule("H2O", graphene_flake(1), 3.5)
    assert np.isfinite(mx.MuSECalculator(m, dtype="float64").get_potential_energy(atoms))


def test_building_and_loading_a_mace_model_is_quiet(tmp_path, capfd):
    """No TorchScript warnings from e3nn's code generation, no cuequivariance notice."""
    import warnings

    import muse_explore as mx

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        model = mx.build_model(backbone="mace", elements=["H", "C"], levels=1, hidden=8)
        model.save(tmp_path / "m.pt")
        mx.load_model(tmp_path / "m.pt")
    out, err = capfd.readouterr()
    assert "cuequivariance" not in out + err and "TorchScript" not in out + err
