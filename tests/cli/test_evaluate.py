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


def test_a_batch_size_below_one_is_refused_by_argparse(capsys):
    for bad in ("0", "-1", "two"):
        try:
            main(["evaluate", "painn-graphene", str(SCANS), "--batch-size", bad])
        except SystemExit as stop:
            assert stop.code == 2
        else:  # pragma: no cover - the assertion below names the failure
            raise AssertionError(f"--batch-size {bad} was accepted")
        assert "--batch-size: must be" in capsys.readouterr().err


def test_a_device_that_is_no_torch_device_is_named(capsys):
    assert main(["evaluate", "painn-graphene", str(SCANS), "--device", "foo"]) == 2
    err = capsys.readouterr().err
    assert "device 'foo' is not a torch device (cpu, cuda, cuda:N, auto)" in err


def test_a_split_file_without_sources_or_a_subset_without_split_is_named(capsys, tmp_path):
    split = tmp_path / "s.json"
    split.write_text(
        '{"train": {"indices": [0]}, "val": {"indices": [1]}, "test": {"indices": [7]}}'
    )
    assert main(["evaluate", "painn-graphene", str(SCANS), "--split", str(split)]) == 2
    assert "subset does not list the source of each structure" in capsys.readouterr().err
    assert main(["evaluate", "painn-graphene", str(SCANS), "--subset", "train"]) == 2
    assert "give --split too" in capsys.readouterr().err
