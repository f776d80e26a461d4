import numpy as np
import pytest

import muse_explore as mx
from muse_explore.analysis import errors_by_range, interaction_energies, predict
from muse_explore.training.dataset import read_structures

from ..training.conftest import SCANS


def test_reference_profiles_from_the_shipped_scans():
    frames = read_structures([SCANS])
    energies = [a.get_potential_energy() for a in frames]
    rows = interaction_energies(frames, energies)
    assert len(rows) == 10 * 22  # 5 molecules x 2 orientations x 22 heights
    benzene = [r for r in rows if r["molecule"] == "benzene" and r["height"] == 3.4]
    assert len(benzene) == 2
    assert all(-0.5 < r["e_int"] < -0.35 for r in benzene)  # GFN2-xTB binding near 3.4 Å
    far = [r["e_int"] for r in rows if r["height"] >= 14]
    assert np.abs(far).max() < 3e-3


def test_errors_by_range_and_backbone_sees_nothing_far():
    table = errors_by_range([3.0, 5.0, 5.5, 8.0, 12.0], [1.0, -2.0, 4.0, 0.5, -1.0])
    assert [t["range"] for t in table] == ["< 4 Å", "4–6 Å", "6–10 Å", "> 10 Å", "all"]
    assert [t["n"] for t in table] == [1, 2, 1, 1, 5]
    assert table[1]["mae"] == pytest.approx(3.0) and table[-1]["mae"] == pytest.approx(1.7)
    frames = read_structures([SCANS])[:24]  # one scan: flake, molecule, 22 complexes
    base = mx.build_model(levels=0, hidden=8, seed=1)
    e, f = predict(base, frames, forces=True)
    assert len(f) == 24 and f[0].shape == (72, 3)
    rows = interaction_energies(frames, e)
    far = [r["e_int"] for r in rows if r["height"] > 6.0]
    assert np.abs(far).max() < 1e-9  # a 5 Å backbone has no interaction beyond its cutoff
