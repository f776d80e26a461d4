"""The peptide-minima draws: mixed segment chains relaxed with GFN2-xTB to their minimum."""

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes

from muse_explore.reference.peptide_minima import (
    FMAX,
    KEEP,
    LENGTHS,
    build_minimum_frames,
    minima_specs,
)
from muse_explore.reference.peptide_segments import segment_specs


@pytest.fixture(scope="module")
def specs():
    return minima_specs(40, seed=8)


def test_every_length_gets_the_same_number_of_mixed_draws(specs):
    counts = {n: sum(s["residues"] == n for s in specs) for n in LENGTHS}
    assert set(counts.values()) == {4}
    assert [s["config"] for s in specs] == list(range(40))
    # no chain is all in one conformation (those, relaxed, are the benchmark's structures)
    assert all(len(s["segments"].split("-")) >= 2 for s in specs)
    assert minima_specs(40, seed=8) == specs and minima_specs(40, seed=9) != specs
    # an odd count spreads over the lengths to within one, the first lengths first
    odd = minima_specs(13, seed=8)
    assert [s["residues"] for s in odd] == [*LENGTHS, *LENGTHS[:3]]
    with pytest.raises(ValueError, match="n must be"):
        minima_specs(0)


def test_the_draws_are_segment_chains_of_their_seed(specs):
    pool = segment_specs(200, seed=8, lengths=LENGTHS)
    keyed = {(s["residues"], tuple(s["phi"])): s for s in pool}
    for s in specs:
        chain = keyed[s["residues"], tuple(s["phi"])]
        assert chain["psi"] == s["psi"] and chain["segments"] == s["segments"]


class _Springs(Calculator):
    """Harmonic springs to a fixed target geometry: a cheap surface with a known minimum."""

    implemented_properties = ("energy", "forces")

    def __init__(self, target, k=2.0):
        super().__init__()
        self.target, self.k = target, k
        self.calls = 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.calls += 1
        d = self.atoms.positions - self.target
        self.results = {"energy": 0.5 * self.k * (d**2).sum(), "forces": -self.k * d}


def test_a_draw_is_relaxed_to_the_benchmarks_criterion_and_kept_along_the_way(specs):
    from muse_explore.reference.peptide import alanine_peptide

    spec = specs[0]
    start = alanine_peptide(spec["residues"], phi=spec["phi"], psi=spec["psi"])
    rng = np.random.default_rng(0)
    # far enough from the start that BFGS (steps of at most 0.1 Å) needs more than 32 steps
    target = start.positions + rng.normal(scale=1.5, size=start.positions.shape)
    frames = build_minimum_frames(spec, calc=_Springs(target))
    steps = [f.info["relax_step"] for f in frames]
    assert steps[0] == KEEP[0] and steps == sorted(steps) and len(set(steps)) == len(steps)
    assert all(f.info["converged"] for f in frames)
    last = frames[-1]
    assert np.linalg.norm(last.get_forces(), axis=1).max() < FMAX
    energies = [f.get_potential_energy() for f in frames]
    assert energies == sorted(energies, reverse=True)  # downhill all the way
    assert all(f.info["set"] == "peptide-minima" and f.info["part"] == "peptide" for f in frames)
    assert all(f.info["segments"] == spec["segments"] for f in frames)
    # labels are the surface's own at each kept geometry
    for f in frames:
        d = f.positions - target
        assert f.get_potential_energy() == pytest.approx(0.5 * 2.0 * (d**2).sum())


def test_a_relaxation_that_runs_out_of_steps_says_so(specs, monkeypatch):
    import muse_explore.reference.peptide_minima as pm
    from muse_explore.reference.peptide import alanine_peptide

    monkeypatch.setattr(pm, "MAX_STEPS", 40)
    spec = specs[0]
    start = alanine_peptide(spec["residues"], phi=spec["phi"], psi=spec["psi"])
    target = start.positions + 20.0  # 35 Å away: 40 steps of 0.1 Å cannot get there
    frames = build_minimum_frames(spec, calc=_Springs(target))
    assert [f.info["relax_step"] for f in frames] == [32, 40]
    assert not any(f.info["converged"] for f in frames)


def test_a_draw_carries_gfn2_labels_at_its_minimum():
    pytest.importorskip("tblite")
    from muse_explore.reference.xtb import single_point

    spec = next(s for s in minima_specs(10, seed=8) if s["residues"] == 6)
    frames = build_minimum_frames(spec)
    last = frames[-1]
    assert last.info["converged"] and len(last) == 72
    assert np.linalg.norm(last.get_forces(), axis=1).max() < FMAX
    again = single_point(last)
    assert again.get_potential_energy() == pytest.approx(last.get_potential_energy(), abs=1e-5)
    assert np.abs(again.get_forces() - last.get_forces()).max() < 1e-3
