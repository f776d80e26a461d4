import numpy as np
import pytest
from ase.build import molecule

from muse_explore.analysis import geometry_faults
from muse_explore.reference.peptide import alanine_peptide, backbone_indices, peptide_bonds


def _benzene_bonds(atoms):
    d = atoms.get_all_distances()
    i, j = np.nonzero(np.triu((d > 0.5) & (d < 1.6), k=1))
    return np.c_[i, j]


@pytest.mark.parametrize("conformation", ["extended", "helix", "ppii"])
def test_built_peptides_have_no_faults_rattled_or_not(conformation):
    start = alanine_peptide(8, conformation="extended")
    frame = alanine_peptide(8, conformation=conformation)
    bonds = peptide_bonds(8)
    assert geometry_faults(frame, bonds, start) == []
    frame.rattle(0.05, seed=3)  # a thermal-size distortion
    assert geometry_faults(frame, bonds, start) == []


def test_benzene_exactly_symmetric_and_rattled_has_no_faults():
    benzene = molecule("C6H6")
    bonds = _benzene_bonds(benzene)
    assert len(bonds) == 12
    assert geometry_faults(benzene, bonds, benzene) == []
    rattled = benzene.copy()
    rattled.rattle(0.05, seed=1)
    assert geometry_faults(rattled, bonds, benzene) == []
    # squeeze two para hydrogens' ring together until the 1-3 C-C-C angle folds
    squeezed = benzene.copy()
    squeezed.positions[:, 0] *= 0.5
    kinds = {f["kind"] for f in geometry_faults(squeezed, bonds, benzene)}
    assert "folded angle" in kinds


def test_two_amide_hydrogens_pushed_together_are_a_contact():
    """What the folding runs showed: the N-H hydrogens of two neighbouring residues at 1.15 Å."""
    start = alanine_peptide(6, conformation="extended")
    frame = start.copy()
    idx = backbone_indices(6)
    a, b = idx["H"][2], idx["H"][3]
    u = frame.positions[a] - frame.positions[idx["N"][2]]  # beyond a, away from its own N
    frame.positions[b] = frame.positions[a] + 1.15 * u / np.linalg.norm(u)
    faults = geometry_faults(frame, peptide_bonds(6), start)
    assert faults[0]["kind"] == "contact"
    assert faults[0]["atoms"] == (a, b) and faults[0]["symbols"] == ("H", "H")
    assert faults[0]["distance"] == pytest.approx(1.15)
    assert faults[0]["limit"] == pytest.approx(1.4)
    # with a limit below the pair's distance it is no fault
    assert geometry_faults(frame, peptide_bonds(6), start, contact=1.1) == []


def test_a_folded_bond_angle_is_found_against_its_start():
    """The MuSE run's fault: an alpha hydrogen bent onto its residue's N (N-CA-HA)."""
    start = alanine_peptide(6, conformation="extended")
    frame = start.copy()
    idx = backbone_indices(6)
    n, ca, ha = idx["N"][3], idx["CA"][3], idx["HA"][3]
    d0 = start.get_distance(n, ha)
    # rotate HA about CA toward N until N...HA is 1.45 Å, CA-HA kept
    r = frame.positions[ha] - frame.positions[ca]
    to_n = frame.positions[n] - frame.positions[ca]
    for t in np.linspace(0.0, 1.0, 2001):
        v = (1 - t) * r / np.linalg.norm(r) + t * to_n / np.linalg.norm(to_n)
        frame.positions[ha] = frame.positions[ca] + np.linalg.norm(r) * v / np.linalg.norm(v)
        if frame.get_distance(n, ha) <= 1.45:
            break
    faults = geometry_faults(frame, peptide_bonds(6), start)
    folded = [f for f in faults if f["kind"] == "folded angle"]
    assert folded and folded[0]["atoms"] == tuple(sorted((n, ha)))
    assert folded[0]["limit"] == pytest.approx(0.75 * d0)
    assert d0 > 2.0  # the physical N...HA distance: the fault is not a thermal fluctuation


def test_bad_input_is_named():
    start = alanine_peptide(4)
    bonds = peptide_bonds(4)
    with pytest.raises(ValueError, match="not the same molecule"):
        geometry_faults(start, bonds, alanine_peptide(5))
    with pytest.raises(ValueError, match="n_bonds, 2"):
        geometry_faults(start, bonds[:, :1], start)
    with pytest.raises(ValueError, match="outside"):
        geometry_faults(start, bonds + len(start), start)
    bad = start.copy()
    bad.positions[3, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        geometry_faults(bad, bonds, start)
