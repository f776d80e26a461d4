"""benchmarks/relaxation_path.py: the per-residue table of a model's miss along the path."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

path = importlib.import_module("relaxation_path")


def _row(conformation, per_residue):
    return {
        "conformation": conformation, "chain": 0, "rmsd": 0.5, "hbonds": [1, 3],
        "GFN2-xTB": -100.0,
        "M": {"error": sum(per_residue), "sum": sum(per_residue), "per_residue": per_residue},
    }  # fmt: skip


def test_the_table_splits_ends_from_the_interior_mean_over_chains(capsys):
    # n = 4: Ace, alanines 1..4, NMe; the ends are both caps and alanines 1 and 4
    rows = [_row("helix", [1, 2, 10, 20, 3, 4]), _row("helix", [3, 2, 30, 40, 3, 4])]
    path._print({"n": 4, "points": 5, "models": ["M"], "rows": rows})
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("| M |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    # means per residue: 2, 2, 20, 30, 3, 4 -> ends 11, interior (20 + 30) / 2 = 25
    assert cells[1:7] == ["+2", "+2", "+20", "+30", "+3", "+4"]
    assert cells[7:] == ["+11", "+25.0"]
