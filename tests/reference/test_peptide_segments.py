"""The peptide-segments draws (lengths, segments, no clashes) and one labelled draw."""

import numpy as np
import pytest

from muse_explore.reference.peptide import dihedral_angles, peptide_bonds
from muse_explore.reference.peptide_segments import (
    BASINS,
    KEEP,
    LENGTHS,
    MIN_DISTANCE,
    MIN_SEGMENT,
    build_segment_frames,
    segment_specs,
)


@pytest.fixture(scope="module")
def specs():
    return segment_specs(72, seed=5)


def test_every_length_gets_the_same_number_of_draws(specs):
    counts = {n: sum(s["residues"] == n for s in specs) for n in LENGTHS}
    assert set(counts.values()) == {72 // len(LENGTHS)}
    assert segment_specs(72, seed=5) == specs  # a function of the seed alone
    assert segment_specs(72, seed=6) != specs


def test_segments_are_long_enough_and_neighbours_differ(specs):
    seen = set()
    for s in specs:
        basins, bounds = s["segments"].split("-"), s["bounds"]
        assert bounds[0] == 0 and bounds[-1] == s["residues"] and len(bounds) == len(basins) + 1
        assert min(np.diff(bounds)) >= MIN_SEGMENT
        assert all(a != b for a, b in zip(basins, basins[1:], strict=False))
        segs = zip(basins, bounds[:-1], bounds[1:], strict=True)
        helix = sum(hi - lo for b, lo, hi in segs if b == "helix")
        assert s["helix_fraction"] == pytest.approx(helix / s["residues"])
        seen.update(basins)
    assert seen == set(BASINS)  # all three basins, pure and mixed chains
    assert any(s["segments"] == "helix" for s in specs)
    assert any(len(s["segments"].split("-")) == 3 for s in specs)


def test_the_drawn_dihedrals_are_the_built_ones_and_no_chain_runs_into_itself(specs):
    from muse_explore.reference.peptide import alanine_peptide, bond_hops

    for s in specs[:24]:
        atoms = alanine_peptide(s["residues"], phi=s["phi"], psi=s["psi"])
        for built, drawn in zip(dihedral_angles(atoms), (s["phi"], s["psi"]), strict=True):
            assert np.abs((built - np.array(drawn) + 180.0) % 360.0 - 180.0).max() < 1e-6
        far = bond_hops(peptide_bonds(s["residues"]), len(atoms)) > 3
        assert atoms.get_all_distances()[far].min() >= MIN_DISTANCE


def test_a_draw_is_relaxed_briefly_and_its_frames_carry_gfn2_labels():
    pytest.importorskip("tblite")
    from muse_explore.reference.xtb import single_point

    spec = next(s for s in segment_specs(12, seed=5) if s["residues"] == 4)
    frames = build_segment_frames(spec)
    steps = [f.info["relax_step"] for f in frames]
    assert steps == sorted(steps) and steps[0] == KEEP[0] and len(frames) >= 2
    energies = [f.get_potential_energy() for f in frames]
    assert energies[-1] < energies[0]  # BFGS goes downhill
    assert all(f.info["n_residues"] == 4 and f.info["part"] == "peptide" for f in frames)
    assert len(frames[0]) == 52 and frames[0].get_forces().shape == (52, 3)
    # the stored labels are GFN2-xTB's at that geometry (a fresh single point agrees)
    again = single_point(frames[-1])
    assert again.get_potential_energy() == pytest.approx(energies[-1], abs=1e-5)
    assert np.abs(again.get_forces() - frames[-1].get_forces()).max() < 1e-3
