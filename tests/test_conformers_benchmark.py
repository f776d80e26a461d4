"""benchmarks/conformers.py: the conformational gaps of chains in one conformation."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

conformers = importlib.import_module("conformers")


def _chains():
    """Two chains per length and conformation; energies (eV) with known gaps per residue."""
    lengths = [5, 7, 9]
    n_of, conf, energy = [], [], []
    for n in lengths:
        for c, per_residue in (("extended", 0.0), ("helix", -0.2), ("ppii", -0.05)):
            for k in range(2):
                n_of.append(n)
                conf.append(c)
                energy.append(-10.0 * n + per_residue * n + 0.001 * (2 * k - 1))  # ±1 meV
    return lengths, np.array(n_of), np.array(conf), np.array(energy)


def test_pure_gaps_are_mean_differences_per_length():
    lengths, n_of, conf, energy = _chains()
    gaps = conformers.pure_gaps(n_of, conf, energy, lengths)
    assert gaps["helix"] == pytest.approx([-1000.0, -1400.0, -1800.0])
    assert gaps["ppii"] == pytest.approx([-250.0, -350.0, -450.0])
    # a length without extended chains has no gap
    keep = ~((n_of == 7) & (conf == "extended"))
    gaps = conformers.pure_gaps(n_of[keep], conf[keep], energy[keep], lengths)
    assert gaps["helix"][1] is None and gaps["ppii"][0] == pytest.approx(-250.0)


def test_gap_errors_give_each_seeds_error_and_its_growth_per_residue():
    lengths, n_of, conf, energy = _chains()
    ref = conformers.pure_gaps(n_of, conf, energy, lengths)
    # seed 0 misses PPII by +8 meV per residue, seed 1 by +6; the helix by a constant 30 meV
    seeds = []
    for miss in (0.008, 0.006):
        e = energy + np.where(conf == "ppii", miss * n_of, 0.0) + np.where(conf == "helix", 0.03, 0)
        seeds.append(conformers.pure_gaps(n_of, conf, e, lengths))
    errs = conformers.gap_errors({"lengths": lengths, "GFN2-xTB": ref, "m": seeds}, "m")
    assert errs["ppii"]["slope"] == pytest.approx([8.0, 6.0])
    assert errs["ppii"]["errors"][0] == pytest.approx([40.0, 56.0, 72.0])
    assert errs["helix"]["slope"] == pytest.approx([0.0, 0.0], abs=1e-9)
    assert errs["helix"]["errors"][1] == pytest.approx([30.0, 30.0, 30.0])


def test_a_basin_with_too_few_residues_is_fitted_but_not_shown(capsys):
    keys = (*conformers.BASINS, "per chain")
    block = {
        "from_step": 32, "lengths": [5], "chains": [2], "GFN2-xTB": [-100.0], "m": [[10.0]],
        "share": {"m": [0.9]},
        "basin_residues": {"strand": 40, "helix": 30, "ppii": 25, "other": 4},
        "per_residue_miss": {"m": [dict(zip(keys, [1.0, 2.0, 3.0, -17.0, 5.0], strict=True))]},
    }  # fmt: skip
    conformers._print_chain_drop(block, ["m"], "chains")
    row = next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("| m | 0.90")
    )
    assert row == "| m | 0.90 | +1.0 | +2.0 | +3.0 | – | +5.0 |"


def test_the_scale_tables_split_every_compared_gap_and_skip_single_scale_models(capsys):
    rows = []
    for n, shift in ((4, 0.0), (6, 10.0)):
        row = {"n": n, "MuSE:nodes": [10, 4], "B:helix": -100.0}
        for i, conf in enumerate(conformers.COMPARED):
            row[f"GFN2-xTB:{conf}"] = -100.0 * (i + 1)
            # two seeds, three scales; the mean over seeds sums to the reference + shift + 1
            atoms, level1 = -200.0 * (i + 1), 100.0 * (i + 1)
            row[f"MuSE:{conf}:scales"] = [[atoms, level1, shift], [atoms, level1, shift + 2.0]]
        rows.append(row)
    conformers._print_scales(rows, ["MuSE", "B"])
    out = capsys.readouterr().out
    for name in conformers.COMPARED.values():
        assert f"MuSE: ΔE({name} − extended) by scale" in out
    assert "B:" not in out  # a model without scales gets no table
    lines = [x for x in out.splitlines() if x.startswith("| 6 |")]
    assert len(lines) == len(conformers.COMPARED)
    # C7 row at n = 6: reference −300, scales −600, +300, +11 -> error +11
    assert lines[-1] == "| 6 | 10/4 | -300 | -600 | +300 | +11 | +11 |"
