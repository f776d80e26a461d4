"""The peptide-ramachandran draws: one or two residues of a chain moved anywhere on the map."""

import numpy as np
import pytest

from muse_explore.reference.peptide import (
    alanine_peptide,
    bond_hops,
    dihedral_angles,
    peptide_bonds,
)
from muse_explore.reference.peptide_ramachandran import (
    MIN_CONTACT,
    build_ramachandran_frames,
    ramachandran_specs,
)
from muse_explore.reference.peptide_segments import LENGTHS, segment_specs


@pytest.fixture(scope="module")
def specs():
    return ramachandran_specs(60, seed=7)


def test_draws_cover_every_length_and_depend_on_the_seed_alone(specs):
    assert {s["residues"] for s in specs} == set(LENGTHS)
    assert ramachandran_specs(60, seed=7) == specs
    assert ramachandran_specs(60, seed=8) != specs
    assert {len(s["moved"]) for s in specs} == {1, 2}
    with pytest.raises(ValueError, match="n must be"):
        ramachandran_specs(0)


def test_only_the_moved_residues_leave_their_segment_chain(specs):
    chains = segment_specs(60, seed=7)
    for s, chain in zip(specs, chains, strict=True):
        assert s["residues"] == chain["residues"] and s["segments"] == chain["segments"]
        kept = [i for i in range(s["residues"]) if i not in s["moved"]]
        assert np.allclose(np.array(s["phi"])[kept], np.array(chain["phi"])[kept])
        assert np.allclose(np.array(s["psi"])[kept], np.array(chain["psi"])[kept])
        # the built structure has the drawn angles (measured; info keeps 3 decimals)
        frame = build_ramachandran_frames(s)[0]
        phi, psi = dihedral_angles(frame)
        for i, a, b in zip(s["moved"], frame.info["moved_phi"], frame.info["moved_psi"],
                           strict=True):  # fmt: skip
            assert (phi[i] - a + 180) % 360 - 180 == pytest.approx(0, abs=1e-3)
            assert (psi[i] - b + 180) % 360 - 180 == pytest.approx(0, abs=1e-3)


def test_the_map_is_covered_beyond_the_basins_and_no_atoms_overlap():
    specs = ramachandran_specs(300, seed=7)
    angles = np.array([(s["phi"][i], s["psi"][i]) for s in specs for i in s["moved"]])
    # positive phi and phi near 0, where no other peptide set goes, are drawn
    assert (angles[:, 0] > 30).mean() > 0.3
    assert (np.abs(angles[:, 0]) < 30).sum() > 10
    for s in specs[:60]:
        frame = build_ramachandran_frames(s)[0]
        far = bond_hops(peptide_bonds(s["residues"]), len(frame)) > 2
        closest = frame.get_all_distances()[far].min()
        assert closest >= MIN_CONTACT and closest == pytest.approx(s["closest"], abs=1e-4)
        assert frame.info["part"] == "peptide" and frame.info["set"] == "peptide-ramachandran"


def test_a_draw_is_labelled_by_a_gfn2_single_point(tmp_path):
    pytest.importorskip("tblite")
    from ase.io import read

    from muse_explore.reference.generate import generate

    spec = next(s for s in ramachandran_specs(12, seed=7) if s["residues"] == 4)
    out = tmp_path / "rama.extxyz"
    generate([spec], build_ramachandran_frames, out, chunk=1, progress=False)
    (frame,) = read(out, ":")
    assert frame.info["set"] == "peptide-ramachandran" and len(frame) == 52
    assert frame.get_forces().shape == (52, 3) and np.isfinite(frame.get_potential_energy())
    assert np.allclose(frame.positions, build_ramachandran_frames(spec)[0].positions)
    assert alanine_peptide(4).get_chemical_formula() == frame.get_chemical_formula()
