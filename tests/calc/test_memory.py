import numpy as np
import pytest
import torch

import muse_explore as mx
from muse_explore.calc import memory
from muse_explore.reference import benzene_on_graphene, graphene_sheet


def test_200k_atoms_are_refused_with_an_estimate_not_a_signal(monkeypatch):
    """A 204,800-atom periodic sheet: a clear MemoryError before anything big is allocated."""
    monkeypatch.setattr(memory, "available_bytes", lambda: 16 * 2**30)
    sheet = graphene_sheet(320, 320)
    assert len(sheet) == 204_800
    calc = mx.MuSECalculator(mx.build_model(levels=0, seed=0))
    with pytest.raises(MemoryError) as err:
        calc.get_potential_energy(sheet)
    msg = str(err.value)
    assert "204,800 atoms" in msg and "16.0 GB is available" in msg
    need = float(msg.split("needs about ")[1].split(" GB")[0])
    assert 60 < need < 400  # ~0.6 MB per atom for PaiNN at 64 channels
    monkeypatch.setenv("MUSE_EXPLORE_MEMORY_CHECK", "0")
    memory.check_memory(calc.model, calc.converter.batch(graphene_sheet(4, 4), targets=False))


def test_estimate_scales_with_edges_channels_levels_and_hessians():
    small = mx.build_model(levels=0, hidden=32, seed=0)
    big = mx.build_model(levels=2, hidden=64, seed=0)
    e = memory.estimate_bytes(small, 1000, itemsize=4)
    assert memory.estimate_bytes(small, 2000, itemsize=4) == pytest.approx(2 * e)
    assert memory.estimate_bytes(small, 1000, itemsize=8) == pytest.approx(2 * e)
    assert memory.estimate_bytes(big, 1000, itemsize=4) == pytest.approx(2 * 1.2 * e)
    assert memory.estimate_bytes(small, 1000, itemsize=4, hessian=True) == pytest.approx(2 * e)


def test_ordinary_structures_pass_and_hessians_are_checked(monkeypatch):
    calc = mx.MuSECalculator(mx.build_model(levels=1, seed=0), dtype="float64")
    atoms = benzene_on_graphene(3.4, rings=1)
    assert np.isfinite(calc.get_potential_energy(atoms))
    assert memory.available_bytes() > 2**28
    monkeypatch.setattr(memory, "available_bytes", lambda: 1e3)
    with pytest.raises(MemoryError, match="a Hessian of 48 atoms"):
        mx.hessian(calc, atoms)
    with pytest.raises(MemoryError, match="energy and forces"):
        moved = atoms.copy()
        moved.positions[0, 0] += 0.01
        calc.get_forces(moved)
    monkeypatch.setattr(memory, "available_bytes", lambda: None)  # unreadable: no refusal
    assert torch.isfinite(torch.as_tensor(mx.MuSECalculator(calc.model).get_forces(atoms))).all()


def test_a_wrapped_model_is_estimated_like_its_module():
    """DistributedDataParallel (or any wrapper with .module) hides the model's attributes."""

    class Wrapper(torch.nn.Module):
        def __init__(self, module):
            super().__init__()
            self.module = module

    model = mx.build_model(levels=1, hidden=16, seed=0)
    assert memory.estimate_bytes(Wrapper(model), 500, itemsize=4) == memory.estimate_bytes(
        model, 500, itemsize=4
    )
    batch = model.graph_converter().batch(benzene_on_graphene(3.4, rings=0), targets=False)
    memory.check_memory(Wrapper(model), batch)
