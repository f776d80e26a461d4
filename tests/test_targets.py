"""benchmarks/targets.py: its verdicts, and that the committed targets.json is up to date."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

targets = importlib.import_module("targets")


@pytest.mark.parametrize(
    "values, verdict",
    [
        ([1.0, 1.4, 1.2], "yes"),
        ([1.0, 1.6, 1.2], "mean only"),
        ([1.0, 2.6, 2.2], "no (1 of 3 seeds)"),
        ([2.0, 2.6], "no"),
        ([1.5], "yes"),  # the limit itself is met
    ],
)
def test_a_threshold_is_met_by_every_seed_the_mean_or_neither(values, verdict):
    assert targets.threshold_verdict(values, 1.5) == verdict


@pytest.mark.parametrize(
    "ours, theirs, verdict",
    [
        ([1.0, 1.2, 1.1], [2.0, 2.1, 2.2], "yes"),
        ([1.0, 2.0, 1.5], [1.8, 2.2, 2.0], "within spread"),
        ([2.0, 2.1], [1.0, 1.1], "no"),
        ([1.0], [2.0, 2.1], "yes, one seed"),
        ([2.0], [2.0], "no"),  # level is not below
    ],
)
def test_below_needs_the_means_apart_by_more_than_the_spread(ours, theirs, verdict):
    assert targets.below_verdict(ours, theirs) == verdict


def test_growth_counts_its_size_and_must_be_smaller_than_the_baselines():
    ok = targets._growth_row("g", "t", [-1.0, 2.0], [5.0, 6.0], None)
    assert ok["met"] == "yes" and ok["MuSE"] == [-1.0, 2.0]  # signed values kept
    assert targets._growth_row("g", "t", [-4.0, -5.0], [5.0, 6.0], None)["met"] == "no"
    larger = targets._growth_row("g", "t", [-2.0, 2.5], [0.5, -1.0], None)
    assert larger["met"] == "no: not smaller than the baseline's"


def test_the_committed_targets_json_is_what_the_committed_benchmarks_give(tmp_path):
    out = tmp_path / "targets.json"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "targets.py"), "--json", str(out)],
        check=True,
        capture_output=True,
    )
    committed = json.loads((ROOT / "benchmarks" / "targets.json").read_text())
    assert json.loads(out.read_text()) == committed, (
        "benchmarks/targets.json is stale: rerun `python benchmarks/targets.py`"
    )
    names = [r["target"] for r in committed["targets"]]
    assert any("rattled" in n for n in names) and any("PPII" in n for n in names)


def test_benchmarks_readme_shows_the_committed_tables():
    committed = json.loads((ROOT / "benchmarks" / "targets.json").read_text())
    text = (ROOT / "benchmarks" / "README.md").read_text()
    assert targets.markdown(committed["targets"], "demonstration") in text
    assert targets.markdown(committed["per_backbone"], "backbone") in text
