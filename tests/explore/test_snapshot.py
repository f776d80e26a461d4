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
    import torch

    e64 = snapshots(model, complex_)[0].energy
    e32 = snapshots(model.float(), complex_, dtype=torch.float32)[0].energy
    model.double()
    assert abs(e32 - e64) < 2e-4  # eV; the model's own float32 sum is off by ~1 meV
