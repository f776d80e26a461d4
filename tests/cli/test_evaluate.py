from muse_explore.cli.main import main

from ..training.conftest import SCANS


def test_a_pretrained_model_by_name(capsys, tmp_path):
    preds = tmp_path / "pred.csv"
    args = ["evaluate", "painn-graphene", str(SCANS), "--select", "scan=3", "--out", str(preds)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "on 24 structures" in out and "energy" in out
    assert len(preds.read_text().splitlines()) == 25


def test_predictions_compressed_or_refused_by_name(capsys, tmp_path):
    import ase.io

    out = tmp_path / "pred.extxyz.bz2"
    assert (
        main(["evaluate", "painn-graphene", str(SCANS), "--select", "scan=3", "--out", str(out)])
        == 0
    )
    frames = ase.io.read(out, ":")
    assert len(frames) == 24 and "forces_ref" in frames[0].arrays
    bad = tmp_path / "pred.json"
    assert main(["evaluate", "no-such-model", str(SCANS), "--out", str(bad)]) == 2
    assert "pred.json: a predictions file is .csv, .extxyz" in capsys.readouterr().err
    assert not bad.exists()


def test_an_unknown_model_is_named(capsys):
    assert main(["evaluate", "painn-grapheen", str(SCANS)]) == 2
    err = capsys.readouterr().err
    assert "muse-explore evaluate: error: 'painn-grapheen' is neither a pretrained model" in err
