"""benchmarks/folding.py's summary of the runs' spot checks against their H-bonds."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

folding = importlib.import_module("folding")


def _run(hbonds_at_checks, errors_mev, atoms=162):
    """A finished run whose series has one sample per ps and whose checks sit at 2, 4, ... ps."""
    t = np.arange(0.0, 2.0 * len(hbonds_at_checks) + 1.0)
    hb = np.interp(t, 2.0 * np.arange(1, len(hbonds_at_checks) + 1), hbonds_at_checks)
    return {
        "atoms": atoms,
        "series": {"time_ps": t.tolist(), "hbonds": hb.tolist()},
        "check": {
            "times_ps": (2.0 * np.arange(1, len(hbonds_at_checks) + 1)).tolist(),
            "energy_errors_mev_per_atom": (np.asarray(errors_mev) / atoms).tolist(),
        },
    }


def test_the_error_per_hbond_is_the_least_squares_slope_over_the_checked_frames():
    hb = [0, 2, 4, 6, 8, 10]
    err = [-10 - 60 * h + (5 if k % 2 else -5) for k, h in enumerate(hb)]  # −60 meV per bond
    trend = folding.hbond_trend(_run(hb, err))
    assert trend["slope_mev"] == pytest.approx(np.polyfit(hb, err, 1)[0])
    assert -61 < trend["slope_mev"] < -59 and trend["r"] < -0.99
    flat = folding.hbond_trend(_run([3, 3, 3], [-1, -5, 2]))  # the count never changes
    assert flat == {"slope_mev": None, "r": None}
    unrelated = folding.hbond_trend(_run([0, 1, 0, 1, 0, 1], [5, 5, -5, -5, 5, 5]))
    assert abs(unrelated["r"]) < 0.5


def test_the_c7_content_comes_from_every_trajectory_frame_and_its_second_half(tmp_path):
    from ase.io import write

    from muse_explore.reference.peptide import alanine_peptide

    frames = []
    for k in range(6):  # 0, 1, ..., 5 ps: the first 2 residues, then all 4, turn into C7eq
        turned = 2 if k < 3 else 4
        f = alanine_peptide(
            4, phi=[-83.0] * turned + [-135.0] * (4 - turned),
            psi=[69.0] * turned + [135.0] * (4 - turned),
        )  # fmt: skip
        f.info["time_ps"] = float(k)
        frames.append(f)
    write(tmp_path / "run.extxyz.xz", frames, format="extxyz")
    content = folding._c7_content(tmp_path / "run.extxyz.xz")
    assert content == {"frames": 6, "time_ps": [0, 1, 2, 3, 4, 5], "c7": [0.5] * 3 + [1.0] * 3}
    run = {"series": {"time_ps": [0.0, 2.5, 5.0]}, "c7": content}
    assert folding._late_c7(run) == 1.0  # frames at 3, 4 and 5 ps: t >= 5 / 2
    assert folding._late_c7({"series": {"time_ps": [0.0]}}) is None  # recorded before C7


def test_the_c7_content_is_read_again_only_when_frames_arrive(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(folding, "_c7_content", lambda p: calls.append(p) or {"frames": 3})
    traj = tmp_path / "run.extxyz.xz"
    st = {"done": False}
    assert not folding._refresh_c7(st, traj, 3) and not calls  # no trajectory yet
    traj.write_bytes(b"")
    assert folding._refresh_c7(st, traj, 3) and len(calls) == 1  # a state without it
    assert not folding._refresh_c7(st, traj, 3) and len(calls) == 1  # nothing new
    assert folding._refresh_c7(st, traj, 4) and len(calls) == 2  # a frame more
    st["done"] = True
    assert not folding._refresh_c7(st, traj, 5) and len(calls) == 2  # a done run: read once


def _state(label, seed, model, fingerprint):
    t = [0.0, 0.5, 1.0]
    series = {"time_ps": t, "helix": [0.0, 0.2, 0.4], "end_to_end": [50.0, 49.0, 48.0],
              "rg": [15.0, 14.9, 14.8], "alpha_hbonds": [0, 0, 1], "hbonds": [0, 1, 2],
              "energy": [-1.0, -1.1, -1.2]}  # fmt: skip
    return {"label": label, "model": model, "fingerprint": fingerprint, "seed": seed,
            "residues": 4, "atoms": 52, "timestep_fs": 1.0, "steps": 1000, "wall_s": 1.0,
            "done": True, "ms_per_step": 1.0, "series": series, "md": {}}  # fmt: skip


def test_report_prints_the_saved_states_and_writes_nothing(tmp_path, capsys):
    import argparse
    import json

    import muse_explore as mx

    model = tmp_path / "m.pt"
    mx.build_model(levels=0, hidden=8, seed=0).save(model)
    state = tmp_path / "folding" / "state"
    state.mkdir(parents=True)
    args = argparse.Namespace(residues=4, ps=1.0, temperature=300.0, report=True)
    good = _state("MuSE", 0, str(model), folding.fingerprint(str(model)))
    stale = _state("MuSE", 1, str(model), "0123456789abcdef")
    for seed, st in ((0, good), (1, stale)):
        (state / f"{folding.run_key('MuSE', 4, seed, 1.0)}.json").write_text(json.dumps(st))
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    jobs = [("MuSE", str(model), s) for s in range(3)]  # seed 2 has no state: left out
    folding.report(jobs, tmp_path / "folding", args)
    out = capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before
    assert "MuSE-n4-seed1-1ps: ran with another model file" in out
    assert "seed0" not in out.split("| model |")[0]  # only the stale one is warned about
    (row,) = [line for line in out.splitlines() if line.startswith("| MuSE | 2 |")]
    assert "| 0.30 ± 0.00 |" in row  # second-half helix content of both runs (t >= 0.5 ps)
    folding.report([("LES", str(model), 0)], tmp_path / "folding", args)
    assert "no run states" in capsys.readouterr().out


def test_a_paused_run_is_not_counted_slower(tmp_path, monkeypatch):
    """The speed is CPU time per step; a pause (kill -STOP) stays in the wall time only."""
    import time
    import types

    model = _flat_model(tmp_path / "m.pt", seed=0)  # random weights would break the chain

    class Paused(types.SimpleNamespace):
        """The time module as seen by a run paused (kill -STOP) for 1000 s in every chunk."""

        calls = 0

        def perf_counter(self):
            Paused.calls += 1
            return time.perf_counter() + 1000.0 * Paused.calls

    clock = Paused(time=time.time, process_time=time.process_time)
    monkeypatch.setattr(folding, "time", clock)
    st = folding.advance("MuSE", model, 0, 0.1, residues=4, temperature=300.0, nve_ps=0.0,
                         chunk_ps=0.05, deadline=float("inf"), out=tmp_path)  # fmt: skip
    assert st["done"] and st["cpu_steps"] == 100  # two chunks of 50 steps
    assert st["wall_s"] >= 2000.0  # the pauses are in the wall time ...
    assert st["ms_per_step"] == pytest.approx(1000.0 * st["cpu_s"] / 100)
    assert 0.0 < st["ms_per_step"] < 1000.0  # ... not in the speed (wall: over 20 s per step)


def _flat_model(path, seed) -> str:
    """A small random model scaled to a nearly flat potential (the chain stays intact in a
    short run), saved at ``path``."""
    import torch

    import muse_explore as mx

    net = mx.build_model(levels=0, hidden=8, seed=seed)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(1e-3)
    net.save(path)
    return str(path)


def test_a_run_moved_to_a_byte_copy_of_its_model_continues_and_another_model_restarts(
    tmp_path, monkeypatch, capsys
):
    """How runs of models not shipped yet (``--out``) become the shipped models' runs: export
    copies ``best_model.pt`` byte for byte, the fingerprint matches, the run goes on where it
    was; a run whose model file holds other weights starts again."""
    import shutil
    import time
    import types

    from ase.io import read

    class OneChunk(types.SimpleNamespace):
        """time.time() as seen by a run whose deadline passes after one chunk."""

        def time(self):
            self.now += 1.0
            return self.now - 1.0

    def advance(spec, out):
        clock = OneChunk(now=0.0, perf_counter=time.perf_counter, process_time=time.process_time)
        monkeypatch.setattr(folding, "time", clock)
        return folding.advance("MuSE", spec, 0, 0.1, residues=4, temperature=300.0, nve_ps=0.0,
                               chunk_ps=0.05, deadline=0.5, out=out)  # fmt: skip

    trained = _flat_model(tmp_path / "best_model.pt", seed=0)
    first = advance(trained, tmp_path / "runs")
    assert first["md"]["step"] == 50 and not first["done"]  # one chunk of two

    shipped = tmp_path / "pretrained.pt"
    shutil.copyfile(trained, shipped)  # what `muse-explore export` does
    shutil.move(tmp_path / "runs", tmp_path / "bench")
    moved = advance(str(shipped), tmp_path / "bench")
    assert moved["md"]["step"] == 100 and moved["model"] == str(shipped)
    assert moved["fingerprint"] == first["fingerprint"]
    assert len(moved["series"]["time_ps"]) == 2 * len(first["series"]["time_ps"]) - 1
    key = folding.run_key("MuSE", 4, 0, 0.1)
    assert len(read(tmp_path / "bench" / f"{key}.extxyz.xz", ":")) == 2  # both chunks' frames
    assert "starting again" not in capsys.readouterr().out

    other = _flat_model(tmp_path / "other.pt", seed=1)
    again = advance(other, tmp_path / "bench")
    assert "the model changed since this run started; starting again" in capsys.readouterr().out
    assert again["md"]["step"] == 50 and again["fingerprint"] != first["fingerprint"]
    assert len(read(tmp_path / "bench" / f"{key}.extxyz.xz", ":")) == 1
