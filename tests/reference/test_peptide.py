import numpy as np
import pytest
import scipy.sparse as sp
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from scipy.sparse.csgraph import shortest_path

from muse_explore.reference.peptide import (
    BONDS,
    PeptideLangevin,
    alanine_peptide,
    backbone_indices,
    dihedral_angles,
    peptide_bonds,
    peptide_md,
    residue_of_atoms,
)

CONFORMATIONS = ["extended", "helix", "ppii", "c7"]

#: Ala 28 of ubiquitin (PDB 1UBQ): N, CA, C, CB of a real L-alanine.
UBQ_ALA28 = np.array(
    [
        [37.499, 25.743, 14.571],
        [38.794, 25.761, 13.880],
        [38.728, 26.591, 12.611],
        [39.285, 24.336, 13.566],
    ]
)


def chirality(n, ca, c, cb):
    """Signed volume (N - CA) . [(C - CA) x (CB - CA)]: positive for L (S) alanine."""
    return np.dot(n - ca, np.cross(c - ca, cb - ca))


def wrapped(a, b):
    return (np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0


def expected_bond_lengths(n):
    """Standard length of every bond of peptide_bonds(n), by role."""
    idx = backbone_indices(n)
    role = {}
    for k in idx["N"][:-1]:
        role[k, k + 1] = "N-H"
        role[k, k + 2] = "N-CA"
        role[k + 2, k + 3] = role[k + 4, k + 5] = role[k + 4, k + 6] = "C-H"
        role[k + 4, k + 7] = "C-H"
        role[k + 2, k + 4] = "CA-CB"
        role[k + 2, k + 8] = "CA-C"
        role[k + 8, k + 9] = "C=O"
        role[k + 8, k + 10] = "C-N"
    role[0, 1] = role[0, 2] = role[0, 3] = "C-H"
    role[0, 4], role[4, 5], role[4, 6] = "CH3-C", "C=O", "C-N"
    m = idx["N"][-1]
    role[m, m + 1], role[m, m + 2] = "N-H", "N-CH3"
    role[m + 2, m + 3] = role[m + 2, m + 4] = role[m + 2, m + 5] = "C-H"
    return np.array([BONDS[role[tuple(b)]] for b in peptide_bonds(n)])


@pytest.mark.parametrize("n", [1, 2, 6, 10])
def test_atom_count_formula_and_placement(n):
    atoms = alanine_peptide(n)
    assert len(atoms) == 10 * n + 12
    formula = f"C{3 * n + 3}H{5 * n + 7}N{n + 1}O{n + 1}"
    assert atoms.get_chemical_formula(mode="hill") == formula
    np.testing.assert_allclose(atoms.positions.mean(0), 0.0, atol=1e-12)
    assert not atoms.pbc.any() and atoms.cell.rank == 0
    assert atoms.info["n_residues"] == n
    assert atoms.info["backbone"] == backbone_indices(n)
    idx = backbone_indices(n)
    for key, element in [("N", "N"), ("H", "H"), ("CA", "C"), ("C", "C"), ("O", "O"), ("CB", "C")]:
        assert set(atoms[idx[key]].get_chemical_symbols()) == {element}
    assert len(peptide_bonds(n)) == len(atoms) - 1  # a tree: no rings


@pytest.mark.parametrize("n", [1, 2, 5])
def test_each_atom_has_its_residue(n):
    atoms, res = alanine_peptide(n), residue_of_atoms(n)
    assert len(res) == len(atoms)
    assert np.bincount(res).tolist() == [6] + [10] * n + [6]  # caps CH3-C=O, N-H-CH3
    idx = backbone_indices(n)
    for i in range(n):  # each alanine holds its own backbone atoms and side chain
        for key in ("N", "H", "CA", "HA", "CB"):
            assert res[idx[key][i]] == i + 1
        assert res[idx["C"][i + 1]] == res[idx["O"][i + 1]] == i + 1
    assert res[idx["C"][0]] == res[idx["CH3"][0]] == 0 and res[idx["N"][n]] == n + 1
    assert (np.diff(res) >= 0).all()
    with pytest.raises(ValueError, match="n must be >= 1"):
        residue_of_atoms(0)


@pytest.mark.parametrize("conformation", CONFORMATIONS)
def test_geometry_is_standard_and_clash_free(conformation):
    n = 6
    atoms = alanine_peptide(n, conformation=conformation)
    bonds = peptide_bonds(n)
    d = atoms.get_all_distances()
    np.testing.assert_allclose(d[bonds[:, 0], bonds[:, 1]], expected_bond_lengths(n), atol=0.05)
    graph = sp.coo_matrix(
        (np.ones(len(bonds)), (bonds[:, 0], bonds[:, 1])), shape=(len(atoms),) * 2
    )
    hops = shortest_path(graph, directed=False, unweighted=True)
    assert np.isfinite(hops).all()  # one connected molecule
    # Every non-bonded pair: the closest are 1-3 pairs, geminal H-H of a tetrahedral methyl
    # (1.78 Å) and H-N-C (2.02 Å); anything nearer than 1.7 / 1.9 Å would be a build error.
    hh = np.outer(atoms.numbers == 1, atoms.numbers == 1)
    nonbonded = hops >= 2
    assert d[nonbonded & hh].min() > 1.7
    assert d[nonbonded & ~hh].min() > 1.9
    # pairs 3+ bonds apart are steric contacts: none shorter than an H-bond or an H···H contact
    assert d[hops >= 3].min() > 2.0


@pytest.mark.parametrize("conformation", CONFORMATIONS)
def test_every_alpha_carbon_is_l(conformation):
    reference = chirality(*UBQ_ALA28)
    assert reference > 0
    atoms = alanine_peptide(6, conformation=conformation)
    idx = backbone_indices(6)
    pos = atoms.positions
    for n, ca, c, cb in zip(idx["N"], idx["CA"], idx["C"][1:], idx["CB"], strict=False):
        assert np.sign(chirality(pos[n], pos[ca], pos[c], pos[cb])) == np.sign(reference)


@pytest.mark.parametrize(
    "kwargs, phi, psi",
    [
        ({"conformation": "extended"}, -135.0, 135.0),
        ({"conformation": "helix"}, -57.0, -47.0),
        ({"conformation": "ppii"}, -75.0, 145.0),
        ({"phi": -180.0, "psi": 180.0}, -180.0, 180.0),
        ({"conformation": "helix", "psi": 160.0}, -57.0, 160.0),
        (
            {"phi": [-60, -70, 50, -80], "psi": (170, -40, 40, 0)},
            [-60, -70, 50, -80],
            [170, -40, 40, 0],
        ),
    ],
)
def test_dihedral_angles_round_trip(kwargs, phi, psi):
    atoms = alanine_peptide(4, **kwargs)
    got_phi, got_psi = dihedral_angles(atoms)
    assert got_phi.shape == got_psi.shape == (4,)
    np.testing.assert_allclose(wrapped(got_phi, phi), 0.0, atol=1e-6)
    np.testing.assert_allclose(wrapped(got_psi, psi), 0.0, atol=1e-6)
    # without info (a frame read back from a bare file) the atom count fixes n
    atoms.info.clear()
    np.testing.assert_allclose(wrapped(dihedral_angles(atoms)[0], phi), 0.0, atol=1e-6)


def test_dihedral_sign_convention_matches_a_real_helix():
    # 1UBQ Lys27 C, Ala28 N CA C, Lys29 N: helical residue, phi ~ -66, psi ~ -38
    from muse_explore.reference.peptide import _dihedrals

    pos = np.array(
        [
            [36.975, 26.826, 15.107],
            *UBQ_ALA28[:3],
            [37.633, 26.543, 11.867],
        ]
    )
    phi, psi = _dihedrals(pos, np.array([[0, 1, 2, 3], [1, 2, 3, 4]]))
    assert phi == pytest.approx(-66.1, abs=0.1) and psi == pytest.approx(-38.1, abs=0.1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": 0},
        {"n": -2},
        {"n": 3, "phi": [-60.0, -60.0]},
        {"n": 3, "psi": [1.0, 2.0, 3.0, 4.0]},
        {"n": 2, "phi": [[1.0, 2.0]]},
        {"n": 2, "conformation": "sheet"},
    ],
)
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError, match="n|phi|psi|conformation"):
        alanine_peptide(**kwargs)


