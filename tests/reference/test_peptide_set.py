"""The peptide sets' run plans, and one short run of the peptide-lengths set."""

import itertools

import numpy as np
import pytest

from muse_explore.reference.peptide_set import (
    LENGTHS,
    STARTS,
    TEMPERATURES,
    length_run_specs,
    run_md,
    run_specs,
)


def test_the_length_plan_covers_every_length_and_start_once():
    specs = length_run_specs(18)
    pairs = [(s["residues"], s["start"]) for s in specs]
    assert sorted(pairs) == sorted(itertools.product(LENGTHS, STARTS))
    for n in LENGTHS:  # each length at every temperature
        assert {s["temperature"] for s in specs if s["residues"] == n} == set(TEMPERATURES)
    assert {s["temperature"] for s in specs} == set(TEMPERATURES)
    assert len({s["seed"] for s in specs}) == 18
    assert length_run_specs(18) == specs  # seeded
    assert length_run_specs(18, seed=5) != specs


def test_the_hexapeptide_plan_is_unchanged():
    specs = run_specs(6)
    assert {s["residues"] for s in specs} == {6}
    starts = ["extended", "helix", "ppii", "helix", "extended", "helix"]
    assert [s["start"] for s in specs] == starts


def test_a_short_run_labels_its_frames():
    pytest.importorskip("tblite")
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tblite shares torch's OpenMP threads (see test_peptide.py)
    try:
        spec = {**length_run_specs(1)[0], "steps": 4, "sample_every": 2, "set": "peptide-lengths"}
        frames = run_md(spec)
    finally:
        torch.set_num_threads(before)
    assert spec["residues"] == 4 and len(frames) == 2
    for f in frames:
        assert len(f) == 10 * 4 + 12
        assert f.info["set"] == "peptide-lengths" and f.info["n_residues"] == 4
        assert f.info["start"] == "extended" and f.info["part"] == "peptide"
        assert np.isfinite(f.get_forces()).all() and np.isfinite(f.get_potential_energy())
