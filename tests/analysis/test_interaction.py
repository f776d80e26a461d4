import numpy as np
import pytest

import muse_explore as mx
from muse_explore.analysis import errors_by_range, interaction_energies, predict, profile_minimum
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
    # a 5 Å backbone has no interaction beyond its cutoff: the closest molecule–flake pair at
    # 7 Å is 6.65 Å apart, against 7.7e-4 eV at 5 Å (one pair inside 5 Å). Here the far values
    # are ~1e-16 eV; one CI machine once gave 8.4e-9 eV for the 7 Å complex alone (not
    # reproduced in 80 repeated evaluations on 1 and 2 threads), so the bound is 1 µeV, still
    # 700 times below the signal the cutoff removes.
    assert np.abs(far).max() < 1e-6
    near = [r["e_int"] for r in rows if r["height"] == 5.0]
    assert np.abs(near).max() > 1e-4  # ... and the check would see one that leaked


def test_profile_minimum_of_a_morse_well_and_of_the_shipped_scans():
    d = np.array([2.6, 2.8, 3.0, 3.2, 3.4, 3.6, 3.8, 4.0, 4.4, 5.0, 6.0, 8.0, 10.0, 20.0])
    well = 0.4 * ((1 - np.exp(-1.3 * (d - 3.35))) ** 2 - 1)  # depth 0.4 at 3.35 Å
    m = profile_minimum(d[::-1], well[::-1])  # any order
    assert m["interior"]
    assert m["d_min"] == pytest.approx(3.35, abs=0.02)
    assert m["e_min"] == pytest.approx(-0.4, abs=3e-3)
    edge = profile_minimum(d, d)  # still falling at the shortest height: no interior well
    assert not edge["interior"] and edge["d_min"] == 2.6
    with pytest.raises(ValueError, match="4 distinct"):
        profile_minimum([3.0, 3.0, 4.0], [0.0, 0.1, 0.2])
    with pytest.raises(ValueError, match="finite"):
        profile_minimum(d, np.where(d > 5, np.nan, well))
    frames = read_structures([SCANS])[:24]
    rows = interaction_energies(frames, [a.get_potential_energy() for a in frames])
    ref = profile_minimum([r["height"] for r in rows], [r["e_int"] for r in rows])
    assert ref["interior"] and 3.0 < ref["d_min"] < 4.0 and -0.6 < ref["e_min"] < -0.3