class CountingEMT(EMT):
    calls = 0

    def calculate(self, *args, **kwargs):
        type(self).calls += 1
        super().calculate(*args, **kwargs)


def test_md_labels_are_the_md_forces_without_recomputation():
    atoms = alanine_peptide(1)
    CountingEMT.calls = 0
    seen = []
    frames = peptide_md(
        atoms, CountingEMT(), temperature=300.0, steps=12, sample_every=4, progress=seen.append
    )
    assert CountingEMT.calls == 12 + 1  # one force call per step plus the initial one
    assert seen == list(range(1, 13))
    assert [f.info["md_step"] for f in frames] == [4, 8, 12]
    assert np.allclose(atoms.positions, alanine_peptide(1).positions)  # input untouched
    for frame in frames:
        assert isinstance(frame.calc, SinglePointCalculator)
        assert not frame.constraints
        fresh = frame.copy()
        fresh.calc = EMT()
        assert frame.get_potential_energy() == pytest.approx(
            fresh.get_potential_energy(), abs=1e-10
        )
        np.testing.assert_allclose(frame.get_forces(), fresh.get_forces(), atol=1e-10)


def test_md_resumed_from_its_state_continues_the_same_trajectory():
    import json

    atoms = alanine_peptide(1)
    whole = peptide_md(atoms, EMT(), temperature=300.0, steps=12, sample_every=4, seed=3)
    md = PeptideLangevin(atoms, EMT(), temperature=300.0, seed=3)
    first = md.run(6, sample_every=4)
    state = json.loads(json.dumps(md.state()))  # as a checkpoint file holds it
    assert state["step"] == 6
    resumed = PeptideLangevin(atoms, EMT(), temperature=300.0, seed=3, state=state)
    rest = resumed.run(6, sample_every=4)
    frames = first + rest
    assert [f.info["md_step"] for f in frames] == [4, 8, 12]
    for frame, twin in zip(frames, whole, strict=True):
        np.testing.assert_allclose(frame.positions, twin.positions, atol=1e-12)
        np.testing.assert_allclose(frame.get_momenta(), twin.get_momenta(), atol=1e-12)
    # a different seed's noise is a different trajectory, also when resumed
    other = PeptideLangevin(atoms, EMT(), temperature=300.0, seed=4, state=state).run(6)
    assert not np.allclose(other[-1].positions, rest[-1].positions)


