"""benchmarks/ramachandran.py: each scan keeps its GFN2-xTB energies in a cache of its own."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

rama = importlib.import_module("ramachandran")


def test_the_default_scan_uses_the_committed_cache_and_no_other_scan_does():
    assert rama.cache_path(4, 2, 15.0, "extended") == rama.CACHE
    assert rama.cache_path(4, 2, 15, "extended") == rama.CACHE  # an int step is the same scan
    assert rama.CACHE.is_file()
    others = {
        rama.cache_path(4, 2, 15.0, "ppii"),
        rama.cache_path(6, 2, 15.0, "extended"),
        rama.cache_path(4, 3, 15.0, "extended"),
        rama.cache_path(4, 2, 30.0, "extended"),
        rama.cache_path(4, 2, 15.0, "extended", quick=True),
    }
    assert rama.CACHE not in others and len(others) == 5
    assert (
        rama.cache_path(4, 2, 15.0, "ppii").name == "ramachandran_reference_ppii_n4_r2_15deg.json"
    )
    assert all(p.parent == rama.CACHE.parent for p in others)
