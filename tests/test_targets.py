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


def test_a_minimum_is_met_from_above():
    assert targets.threshold_verdict([1.0, 1.0], 1.0, at_least=True) == "yes"
    assert targets.threshold_verdict([0.6, 0.8], 1.0, at_least=True) == "no"
    with pytest.raises(ValueError):
        targets.threshold_verdict([], 1.0)


def _backbones(pairs):
    return {
        name: {"MuSE": {"beyond_6A": m}, "baseline": {"beyond_6A": b}}
        for name, (m, b) in pairs.items()
    }


def test_every_backbone_needs_all_three_trained_and_each_below():
    apart = ([1.0, 1.1, 1.2], [10.0, 10.1, 10.2])
    assert (
        targets.every_backbone_verdict(
            _backbones({"PaiNN": apart, "MACE": apart, "SO3krates": apart})
        )
        == "yes"
    )
    one = ([1.0], [10.0])
    assert (
        targets.every_backbone_verdict(_backbones({"PaiNN": apart, "MACE": one, "SO3krates": one}))
        == "yes (MACE, SO3krates: one seed)"
    )
    assert (
        targets.every_backbone_verdict(_backbones({"PaiNN": apart, "MACE": one}))
        == "no: SO3krates not trained"
    )
    close = ([1.0, 3.0, 2.0], [2.5, 3.5, 3.0])
    verdict = targets.every_backbone_verdict(
        _backbones({"PaiNN": close, "MACE": one, "SO3krates": one})
    )
    assert verdict == "within spread on PaiNN"
    lost = ([11.0], [10.0])
    assert targets.every_backbone_verdict(
        _backbones({"PaiNN": apart, "MACE": lost, "SO3krates": one})
    ).startswith("no: not below on MACE")


def test_growth_within_the_baselines_spread_says_so():
    row = targets._growth_row("g", "t", [1.0, 2.5, 0.5], [1.5, 3.0, 2.0], None)
    assert row["met"] == "yes, smaller than the baseline's within spread"


def test_intermolecular_modes_are_judged_per_mode_stiff_and_soft_apart():
    ref = [-10.0, 5.0, 12.0, 80.0, 100.0, 120.0]
    model = [0.0, 0.0, 0.0, 80.0, 130.0, 200.0]  # stiff errors 0, 30 %, 67 %; soft 10, 5, 12
    entry = {"autograd": {"frequencies": model, "reference_frequencies": ref}}
    h = {"systems": {"water": {"MuSE": [entry]}, "water/flake": {"MuSE": [entry]}}}
    modes = targets.intermolecular_modes(h)["MuSE"]
    assert modes["stiff_within_25"] == [pytest.approx(1 / 3)]
    assert modes["stiff_mae"] == [pytest.approx((0 + 30 + 80) / 3)]
    assert modes["soft_mae"] == [pytest.approx(9.0)]
    assert targets.soft_reference_range(h) == (-10.0, 12.0)


def test_folding_counts_finished_runs_of_the_shipped_model_only(tmp_path):
    from _models import fingerprint

    shipped = fingerprint("muse-painn-peptide")
    for seed, (done, fp) in enumerate([(True, shipped), (True, "0" * 16), (False, shipped)]):
        state = {"done": done, "fingerprint": fp, "residues": 15}
        (tmp_path / f"MuSE-n15-seed{seed}-100ps.json").write_text(json.dumps(state))
    (tmp_path / "MuSE-n15-seed3-50ps.json").write_text(
        json.dumps({"done": True, "fingerprint": shipped, "residues": 15})
    )
    row = targets.folding_rows(tmp_path)[0]
    assert row["MuSE"] == [1.0] and row["baseline"] == [0.0] and row["met"] == "no (fewest: 0 of 3)"
