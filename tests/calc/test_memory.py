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


def test_coarse_edges_are_counted_before_the_forward_pass(periodic_sheet, water_on_coronene):
    """The count is close to the graphs and assignments the model then builds: above them
    (pairs of another copy of a fragment are counted too), by less than a quarter."""
    model = mx.build_model(levels=2, hidden=16, seed=0).double()
    for atoms in (periodic_sheet, water_on_coronene):
        batch = model.graph_converter(dtype=torch.float64).batch([atoms, atoms], targets=False)
        with torch.no_grad():
            out = model(batch)
        built = [
            int(s.weight.shape[0]) + int(r[:, 1].sum()) - len(r)  # assignment pairs + edges
            for s, r in zip(out.assignments, out.reach, strict=True)
        ]
        counted = np.array(memory.coarse_edges(model, batch))
        assert (counted >= built).all() and (counted <= 1.25 * np.array(built)).all(), built
    assert memory.coarse_edges(mx.build_model(levels=0, seed=0), batch) == []


def test_a_periodic_sheet_is_refused_for_its_coarse_levels(monkeypatch, periodic_sheet):
    """Every atom of a periodic sheet is a seed: the 20 Å level has many times the atom
    level's edges, which the old tenth-per-level rule missed."""
    calc = mx.MuSECalculator(mx.build_model(levels=2, seed=0), dtype="float64")
    batch = calc.converter.batch(periodic_sheet, targets=False)
    edges, coarse = int(batch.edge_index.shape[1]), memory.coarse_edges(calc.model, batch)
    atoms_only = memory.estimate_bytes(calc.model, edges, itemsize=8, coarse=[0, 0])
    full = memory.estimate_bytes(calc.model, edges, itemsize=8, coarse=coarse)
    assert coarse[1] > 10 * edges and full > 5 * atoms_only
    assert full > 3 * memory.estimate_bytes(calc.model, edges, itemsize=8)  # the old rule
    monkeypatch.setattr(memory, "available_bytes", lambda: (atoms_only + full) / 2)
    with pytest.raises(MemoryError, match=f"{edges:,} edges, {sum(coarse):,} on the coarse") as err:
        calc.get_potential_energy(periodic_sheet)
    assert "model.backbone_only() (a model without the coarse levels" in str(err.value)
    assert "in a periodic cell are its atoms" in str(err.value)
    monkeypatch.setattr(memory, "available_bytes", lambda: 1.01 * full)
    assert np.isfinite(calc.get_potential_energy(periodic_sheet))
    with pytest.raises(ValueError, match="1 coarse edge counts for 2 level"):
        memory.estimate_bytes(calc.model, edges, itemsize=8, coarse=[5])


def test_the_count_is_reused_for_the_same_structure(monkeypatch, periodic_sheet):
    """An MD step (same atoms, seeds and cell) reuses the count; another cell counts again."""
    from muse_explore.testing import rattle

    model = mx.build_model(levels=2, hidden=16, seed=0)
    conv = model.graph_converter(dtype=torch.float64)
    calls = []
    real = memory.neighbor_list
    monkeypatch.setattr(memory, "neighbor_list", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(memory, "_COUNTS", {})
    first = memory.coarse_edges(model, conv.batch(periodic_sheet, targets=False))
    assert len(calls) == 2  # one neighbour search per coarse level
    step = memory.coarse_edges(
        model, conv.batch(rattle(periodic_sheet, 0.01, seed=5), targets=False)
    )
    assert len(calls) == 2 and step == pytest.approx(first, rel=0.1)
    wider = periodic_sheet.copy()
    wider.set_cell(periodic_sheet.cell * [1.02, 1.0, 1.0], scale_atoms=True)
    memory.coarse_edges(model, conv.batch(wider, targets=False))
    assert len(calls) == 4


def test_molecules_are_checked_without_a_neighbour_search(monkeypatch, water_on_coronene):
    """Every pair of nodes bounds a molecule's coarse edges; where that bound fits, nothing
    is counted (the hot path of training and MD); where it does not, the count decides."""
    model = mx.build_model(levels=2, hidden=16, seed=0)
    batch = model.graph_converter().batch([water_on_coronene] * 3, targets=False)
    bound = memory._all_pairs(model, batch)
    counted = memory.coarse_edges(model, batch)
    assert all(b >= c for b, c in zip(bound, counted, strict=True))
    calls = []
    monkeypatch.setattr(memory, "coarse_edges", lambda *a: calls.append(1) or counted)
    memory.check_memory(model, batch)
    assert calls == []
    edges = int(batch.edge_index.shape[1])
    full = memory.estimate_bytes(model, edges, itemsize=4, coarse=counted)
    monkeypatch.setattr(memory, "available_bytes", lambda: 1.01 * full)  # bound too large
    memory.check_memory(model, batch)
    assert calls == [1]
    batch.pbc[:] = True  # a periodic graph has no such bound
    assert memory._all_pairs(model, batch) is None
