"""benchmarks/conformer_residues.py: a model's conformational gap split into residues."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms

from muse_explore.calc import MuSECalculator
from muse_explore.reference.peptide import alanine_peptide

from .conftest import small_model

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

residues = importlib.import_module("conformer_residues")


def test_split_takes_both_caps_and_the_end_residues_as_ends():
    per = np.array([1.0, 2.0, 10.0, 10.0, 3.0, 4.0])  # caps and alanines 1 and 4 at the ends
    assert residues.split(per) == (30.0, 10.0, 10.0)


@pytest.mark.parametrize("levels", [0, 2])
def test_residue_gaps_sum_to_the_models_own_gap(levels):
    """Per-residue gaps add up to the model's energy difference, on a baseline and on a MuSE
    model that shares its coarse energies out among atoms; the reference's gap is kept."""
    n = 4
    shapes = {c: alanine_peptide(n, conformation=c) for c in ("extended", "helix", "ppii")}
    reference = {
        f"{n}/{c}": {
            "numbers": a.numbers.tolist(),
            "positions": a.positions.tolist(),
            "energy": 0.1 * k,
        }  # fmt: skip
        for k, (c, a) in enumerate(shapes.items())
    }
    calc = MuSECalculator(small_model(levels=levels))
    gaps = residues.residue_gaps({"m": calc}, n, ["helix", "ppii"], reference)
    for k, conf in enumerate(["helix", "ppii"], start=1):
        per = np.asarray(gaps[conf]["m"])
        assert per.shape == (n + 2,)
        total = []
        for c in (conf, "extended"):
            atoms = Atoms(numbers=shapes[c].numbers, positions=shapes[c].positions)
            atoms.calc = calc
            total.append(atoms.get_potential_energy())
        assert per.sum() == pytest.approx(1000.0 * (total[0] - total[1]), abs=1e-6)
        assert gaps[conf]["GFN2-xTB"] == pytest.approx(100.0 * k)
    json.dumps(gaps)  # the JSON it writes


def test_a_missing_minimum_is_named():
    with pytest.raises(SystemExit, match=r"n = 6: no GFN2-xTB minimum for \['extended', 'c7'\]"):
        residues.residue_gaps({}, 6, ["c7"], {"6/helix": {}})


def test_basin_census_counts_residues_per_basin(tmp_path):
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    chains = [alanine_peptide(4, conformation=c) for c in ("helix", "ppii", "extended")]
    for a in chains:  # a data file's structures carry their reference energy and forces
        a.calc = SinglePointCalculator(a, energy=0.0, forces=np.zeros((len(a), 3)))
    path = tmp_path / "chains.extxyz"
    write(path, chains, format="extxyz")
    census = residues.basin_census(path)
    assert census == {"structures": 3, "helix": 4, "ppii": 4, "strand": 4, "other": 0}
