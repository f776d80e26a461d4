import json

import numpy as np
import pytest
from ase.build import molecule

from muse_explore.errors import MuSEFileError
from muse_explore.reference.generate import generate, summary_path

pytest.importorskip("tblite")


def _build(spec):
    water = molecule("H2O")
    rng = np.random.default_rng(spec["seed"])
    water.positions += rng.normal(scale=0.05, size=water.positions.shape)
    water.info = {"job": spec["job"]}
    return [water, water[:2]]


SPECS = [{"job": k, "seed": 10 + k} for k in range(4)]


def test_generation_resumes_after_a_crash_and_matches_a_clean_run(tmp_path):
    out = tmp_path / "w.extxyz.xz"
    calls = {"n": 0}

    def crashing(spec):
        calls["n"] += 1
        if spec["job"] == 2:
            raise KeyboardInterrupt  # as if the run were stopped here
        return _build(spec)

    with pytest.raises(KeyboardInterrupt):
        generate(SPECS, crashing, out, chunk=1, progress=False)
    parts = tmp_path / "w.extxyz.xz.parts"
    assert sorted(p.name for p in parts.glob("part-*.extxyz")) == [
        "part-000000.extxyz",
        "part-000001.extxyz",
    ]
    with pytest.raises(MuSEFileError, match="other settings"):
        generate(SPECS[:3], _build, out, chunk=1, progress=False)
    generate(SPECS, _build, out, chunk=1, progress=False, meta={"seed": 7})
    assert not parts.exists()
    clean = tmp_path / "clean.extxyz"
    generate(SPECS, _build, clean, chunk=3, progress=False)
    import ase.io

    a, b = ase.io.read(out, ":"), ase.io.read(clean, ":")
    assert len(a) == len(b) == 8
    for x, y in zip(a, b, strict=True):
        assert x.info["job"] == y.info["job"]
        assert x.get_potential_energy() == pytest.approx(y.get_potential_energy(), abs=1e-9)
        np.testing.assert_allclose(x.get_forces(), y.get_forces(), atol=1e-6)
    summary = json.loads(summary_path(out).read_text())
    assert summary["structures"] == 8 and summary["seed"] == 7
    assert summary["reference"].startswith("GFN2-xTB") and summary["wall_seconds"] >= 0


def test_parallel_workers_write_the_same_parts_as_one_process(tmp_path):
    serial, parallel = tmp_path / "serial.extxyz", tmp_path / "parallel.extxyz"
    generate(SPECS, _build, serial, chunk=1, progress=False)
    generate(SPECS, _build, parallel, chunk=1, progress=False, jobs=2)
    import ase.io

    a, b = ase.io.read(serial, ":"), ase.io.read(parallel, ":")
    assert [x.info["job"] for x in a] == [x.info["job"] for x in b] == [0, 0, 1, 1, 2, 2, 3, 3]
    for x, y in zip(a, b, strict=True):
        assert x.get_potential_energy() == pytest.approx(y.get_potential_energy(), abs=1e-9)
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        generate(SPECS, _build, tmp_path / "none.extxyz", progress=False, jobs=0)


def _failing(spec):
    if spec["job"] == 0:
        raise RuntimeError("chunk 0 fails")
    return _build(spec)


def test_a_failing_worker_stops_the_run_and_keeps_finished_parts(tmp_path):
    out = tmp_path / "w.extxyz"
    with pytest.raises(RuntimeError, match="chunk 0 fails"):
        generate(SPECS, _failing, out, chunk=1, progress=False, jobs=2)
    with pytest.raises(ValueError, match="picklable build function"):
        generate(SPECS, lambda s: _build(s), tmp_path / "l.extxyz", chunk=1, progress=False, jobs=2)
    parts = tmp_path / "w.extxyz.parts"
    assert not (parts / "part-000000.extxyz").exists() and not out.exists()
    # chunks are handed out one per free worker: after the failure no further one starts
    assert not (parts / "part-000003.extxyz").exists()
    generate(SPECS, _build, out, chunk=1, progress=False, jobs=2)  # resumes and finishes
    assert not parts.exists()