def test_md_state_of_another_structure_is_refused():
    md = PeptideLangevin(alanine_peptide(1), EMT(), temperature=300.0)
    with pytest.raises(ValueError, match=r"\(22, 3\) positions.*has 32 atoms"):
        PeptideLangevin(alanine_peptide(2), EMT(), state=md.state())


def test_md_validates_arguments():
    with pytest.raises(ValueError, match="sample_every"):
        peptide_md(alanine_peptide(1), EMT(), steps=2, sample_every=0)
    with pytest.raises(ValueError, match="steps"):
        peptide_md(alanine_peptide(1), EMT(), steps=-1)


@pytest.fixture
def one_openmp_thread():
    """tblite and torch share one libgomp, so conftest's torch.set_num_threads(2) also sets
    GFN2-xTB's OpenMP threads; on a small shared machine that is ~100x slower (1.8 s vs
    0.02 s per force call here)."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_md_gfn2_xtb_is_reproducible(one_openmp_thread):
    tblite = pytest.importorskip("tblite.ase")

    def run(seed):
        return peptide_md(
            alanine_peptide(2),
            tblite.TBLite(method="GFN2-xTB", verbosity=0),
            temperature=500.0,
            steps=20,
            sample_every=5,
            seed=seed,
        )

    frames, again, other = run(0), run(0), run(1)
    assert len(frames) == 4
    assert [f.info["md_step"] for f in frames] == [5, 10, 15, 20]
    for frame, twin in zip(frames, again, strict=True):
        assert frame.get_forces().shape == (32, 3)
        assert np.isfinite(frame.get_forces()).all()
        assert np.isfinite(frame.get_potential_energy())
        assert frame.info["temperature_K"] == 500.0
        assert frame.info["kinetic_temperature_K"] > 0
        np.testing.assert_array_equal(frame.positions, twin.positions)
        assert frame.get_potential_energy() == twin.get_potential_energy()
    assert not np.allclose(frames[-1].positions, other[-1].positions)
    # the stored labels belong to the stored geometry (up to the SCF tolerance: the MD's SCF
    # starts from the previous step's wavefunction, a fresh one from scratch)
    fresh = frames[-1].copy()
    fresh.calc = tblite.TBLite(method="GFN2-xTB", verbosity=0)
    np.testing.assert_allclose(fresh.get_forces(), frames[-1].get_forces(), atol=2e-3)
    assert fresh.get_potential_energy() == pytest.approx(
        frames[-1].get_potential_energy(), abs=1e-6
    )
