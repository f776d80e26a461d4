import numpy as np
import pytest
from ase.build import molecule
from ase.io import write

import muse_explore as mx
from muse_explore.cli.hessian import parse_atoms
from muse_explore.cli.main import main
from muse_explore.errors import MuSEInputError


def test_parse_atoms():
    assert parse_atoms(None, 5) is None
    assert parse_atoms("0,3-4", 5) == [0, 3, 4]
    with pytest.raises(MuSEInputError, match=r"indices must be in 0..4"):
        parse_atoms("2-7", 5)
    with pytest.raises(MuSEInputError, match="ranges like"):
        parse_atoms("a-b", 5)
    with pytest.raises(MuSEInputError, match="runs backwards; write 1-3"):
        parse_atoms("3-1", 5)
    # a long range past the end names the first few, not all of them
    with pytest.raises(MuSEInputError, match=r"has 5 atoms\), got 5, 6, 7, 8, 9 and 91 more$"):
        parse_atoms("0-100", 5)


def test_hessian_command_prints_frequencies_and_saves(tmp_path, capsys):
    model = mx.build_model(levels=1, seed=0)
    model.save(tmp_path / "m.pt")
    write(tmp_path / "benzene.xyz", molecule("C6H6"))
    out = tmp_path / "h.npy"
    assert main(["hessian", str(tmp_path / "m.pt"), str(tmp_path / "benzene.xyz"),
                 "--atoms", "0-5", "--out", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "Hessian over 6 atom(s), 18×18 eV/Å²" in text and "frequencies" in text
    h = np.load(out)
    calc = mx.MuSECalculator(mx.load_model(tmp_path / "m.pt"), dtype="float64")
    np.testing.assert_allclose(h, mx.hessian(calc, molecule("C6H6"), indices=range(6)))


@pytest.mark.parametrize("suffix", [".txt", ".csv"])
def test_hessian_command_writes_text(tmp_path, capsys, suffix):
    model = mx.build_model(levels=1, seed=0)
    model.save(tmp_path / "m.pt")
    write(tmp_path / "water.xyz", molecule("H2O"))
    write(tmp_path / "вода.xyz", molecule("H2O"))  # the header names it: not latin-1
    out = tmp_path / f"h{suffix}"
    args = ["hessian", str(tmp_path / "m.pt"), str(tmp_path / "вода.xyz"), "--out", str(out)]
    assert main(args) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Hessian of ") and "вода.xyz" in text and "(9x9, eV/A^2;" in text
    h = np.loadtxt(out, delimiter="," if suffix == ".csv" else None)
    calc = mx.MuSECalculator(mx.load_model(tmp_path / "m.pt"), dtype="float64")
    np.testing.assert_allclose(h, mx.hessian(calc, molecule("H2O")), rtol=1e-9, atol=1e-12)


def test_hessian_command_refuses_another_file_type_before_computing(tmp_path, capsys):
    write(tmp_path / "water.xyz", molecule("H2O"))
    out = tmp_path / "h.pkl"
    assert main(["hessian", "no-such-model", str(tmp_path / "water.xyz"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--out " in err and "give a file ending in .npy, .txt, .csv (got '.pkl')" in err
    assert not out.exists()


def test_hessian_command_bad_file(tmp_path, capsys):
    (tmp_path / "bad.xyz").write_text("not a structure\n")
    assert main(["hessian", "muse-painn-graphene", str(tmp_path / "bad.xyz")]) != 0
    assert "cannot read a structure" in capsys.readouterr().err
