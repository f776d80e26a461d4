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


def test_hessian_command_bad_file(tmp_path, capsys):
    (tmp_path / "bad.xyz").write_text("not a structure\n")
    assert main(["hessian", "muse-painn-graphene", str(tmp_path / "bad.xyz")]) != 0
    assert "cannot read a structure" in capsys.readouterr().err
