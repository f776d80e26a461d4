"""benchmarks/experiment_cost.py: an experiment's run against the protocol's seeds, by the rule
x − max(controls) > max(controls) − min(controls)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

cost = importlib.import_module("experiment_cost")


def _run(folder: Path, energy: float, forces: float, test=("a.xyz:0", "a.xyz:1")) -> Path:
    folder.mkdir(parents=True)
    (folder / "test_metrics.json").write_text(
        json.dumps({"energy_mae": energy, "forces_mae": forces, "structures": len(test)})
    )
    split = {name: {"indices": [0], "sources": list(test)} for name in ("train", "val")}
    split["test"] = {"indices": list(range(len(test))), "sources": list(test)}
    (folder / "splits.json").write_text(json.dumps(split))
    return folder


def test_the_rule():
    assert not cost.costs(1.18, [1.13, 1.16])  # 0.02 above, within the controls' 0.03
    assert cost.costs(1.20, [1.13, 1.16])  # 0.04 above: more than they differ
    assert not cost.costs(0.50, [1.13, 1.16])  # better is never a cost
    assert cost.costs(1.01, [1.0, 1.0])  # controls that agree leave no room
    with pytest.raises(ValueError, match="two or more"):
        cost.costs(1.0, [1.0])


def test_test_errors_and_conformers_compare_by_the_rule(tmp_path, capsys, monkeypatch):
    x = _run(tmp_path / "x", energy=1.10, forces=70.0)
    c0 = _run(tmp_path / "c0", energy=1.13, forces=59.8)
    c1 = _run(tmp_path / "c1", energy=1.16, forces=64.3)
    rows = cost.compare(x, [c0, c1])
    assert [(r["error"], r["costs"]) for r in rows] == [
        ("test energy MAE", False), ("test force MAE", True),  # 70 − 64.3 > 64.3 − 59.8
    ]  # fmt: skip
    summary = {
        label: {key: {"max_abs_error_meV": [v]} for key, v in errors.items()}
        for label, errors in {
            "X": {"helix": 60.0, "ppii": 150.0, "c7": 900.0},
            "C0": {"helix": 67.0, "ppii": 138.0, "c7": 52.0},
            "C1": {"helix": 77.0, "ppii": 165.0, "c7": 567.0},
        }.items()
    }
    conformers = tmp_path / "c.json"
    conformers.write_text(json.dumps({"summary": summary}))
    rows = cost.compare(x, [c0, c1], conformers, ["X", "C0", "C1"])
    verdicts = {r["error"].split(" ")[0]: r["costs"] for r in rows}
    assert verdicts["α"] is False and verdicts["PPII"] is False
    assert verdicts["C7"] is None  # shown, never a cost: what the c7 experiment is about
    monkeypatch.setattr(sys, "argv", ["experiment_cost.py", str(x), "--controls", str(c0),
                                      str(c1), "--conformers", str(conformers),
                                      "--labels", "X", "C0", "C1"])  # fmt: skip
    cost.main()
    out = capsys.readouterr().out
    assert "| test force MAE | meV/Å | 70.00 | 59.80, 64.30 | yes |" in out
    assert "| C7 − extended, largest |error| | meV | 900.00 | 52.00, 567.00 | shown only |" in out
    assert out.strip().endswith("verdict: costs something (test force MAE)")


def test_runs_that_do_not_compare_are_refused(tmp_path):
    x = _run(tmp_path / "x", 1.0, 60.0)
    c0 = _run(tmp_path / "c0", 1.0, 60.0)
    other = _run(tmp_path / "other", 1.0, 60.0, test=("b.xyz:0",))
    with pytest.raises(SystemExit, match="other structures"):
        cost.compare(x, [c0, other])
    with pytest.raises(SystemExit, match="two or more"):
        cost.compare(x, [c0])
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "unfinished" / "splits.json").write_text((x / "splits.json").read_text())
    with pytest.raises(SystemExit, match="no test metrics"):
        cost.compare(tmp_path / "unfinished", [c0, x])
    conformers = tmp_path / "c.json"
    conformers.write_text(json.dumps({"summary": {"X": {}}}))
    with pytest.raises(SystemExit, match="no model labelled 'C0'"):
        cost.compare(x, [c0, x], conformers, ["X", "C0", "C1"])
    with pytest.raises(SystemExit, match="--labels"):
        cost.compare(x, [c0, x], conformers, ["X"])
