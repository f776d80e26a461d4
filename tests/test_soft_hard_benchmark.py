"""benchmarks/soft_hard.py: rerunning one task keeps the other task's measurements."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

soft_hard = importlib.import_module("soft_hard")

SETTINGS = {"limit": 200, "paths": 4, "nve_ps": 1.0, "frames": 121}


def _file(tmp_path, settings, tasks):
    out = tmp_path / "soft_hard.json"
    out.write_text(json.dumps({"settings": settings, "tasks": tasks}))
    return out


def test_one_task_keeps_the_other_measured_alike(tmp_path):
    out = _file(tmp_path, SETTINGS, {"graphene": {"MuSE": 1}, "peptide": {"MuSE": 2}})
    assert soft_hard.kept_tasks(out, dict(SETTINGS), ["peptide"]) == {"graphene": {"MuSE": 1}}
    assert soft_hard.kept_tasks(out, dict(SETTINGS), ["graphene", "peptide"]) == {}
    assert soft_hard.kept_tasks(tmp_path / "none.json", dict(SETTINGS), ["peptide"]) == {}


def test_other_settings_are_refused_before_anything_is_measured(tmp_path):
    out = _file(tmp_path, SETTINGS, {"graphene": {"MuSE": 1}})
    with pytest.raises(SystemExit, match="nve_ps: 1.0 there, 0.0 here"):
        soft_hard.kept_tasks(out, SETTINGS | {"nve_ps": 0.0}, ["peptide"])
    # rerunning every task the file holds replaces it, whatever its settings were
    assert soft_hard.kept_tasks(out, SETTINGS | {"nve_ps": 0.0}, ["graphene"]) == {}


def test_a_file_of_something_else_is_not_overwritten(tmp_path):
    out = tmp_path / "soft_hard.json"
    out.write_text("[1, 2]")
    with pytest.raises(SystemExit, match="not a soft_hard.py result"):
        soft_hard.kept_tasks(out, SETTINGS, ["peptide"])
    assert out.read_text() == "[1, 2]"


def test_the_command_stops_at_a_settings_mismatch(tmp_path):
    committed = json.loads((ROOT / "benchmarks" / "soft_hard.json").read_text())
    out = _file(tmp_path, committed["settings"], committed["tasks"])
    cmd = [sys.executable, str(ROOT / "benchmarks" / "soft_hard.py"), "--task", "peptide"]
    run = subprocess.run(
        cmd + ["--nve-ps", "0", "--out", str(out)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode != 0 and "graphene task measured with other settings" in run.stderr
    assert json.loads(out.read_text()) == committed  # untouched
