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
    assert "error" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert mx.__version__ in capsys.readouterr().out
