import numpy as np
import pytest
import torch

from muse_explore.errors import MuSEInputError
from muse_explore.explore import ScanSetup, interaction_curves, read_molecule, scan_frames
from muse_explore.testing import interaction_energy


def test_scan_frames_move_only_the_molecule():
    setup = ScanSetup(molecule="pyridine", rings=1, offset=(0.5, -0.3), rotation=30, tilt=10,
                      distances=np.linspace(3.0, 9.0, 7))  # fmt: skip
    flake, mol, complexes = scan_frames(setup)
    n = len(flake)
    assert len(complexes) == 7
    for d, c in zip(setup.distances, complexes, strict=True):
        np.testing.assert_allclose(c.positions[:n], flake.positions)
        assert c.positions[n:, 2].mean() - flake.positions[:, 2].mean() == pytest.approx(d)
        np.testing.assert_allclose(c.positions[n:, :2], mol.positions[:, :2])


def test_interaction_curves_equal_the_calculator(model):
    from muse_explore.calc import MuSECalculator

    setup = ScanSetup(molecule="benzene", rings=1, distances=[3.2, 6.0, 12.0])
    c = interaction_curves({"m": model, "base": model.backbone_only()}, setup, dtype=torch.float64)
    calc = MuSECalculator(model, dtype="float64")
    for d, e in zip(c["distances"], c["m"]["e_int"], strict=True):
        _, _, (cx,) = scan_frames(ScanSetup(molecule="benzene", rings=1, distances=[d]))
        assert e == pytest.approx(interaction_energy(calc, cx, len(cx) - 12), abs=1e-8)
    np.testing.assert_allclose(c["m"]["scales"].sum(axis=0), c["m"]["e_int"], atol=1e-10)
    assert c["base"]["e_int"][1:] == pytest.approx([0.0, 0.0], abs=1e-10)  # beyond 5 Å


def test_bad_scans_and_uploads():
    with pytest.raises(MuSEInputError, match="below 1.5"):
        ScanSetup(distances=[1.0, 3.0])
    with pytest.raises(MuSEInputError, match="unknown molecule"):
        ScanSetup(molecule="caffeine").molecule_atoms()
    with pytest.raises(MuSEInputError, match=r"\.xyz or \.extxyz"):
        read_molecule(b"", "mol.pdb")
    with pytest.raises(MuSEInputError, match="not a readable xyz"):
        read_molecule(b"3\nwater\nO 0 0 0\nH 1 0\n", "w.xyz")
    with pytest.raises(MuSEInputError, match="w.xyz: the file is empty"):
        read_molecule(b"", "w.xyz")
    with pytest.raises(MuSEInputError, match="w.xyz: NaN coordinates: atom 1"):
        read_molecule(b"3\nwater\nO 0 0 0\nH nan 0 0\nH -0.24 0.93 0\n", "w.xyz")
    with pytest.raises(MuSEInputError, match="not a text file"):
        read_molecule(b"\xff\xfe\x00", "w.xyz")
    water = read_molecule(b"3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n", "w.xyz")
    assert water.get_chemical_formula() == "H2O"
