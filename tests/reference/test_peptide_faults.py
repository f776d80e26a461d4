"""The peptide-faults draws: one hydrogen turned about its parent to a contact or a folded angle."""

import numpy as np
import pytest

from muse_explore.analysis import geometry_faults
from muse_explore.reference.peptide import alanine_peptide, bond_hops, peptide_bonds
from muse_explore.reference.peptide_faults import (
    CONTACT_RANGE,
    FOLDED_RANGE,
    MIN_OTHER,
    bend_toward,
    build_fault_frames,
    fault_specs,
)
from muse_explore.reference.peptide_segments import LENGTHS


@pytest.fixture(scope="module")
def specs():
    return fault_specs(48, seed=6)


def test_draws_cover_every_length_both_kinds_and_depend_on_the_seed_alone(specs):
    assert {s["residues"] for s in specs} == set(LENGTHS)
    assert [s["fault"] for s in specs[:4]] == ["contact", "folded angle"] * 2
    assert fault_specs(48, seed=6) == specs
    assert fault_specs(48, seed=7) != specs
    with pytest.raises(ValueError, match="n must be"):
        fault_specs(0)


def test_each_draw_moves_one_hydrogen_about_its_parent_to_its_target(specs):
    for s in specs:
        frame = build_fault_frames(s)[0]
        chain = alanine_peptide(s["residues"], phi=s["phi"], psi=s["psi"])
        h, p, q = s["atoms"]
        hops = bond_hops(peptide_bonds(s["residues"]), len(chain))
        assert frame.numbers[h] == 1 and hops[h, p] == 1
        moved = np.flatnonzero(np.abs(frame.positions - chain.positions).max(1) > 1e-9)
        assert moved.tolist() == [h]  # nothing else moves
        assert frame.get_distance(h, p) == pytest.approx(chain.get_distance(h, p), abs=1e-9)
        assert frame.get_distance(h, q) == pytest.approx(s["target"], abs=1e-4)
        others = np.delete(frame.get_distances(h, range(len(frame))), [h, p, q])
        assert others.min() >= MIN_OTHER
        if s["fault"] == "contact":
            assert hops[h, q] > 2 and CONTACT_RANGE[0] <= s["target"] <= CONTACT_RANGE[1]
        else:
            assert hops[h, q] == 2 and hops[p, q] == 1
            fraction = s["target"] / chain.get_distance(h, q)
            assert FOLDED_RANGE[0] - 1e-3 <= fraction <= FOLDED_RANGE[1] + 1e-3
        assert frame.info["fault_atoms"] == [h, q] and frame.info["part"] == "peptide"


def test_contacts_are_faults_the_folding_check_sees(specs):
    """Every contact draw is a geometry fault by the folding benchmark's own measure."""
    for s in specs:
        if s["fault"] != "contact":
            continue
        frame = build_fault_frames(s)[0]
        start = alanine_peptide(s["residues"], conformation="extended")
        faults = geometry_faults(frame, peptide_bonds(s["residues"]), start)
        h, _, q = s["atoms"]
        if s["target"] < 1.4:
            assert (min(h, q), max(h, q)) in [f["atoms"] for f in faults]


def test_bend_toward_is_exact_and_refuses_what_it_cannot_reach():
    water = np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]])  # O, H, H
    far = np.vstack([water, [[-3.0, 1.0, 0.0]]])
    out = bend_toward(far, 1, 0, 3, 2.5)
    assert np.linalg.norm(out[1] - out[3]) == pytest.approx(2.5)
    assert np.linalg.norm(out[1] - out[0]) == pytest.approx(0.96)
    assert np.allclose(out[[0, 2, 3]], far[[0, 2, 3]])
    assert out[1, 2] == pytest.approx(0.0)  # stays in the plane of h, p and q
    with pytest.raises(ValueError, match="out of reach"):
        bend_toward(far, 1, 0, 3, 1.0)  # closer than |p - q| - |h - p|
    with pytest.raises(ValueError, match="out of reach"):
        bend_toward(far, 1, 0, 3, 5.0)  # farther than it is now: that is not a bend toward
    line = np.array([[0.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="collinear"):
        bend_toward(line, 1, 0, 2, 3.5)


def test_a_draw_is_labelled_by_a_gfn2_single_point(tmp_path):
    pytest.importorskip("tblite")
    from ase.io import read

    from muse_explore.reference.generate import generate

    spec = next(s for s in fault_specs(12, seed=6) if s["residues"] == 4)
    out = tmp_path / "faults.extxyz"
    generate([spec], build_fault_frames, out, chunk=1, progress=False)
    (frame,) = read(out, ":")
    assert frame.info["set"] == "peptide-faults" and len(frame) == 52
    assert frame.get_forces().shape == (52, 3) and np.isfinite(frame.get_potential_energy())
    # the fault costs energy: the undistorted chain is lower
    from muse_explore.reference.xtb import single_point

    chain = single_point(alanine_peptide(4, phi=spec["phi"], psi=spec["psi"]))
    assert frame.get_potential_energy() > chain.get_potential_energy() + 0.1
