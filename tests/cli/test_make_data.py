import json
import pickle

import ase.io
import numpy as np
import pytest

from muse_explore.cli.main import main

pytest.importorskip("tblite")


@pytest.fixture
def one_thread(monkeypatch):
    """OpenMP on one thread in this process as in the workers: the conftest gives torch two,
    and tblite shares torch's OpenMP runtime; a GFN2-xTB relaxation on two threads ends at a
    slightly different geometry (the periodic set's molecules: 37 meV in the cell)."""
    import torch

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_make_data_periodic_writes_labelled_cells_and_a_summary(tmp_path, one_thread):
    out = tmp_path / "p.extxyz.xz"
    assert (
        main(["make-data", "periodic", "--n", "2", "--chunk", "1", "--quiet", "--out", str(out)])
        == 0
    )
    frames = ase.io.read(out, ":")
    assert len(frames) == 2 and all(a.pbc.all() for a in frames)
    assert frames[0].get_stress().shape == (6,) and frames[0].get_forces().shape[1] == 3
    summary = json.loads((tmp_path / "p.json").read_text())
    assert summary["set"] == "periodic" and summary["structures"] == 2
    # the command reruns into the same file: --out is recorded when it is not the default
    assert summary["command"] == f"muse-explore make-data periodic --n 2 --seed 2 --out {out}"
    two = tmp_path / "two.extxyz"  # two worker processes write the same file
    args = ["make-data", "periodic", "--n", "2", "--chunk", "1", "--quiet", "--jobs", "2"]
    assert main([*args, "--out", str(two)]) == 0
    for x, y in zip(ase.io.read(two, ":"), frames, strict=True):
        assert x.get_potential_energy() == pytest.approx(y.get_potential_energy(), abs=1e-9)
        np.testing.assert_allclose(x.get_stress(), y.get_stress(), atol=1e-9)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "data.json"], "--out data.json: give an extxyz file name"),
        (["--out", "data.xz"], "--out data.xz: give an extxyz file name"),
        (["--seed", "-1"], "argument --seed: must be 0 or more, got -1"),
        (["--n", "0"], "argument --n: must be at least 1, got 0"),
    ],
)
def test_bad_arguments_are_named_before_any_work(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["make-data", "periodic", "--quiet", *args])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    assert code == 2 and message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["graphene", "scans"])
def test_graphene_jobs_build_triples_and_scans(name):
    from muse_explore.cli.make_data import jobs

    specs, build, stress = jobs(name, 1, 0)
    frames = build(specs[0])
    assert not stress
    parts = [a.info["part"] for a in frames]
    assert parts.count("flake") == 1 and parts.count("molecule") == 1
    assert parts.count("complex") == (1 if name == "graphene" else 22)
    _same_frames(pickle.loads(pickle.dumps(build))(specs[0]), frames)  # as --jobs workers get it


def _same_frames(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.get_chemical_symbols() == y.get_chemical_symbols() and x.info == y.info
        np.testing.assert_array_equal(x.positions, y.positions)


@pytest.mark.parametrize(
    "name",
    [
        "thermal",
        "thermal-contact",
        "thermal-coronene",
        "thermal-ribbon",
        "curvature",
        "rattled",
        "thermal-rattled",
    ],
)
def test_thermal_jobs_use_the_shipped_minima(name, monkeypatch):
    from pathlib import Path

    from muse_explore.cli.make_data import MINIMA, jobs
    from muse_explore.reference import minima

    def refuse(*args):
        raise AssertionError("a shipped minimum was recomputed")

    monkeypatch.setattr(minima, "_compute", refuse)
    folder = Path(__file__).resolve().parents[2] / MINIMA
    specs, build, stress = jobs(name, 3, 0, folder)
    frames = build(specs[-1])
    assert not stress and len(specs) == 3
    assert [a.info["part"] for a in frames] == ["complex", "flake", "molecule"]
    flake_atoms = {"thermal-coronene": 36, "thermal-ribbon": 92}.get(name, 72)  # else C54H18
    assert len(frames[1]) == flake_atoms and frames[0].info["set"].startswith("graphene-")
    _same_frames(pickle.loads(pickle.dumps(build))(specs[-1]), frames)  # as --jobs workers get it


def test_the_rattled_training_draw_is_not_the_rattled_test_set():
    from pathlib import Path

    from muse_explore.cli.make_data import DEFAULTS, MINIMA, jobs

    folder = Path(__file__).resolve().parents[2] / MINIMA
    draws = {}
    for name in ("rattled", "thermal-rattled"):
        specs, _, _ = jobs(name, 20, DEFAULTS[name]["seed"], folder)
        assert {s["rattle"] for s in specs} == {0.05}
        draws[name] = {s["sample_seed"] for s in specs}
    assert DEFAULTS["rattled"]["seed"] != DEFAULTS["thermal-rattled"]["seed"]
    assert not draws["rattled"] & draws["thermal-rattled"]
