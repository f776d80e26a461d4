import numpy as np
import pytest
import torch
from ase.md.verlet import VelocityVerlet

import muse_explore as mx

from ..conftest import small_model


def test_results_and_device(water_on_coronene):
    calc = mx.MuSECalculator(small_model())
    assert str(calc.device) == "cpu"  # no GPU on CI; CUDA is picked when present
    water_on_coronene.calc = calc
    water_on_coronene.get_forces()
    for key in ("energy", "free_energy", "forces", "energies", "scale_energies", "assignments"):
        assert key in calc.results
    with pytest.raises(Exception, match="stress"):
        water_on_coronene.get_stress()  # a molecule has no stress


def test_anything_but_a_model_is_named_with_the_way_to_load_one(tmp_path):
    # a path gave AttributeError: 'str' object has no attribute 'to'
    model = small_model()
    model.save(tmp_path / "model.pt")
    specs = [
        (str(tmp_path / "model.pt"), "str"),
        (tmp_path / "model.pt", "PosixPath"),
        ("painn-graphene", "str"),
        (3, "int"),
        (model.backbones[0], "PaiNN"),  # a backbone is not a model
    ]
    for spec, kind in specs:
        message = f"takes a MuSE model .*got {kind}: .*" + r"mx.load_pretrained\(name_or_path\)"
        with pytest.raises(mx.MuSEInputError, match=message):
            mx.MuSECalculator(spec)


def test_bad_dtype():
    with pytest.raises(ValueError, match="float32"):
        mx.MuSECalculator(small_model(), dtype="half")


def test_nve_conserves_energy_with_frozen_topology(benzene):
    from ase import units

    atoms = benzene.copy()
    atoms.calc = mx.MuSECalculator(small_model(), freeze_topology=True)
    kt = 300 * units.kB
    masses = atoms.get_masses()[:, None]
    atoms.set_momenta(np.random.default_rng(0).normal(size=(len(atoms), 3)) * np.sqrt(masses * kt))
    e0 = atoms.get_total_energy()
    VelocityVerlet(atoms, timestep=0.25 * units.fs).run(40)
    assert abs(atoms.get_total_energy() - e0) < 5e-3


def test_large_assignments_are_sparse(benzene, monkeypatch):
    from scipy.sparse import issparse

    import muse_explore.calc.evaluate as ev

    monkeypatch.setattr(ev, "DENSE_ASSIGNMENT_LIMIT", 10)
    calc = mx.MuSECalculator(small_model())
    benzene.calc = calc
    benzene.get_potential_energy()
    s = calc.results["assignments"][0]
    assert issparse(s)
    np.testing.assert_allclose(np.asarray(s.sum(axis=1)).ravel(), 1.0)


def test_single_atom_and_single_molecule():
    from ase import Atoms

    for atoms in (Atoms("C", positions=[[0, 0, 0]]), Atoms("H", positions=[[0, 0, 0]])):
        atoms.calc = mx.MuSECalculator(small_model())
        assert np.isfinite(atoms.get_potential_energy())
        assert np.abs(atoms.get_forces()).max() == 0.0


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(mx.MuSEConfigError, match="device='cuda'.*device='cpu'"):
        mx.MuSECalculator(small_model(), device="cuda")


def test_a_cell_too_small_for_the_coarse_levels_is_refused():
    from ase import Atoms

    tiny = Atoms("C", positions=[[0, 0, 0]], cell=[0.4, 10, 10], pbc=True)
    tiny.calc = mx.MuSECalculator(small_model())
    with pytest.raises(mx.MuSEInputError, match="cell too small.*20 Å cutoff"):
        tiny.get_potential_energy()
