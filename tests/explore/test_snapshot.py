import numpy as np
import pytest

from muse_explore.calc import MuSECalculator
from muse_explore.explore import snapshots
from muse_explore.reference import benzene_on_graphene


def test_snapshot_matches_the_calculator(model, complex_):
    snap = snapshots(model, complex_)[0]
    calc = MuSECalculator(model, dtype="float64")
    a = complex_.copy()
    a.calc = calc
    assert snap.energy == pytest.approx(a.get_potential_energy(), abs=1e-9)
    np.testing.assert_allclose(snap.scale_energies, calc.results["scale_energies"], atol=1e-9)
    for s, ref in zip(snap.assignments, calc.results["assignments"], strict=True):
        np.testing.assert_allclose(s, ref, atol=1e-12)
    assert snap.scale_energies.sum() == pytest.approx(snap.energy, abs=1e-9)


def test_membership_rows_sum_to_one_and_dominant_share(model, complex_):
    snap = snapshots(model, complex_)[0]
    for level in (1, 2):
        m = snap.membership(level)
        assert m.shape == (len(complex_), snap.num_nodes(level))
        np.testing.assert_allclose(m.sum(axis=1), 1.0, atol=1e-10)
        k, share = snap.dominant(level)
        np.testing.assert_allclose(share, m.max(axis=1))
    with pytest.raises(ValueError, match="level must be in 1..2"):
        snap.membership(3)


def test_batched_frames_equal_single_evaluations(model):
    frames = [benzene_on_graphene(h, rings=1) for h in (3.0, 4.5, 7.0)]
    batched = snapshots(model, frames, batch_size=2)
    for f, b in zip(frames, batched, strict=True):
        single = snapshots(model, f)[0]
        assert b.energy == pytest.approx(single.energy, abs=1e-9)
        for x, y in zip(b.assignments, single.assignments, strict=True):
            np.testing.assert_allclose(x, y, atol=1e-12)
        for x, y in zip(b.anchors, single.anchors, strict=True):
            np.testing.assert_array_equal(x, y)


def test_float32_totals_are_resummed(model, complex_):
    import copy

    import torch

    shifted = copy.deepcopy(model)
    shifted.set_energy_shifts({"H": -13.4, "C": -58.6})  # thousands of eV, as trained models
    e64 = snapshots(shifted, complex_)[0].energy
    m32 = copy.deepcopy(shifted).float()
    snap32 = snapshots(m32, complex_, dtype=torch.float32)[0]
    assert abs(snap32.energy - e64) < 1e-4  # eV, on a total of -2000 eV (float32 ulp 1.2e-4)


def test_snapshots_leave_the_model_mode_alone(model, complex_):
    model.train()
    snapshots(model, complex_)
    assert model.training
    model.eval()


def test_split_of_a_mixed_batch(model):
    """Assignments and anchors per structure when sizes differ (flake, molecule, complex)."""
    from muse_explore.reference import graphene_flake
    from muse_explore.reference.molecules import small_molecule

    frames = [graphene_flake(1), small_molecule("pyridine"), benzene_on_graphene(4.0, rings=1)]
    batched = snapshots(model, frames)
    for f, b in zip(frames, batched, strict=True):
        single = snapshots(model, f)[0]
        for level in range(3):
            np.testing.assert_array_equal(b.anchors[level], single.anchors[level])
            assert b.anchors[level].max() < len(f)
        for x, y in zip(b.assignments, single.assignments, strict=True):
            np.testing.assert_allclose(x, y, atol=1e-12)
