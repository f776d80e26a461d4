import numpy as np
import pytest
from ase import Atoms
from ase.io import read, write

from muse_explore.analysis import (
    backbone_hbonds,
    backbone_indices,
    c7_fraction,
    count_backbone_hbonds,
    end_to_end_distance,
    helix_fraction,
    peptide_indices,
    radius_of_gyration,
    residue_basins,
)
from muse_explore.reference.peptide import alanine_peptide


def separations(atoms, hbonds):
    """Residues spanned by each H-bond: N[k] donating to O[m] spans k + 1 - m."""
    idx = backbone_indices(atoms.info["n_residues"])
    return [idx["N"].index(n) + 1 - idx["O"].index(o) for n, _, o in hbonds]


@pytest.fixture(scope="module")
def shapes():
    return {c: alanine_peptide(6, conformation=c) for c in ("extended", "helix", "ppii")}


def test_helix_has_i_to_i_plus_4_hbonds_and_extended_none(shapes):
    helix = shapes["helix"]
    hbonds = backbone_hbonds(helix)
    # Ac-(Ala)6-NHMe: O(Ace), O1, O2, O3 accept from N4, N5, N6, N(NMe)
    assert count_backbone_hbonds(helix) == len(hbonds) == 4
    assert set(separations(helix, hbonds)) == {4}
    idx = backbone_indices(6)
    for n, h, o in hbonds:
        assert idx["H"][idx["N"].index(n)] == h and o in idx["O"]
        assert helix.get_distance(h, o) <= 2.5 and helix.get_angle(n, h, o) >= 120.0
    assert count_backbone_hbonds(shapes["extended"]) == 0
    assert count_backbone_hbonds(shapes["ppii"]) == 0
    # the fully extended chain's C5 contacts fail the angle cut, not the distance cut
    flat = alanine_peptide(6, phi=-180.0, psi=180.0)
    assert count_backbone_hbonds(flat) == 0
    assert count_backbone_hbonds(flat, min_angle=90.0) == 6


def test_hbond_criteria():
    three_ten = alanine_peptide(6, phi=-49.0, psi=-26.0)
    assert set(separations(three_ten, backbone_hbonds(three_ten))) == {3}
    helix = alanine_peptide(6, conformation="helix")
    assert count_backbone_hbonds(helix, max_ho=1.5) == 0
    assert count_backbone_hbonds(helix, min_angle=179.0) == 0
    assert count_backbone_hbonds(helix, max_ho=3.0, min_angle=100.0) > 4  # adds i -> i+3


def test_extended_is_longer_and_larger(shapes):
    ext, helix, ppii = shapes["extended"], shapes["helix"], shapes["ppii"]
    assert end_to_end_distance(ext) > end_to_end_distance(ppii) > end_to_end_distance(helix)
    assert end_to_end_distance(ext) > 2 * end_to_end_distance(helix)
    assert radius_of_gyration(ext) > radius_of_gyration(helix)
    idx = backbone_indices(6)
    assert end_to_end_distance(ext) == pytest.approx(ext.get_distance(idx["C"][0], idx["N"][-1]))
    assert (idx["C"][0], idx["N"][-1]) == (4, 66)


def test_radius_of_gyration():
    two = Atoms("CO", positions=[[0, 0, 0], [0, 0, 3.0]])
    assert radius_of_gyration(two) == pytest.approx(1.5)
    peptide = alanine_peptide(3, conformation="ppii")
    moved = peptide.copy()
    moved.rotate(37, (1, 2, 3))
    moved.translate((5.0, -2.0, 1.0))
    assert radius_of_gyration(moved) == pytest.approx(radius_of_gyration(peptide))
    heavy = peptide[peptide.numbers > 1]
    assert radius_of_gyration(peptide) == pytest.approx(radius_of_gyration(heavy, heavy_only=False))
    assert radius_of_gyration(peptide, heavy_only=False) != radius_of_gyration(peptide)


def test_frames_read_back_or_without_info(shapes, tmp_path):
    helix = shapes["helix"]
    path = tmp_path / "frames.extxyz"
    write(path, [helix, shapes["extended"]])
    back = read(path, index=":")
    bare = helix.copy()
    bare.info.clear()
    assert peptide_indices(back[0]) == peptide_indices(bare) == backbone_indices(6)
    for frame in (back[0], bare):
        assert backbone_hbonds(frame) == backbone_hbonds(helix)
        assert end_to_end_distance(frame) == pytest.approx(end_to_end_distance(helix))
    assert count_backbone_hbonds(back[1]) == 0


def test_wrong_atom_count_raises():
    with pytest.raises(ValueError, match="10 n \\+ 12"):
        end_to_end_distance(Atoms("H5", positions=np.zeros((5, 3))))
    with pytest.raises(ValueError, match="n_residues"):
        backbone_hbonds(alanine_peptide(2)[:-1])
    with pytest.raises(ValueError, match="n must be"):
        backbone_indices(0)


def test_helix_fraction_counts_residues_in_the_alpha_basin(shapes):
    assert helix_fraction(shapes["helix"]) == 1.0
    assert helix_fraction(shapes["extended"]) == 0.0
    assert helix_fraction(shapes["ppii"]) == 0.0
    # half helix, half strand: the fraction follows the residues that turned
    mixed = alanine_peptide(6, phi=[-57.0] * 3 + [-135.0] * 3, psi=[-47.0] * 3 + [135.0] * 3)
    assert helix_fraction(mixed) == pytest.approx(0.5)
    # the left-handed helix is not the right-handed α basin
    assert helix_fraction(alanine_peptide(6, phi=57.0, psi=47.0)) == 0.0


def test_c7_fraction_counts_residues_in_the_gamma_turn_basin(shapes):
    assert c7_fraction(alanine_peptide(6, conformation="c7")) == 1.0
    for conformation in ("helix", "extended", "ppii"):
        assert c7_fraction(shapes[conformation]) == 0.0
    # two γ turns in a strand of six, and the mirror image (C7ax side, φ > 0) is not C7eq
    mixed = alanine_peptide(6, phi=[-83.0] * 2 + [-135.0] * 4, psi=[69.0] * 2 + [135.0] * 4)
    assert c7_fraction(mixed) == pytest.approx(2 / 6)
    assert c7_fraction(alanine_peptide(6, phi=83.0, psi=-69.0)) == 0.0


def test_residue_basins_name_each_residue(shapes):
    for conformation, name in (("helix", "helix"), ("ppii", "ppii"), ("extended", "strand")):
        assert residue_basins(shapes[conformation]) == [name] * 6
    # the flat C5 region, past ψ = 180°, is still the strand
    c5 = alanine_peptide(4, phi=[-160.0, -165.0, -160.0, -170.0], psi=[170.0, -175.0, 180.0, 160.0])
    assert residue_basins(c5) == ["strand"] * 4
    # past φ = 180° too (the fully extended chain), and PPII past ψ = 180°
    wrapped = alanine_peptide(3, phi=[179.0, -75.0, -75.0], psi=[174.0, -179.0, 179.0])
    assert residue_basins(wrapped) == ["strand", "ppii", "ppii"]
    # mixed segments, residue by residue, and the left-handed helix is none of the three
    mixed = alanine_peptide(
        6,
        phi=[-57.0, -57.0, -75.0, -135.0, 57.0, -135.0],
        psi=[-47.0, -47.0, 145.0, 135.0, 47.0, 135.0],
    )
    assert residue_basins(mixed) == ["helix", "helix", "ppii", "strand", "other", "strand"]
