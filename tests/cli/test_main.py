import re

import pytest

import muse_explore as mx
from muse_explore.cli.main import main

from ..conftest import small_model


def test_demo_prints_per_scale_energies(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "84 atoms" in out
    row = next(line for line in out.splitlines() if line.strip().startswith("energy (eV)"))
    scale = [float(x) for x in re.findall(r"-?\d+\.\d+", row)]
    total = float(re.search(r"total energy \(eV\)\s+(-?\d+\.\d+)", out).group(1))
    assert len(scale) == 3 and sum(scale) == pytest.approx(total, abs=2e-4)
    assert "pretrained muse-painn-graphene" in out
    baseline = next(line for line in out.splitlines() if line.strip().startswith("painn-graphene"))
    assert float(baseline.split()[-1]) == 0.0  # nothing at 12 Å without coarse levels
    assert "GFN2-xTB (reference)" in out  # tblite is a test dependency


def test_demo_random_weights(capsys):
    assert main(["demo", "--random"]) == 0
    out = capsys.readouterr().out
    assert "random weights (seed 0)" in out
    backbone = next(line for line in out.splitlines() if line.strip().startswith("backbone alone"))
    assert float(backbone.split()[-1]) == 0.0


def test_demo_with_a_saved_model_and_bad_file(tmp_path, capsys):
    path = tmp_path / "m.pt"
    small_model().save(path)
    assert main(["demo", "--model", str(path)]) == 0
    assert "model file" in capsys.readouterr().out
    bad = tmp_path / "bad.pt"
    bad.write_text("nope")
    assert main(["demo", "--model", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "error" in captured.err and str(bad) in captured.err and captured.out == ""


def test_demo_takes_a_pretrained_name_and_names_a_bad_one(capsys):
    # --model takes what `evaluate` and `hessian` take: a pretrained name too
    assert (
        main(["demo", "--model", "muse-so3krates-graphene", "--baseline", "so3krates-graphene"])
        == 0
    )
    out = capsys.readouterr().out
    assert "MuSE-so3krates" in out and "pretrained muse-so3krates-graphene" in out
    assert any(line.strip().startswith("so3krates-graphene") for line in out.splitlines())
    assert main(["demo", "--model", "no-such-model"]) == 2
    err = capsys.readouterr().err
    assert "no-such-model" in err and "muse-painn-graphene" in err  # lists the known names


def test_demo_names_a_folder_given_as_a_model(tmp_path, capsys):
    small_model().save(tmp_path / "best_model.pt")
    assert main(["demo", "--model", str(tmp_path)]) == 2
    assert "is a folder, not a model file: load" in capsys.readouterr().err


def test_demo_refuses_options_that_would_be_ignored(capsys):
    assert main(["demo", "--levels", "1"]) == 2
    assert "--random" in capsys.readouterr().err
    assert main(["demo", "--random", "--model", "muse-painn-graphene"]) == 2
    assert "exclude" in capsys.readouterr().err
    assert main(["demo", "--random", "--levels", "1"]) == 0
    assert "1 coarse level(s)" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert mx.__version__ in capsys.readouterr().out
