import hashlib
import json

import pytest

import muse_explore as mx
from muse_explore.cli.main import main
from muse_explore.errors import MuSEFileError
from muse_explore.training import TrainConfig, Trainer


def test_export_writes_model_and_card(write_config, tmp_path, monkeypatch, capsys):
    _, cfg = write_config(optim__epochs=1)
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    out = tmp_path / "models"
    assert main(["export", str(tmp_path / "run"), "tiny-test", "--out", str(out)]) == 0
    card = (out / "tiny-test.md").read_text()
    assert (out / "tiny-test.splits.json").is_file()
    for text in [
        "# tiny-test",
        "MuSE-painn with 1 coarse level",
        "graphene_scans.extxyz.xz",
        "6 test",
        "## Test set: 6 structures",
        "meV/Å",
        "1 epochs",
        "--split",
        "s of labelling (the wall times of its checkpointed chunks, summed)",
        "within a coarse node's cutoff in training: level 1 (10 Å) up to ",
        "evaluation warns beyond twice that",
    ]:
        assert text in card, text
    split = str(out / "tiny-test.splits.json")
    data = [str(f) for f in cfg["data"]["files"]]
    assert main(["evaluate", str(out / "tiny-test.pt"), *data, "--split", split]) == 0
    printed = capsys.readouterr().out
    assert "on 6 structures" in printed
    monkeypatch.setenv("MUSE_EXPLORE_DATA", str(tmp_path))
    assert mx.list_pretrained() == ["tiny-test"]
    from muse_explore.pretrained import model_card

    assert model_card("tiny-test") == card
    calc = mx.load_pretrained("tiny-test", dtype="float64")
    from muse_explore.reference import benzene_on_graphene

    atoms = benzene_on_graphene(3.4)
    atoms.calc = calc
    assert abs(atoms.get_potential_energy()) > 100  # fitted shifts: absolute GFN2-xTB scale
    with pytest.raises(MuSEFileError, match="available: \\['tiny-test'\\]"):
        mx.load_pretrained("nope")
    registry = json.loads((out / "registry.json").read_text())["models"]
    data = (out / "tiny-test.pt").read_bytes()
    assert registry["tiny-test"] == {
        "file": "tiny-test.pt",
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "card": "tiny-test.md",
        "splits": "tiny-test.splits.json",
        "data": {
            "files": [str(f) for f in cfg["data"]["files"]],
            "train_only_files": [str(f) for f in cfg["data"].get("train_only_files") or []],
        },
    }
    from muse_explore.pretrained import model_data

    assert model_data("tiny-test")["files"] == [str(f) for f in cfg["data"]["files"]]
    # without --out: into the models folder ($MUSE_EXPLORE_DATA/models here), registered
    # beside the first one and loadable by name
    assert main(["export", str(tmp_path / "run"), "tiny-again"]) == 0
    assert mx.list_pretrained() == ["tiny-again", "tiny-test"]
    assert 'mx.load_pretrained("tiny-again")' in model_card("tiny-again")
    assert mx.load_pretrained("tiny-again").model.config == calc.model.config
    assert not list(out.glob(".tmp-*"))
    with pytest.raises(MuSEFileError, match="no best_model.pt"):
        from muse_explore.training.export import export_pretrained

        export_pretrained(tmp_path / "empty", "x", out)


def test_les_model_trains_on_periodic_cells_and_its_card_says_so(write_config, tmp_path):
    from tests.training.conftest import PERIODIC

    les = {
        "elements": ["H", "C", "N", "O"],
        "levels": 0,
        "hidden": 8,
        "long_range": "les",
        "long_range_neutral": "fragment",
    }
    _, cfg = write_config(
        "les", optim__epochs=1, model=les, data__files=[str(PERIODIC)], loss__stress_weight=1.0
    )
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()  # Ewald sums, stress included
    out = tmp_path / "models"
    assert main(["export", str(tmp_path / "les"), "tiny-les", "--out", str(out)]) == 0
    card = (out / "tiny-les.md").read_text()
    assert "painn with the LES long-range head" in card and "the baseline)" not in card
    assert "latent charges neutral per covalent fragment" in card
    model = mx.load_model(out / "tiny-les.pt")
    assert model.config.long_range == "les"


def test_card_names_the_training_only_files(write_config, tmp_path):
    from tests.training.conftest import PERIODIC, SCANS

    _, cfg = write_config(
        "extra",
        optim__epochs=1,
        data__files=[str(PERIODIC)],
        data__max_structures=12,
        data__train_only_files=[str(SCANS)],
    )
    trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
    n_extra = len(trainer.structures) - 300
    assert n_extra > 0 and len(trainer.splits["test"]) == 3  # from the periodic cells only
    trainer.fit()
    out = tmp_path / "models"
    assert main(["export", str(tmp_path / "extra"), "tiny-extra", "--out", str(out)]) == 0
    card = (out / "tiny-extra.md").read_text()
    assert "`graphene_scans.extxyz.xz`" in card and "(training split only)" in card
    assert f"{6 + n_extra} training" in card and "leave the validation and test splits" in card


def test_a_protocol_run_finds_its_config_from_anywhere(tmp_path, monkeypatch):
    from muse_explore.samples import repository_root
    from muse_explore.training.export import _shipped_config

    monkeypatch.chdir(tmp_path)  # not the repository
    run = repository_root() / "runs" / "protocol" / "painn-graphene"
    assert _shipped_config(run) == str(
        repository_root() / "sample_data/configs/protocol/painn-graphene.yaml"
    )
    assert _shipped_config(tmp_path / "elsewhere") is None
    # `train CONFIG --seed 1` trains into RUN_DIR-seed1: the card gives that command
    seed = repository_root() / "runs" / "protocol" / "painn-peptide-seed1"
    assert _shipped_config(seed) == (
        str(repository_root() / "sample_data/configs/protocol/painn-peptide.yaml") + " --seed 1"
    )
    assert _shipped_config(repository_root() / "runs" / "protocol" / "nothing-seed1") is None


def test_card_names_the_down_pass(write_config, tmp_path):
    _, cfg = write_config("shared", optim__epochs=1, model__unpool="share")
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    out = tmp_path / "models"
    assert main(["export", str(tmp_path / "shared"), "tiny-shared", "--out", str(out)]) == 0
    card = (out / "tiny-shared.md").read_text()
    assert "down pass `unpool: share`: each coarse node's message shared among its members" in card
    assert "1 epochs (" in card  # the whole budget: no stopping note
    assert "mass-weighted" not in card


def test_card_names_mass_weighted_coarse_levels(write_config, tmp_path):
    _, cfg = write_config("weighted", optim__epochs=1, model__mass_weighted=True)
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    out = tmp_path / "models"
    assert main(["export", str(tmp_path / "weighted"), "tiny-weighted", "--out", str(out)]) == 0
    card = (out / "tiny-weighted.md").read_text()
    assert "mass-weighted coarse levels (`mass_weighted: true`)" in card
    assert "down pass `unpool: member`" in card
    assert "coarse levels' energy per atom" not in card


def test_card_names_the_coarse_energy_term(write_config, tmp_path):
    _, cfg = write_config("pulled", optim__epochs=1, loss__coarse_energy_weight=10.0)
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    out = tmp_path / "models"
    assert main(["export", str(tmp_path / "pulled"), "tiny-pulled", "--out", str(out)]) == 0
    card = (out / "tiny-pulled.md").read_text()
    assert "the coarse levels' energy per atom toward zero (weight 10.0)" in card


@pytest.mark.parametrize(
    ("last", "best", "note"),
    [
        (40, 36, ""),  # the whole budget
        (28, 22, " of 40 (early stopping: no better validation loss in 6 epochs)"),
        (12, 10, " of 40 (stopped before its budget)"),  # killed, or a time limit
    ],
)
def test_card_says_why_a_run_ended_early(last, best, note):
    from muse_explore.training.export import _stopped

    rows = [{"epoch": str(e)} for e in range(1, last + 1)]
    assert _stopped(rows, {"epochs": 40, "early_stopping_patience": 6}, best) == note


@pytest.mark.parametrize("split_seed", [None, 3])
def test_card_names_the_seed_that_drew_the_split(write_config, tmp_path, split_seed):
    # a protocol fixes data.split_seed so that every training seed shares one split: the card
    # must name that seed, not the run's
    _, cfg = write_config("seeded", optim__epochs=1, seed=7, data__split_seed=split_seed)
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    out = tmp_path / "models"
    assert main(["export", str(tmp_path / "seeded"), "tiny-seeded", "--out", str(out)]) == 0
    card = (out / "tiny-seeded.md").read_text()
    drew = 7 if split_seed is None else split_seed
    assert f"with seed {drew}:\n" in card


@pytest.mark.parametrize("name", ["", "../evil", "a/b", ".hidden", "x.pt", "tab\tname"])
def test_a_name_that_is_no_plain_file_name_is_refused_before_writing(tmp_path, name, capsys):
    out = tmp_path / "models"
    # refused before the run folder is read: nothing is written anywhere
    assert main(["export", str(tmp_path / "no-run"), name, "--out", str(out)]) == 2
    assert f"model name {name!r}" in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_card_gives_cpu_time_beside_wall_time(write_config, tmp_path):
    """The card's training time is wall time, with the CPU core-hours beside it; for a run
    whose earlier epochs predate CPU-time records, it says for how many epochs it has them."""
    import csv

    _, cfg = write_config("cpu", optim__epochs=2)
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    out = tmp_path / "models"
    assert main(["export", str(tmp_path / "cpu"), "tiny-cpu", "--out", str(out)]) == 0
    card = (out / "tiny-cpu.md").read_text()
    assert " h wall time (0.00 CPU core-hours) on " in card
    path = tmp_path / "cpu" / "metrics.csv"
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["epoch_cpu_seconds"] = ""
    for row in rows:
        row["cpu_seconds"] = ""
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["export", str(tmp_path / "cpu"), "tiny-cpu", "--out", str(out)]) == 0
    card = (out / "tiny-cpu.md").read_text()
    assert "(CPU time recorded for 1 of its 2 epochs: 0.00 core-hours) on " in card


def test_export_registers_the_trained_reach_of_a_run_that_did_not_record_it(
    write_config, tmp_path, monkeypatch
):
    import torch

    from muse_explore.models.serialization import read_payload

    _, cfg = write_config(optim__epochs=1)
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    best = tmp_path / "run" / "best_model.pt"
    recorded = mx.load_model(best).trained_reach
    payload = read_payload(best)
    del payload["trained_reach"]  # as a run trained before the record existed
    torch.save(payload, best)
    assert mx.load_model(best).trained_reach is None
    out = tmp_path / "models"
    assert main(["export", str(tmp_path / "run"), "tiny-test", "--out", str(out)]) == 0
    # the file stays a byte copy; the registry holds the record, measured on the training split
    assert (out / "tiny-test.pt").read_bytes() == best.read_bytes()
    entry = json.loads((out / "registry.json").read_text())["models"]["tiny-test"]
    measured = entry["trained_reach"]
    atoms, nodes = measured[0]
    card = (out / "tiny-test.md").read_text()
    assert f"level 1 (10 Å) up to {atoms:.0f} atoms and {nodes:.0f} nodes" in card
    # the final weights on the training split: the nodes are those the trainer counted
    assert measured[0][1] == recorded[0][1]
    assert measured[0][0] == pytest.approx(recorded[0][0], rel=0.05)
    monkeypatch.setenv("MUSE_EXPLORE_DATA", str(tmp_path))
    assert mx.load_pretrained("tiny-test").model.trained_reach == measured
    from muse_explore.explore.models import resolve_model

    assert resolve_model("tiny-test").trained_reach == measured
    from muse_explore.pretrained.registry import register

    assert register(out, "tiny-test")["trained_reach"] == measured  # the same file: kept
    mx.build_model(levels=1, seed=1).save(out / "tiny-test.pt")
    assert "trained_reach" not in register(out, "tiny-test")  # another file: dropped


def test_state_reach_on_card_adds_or_replaces_the_one_line(tmp_path):
    from muse_explore.pretrained import models_dir, pretrained_path
    from muse_explore.training.export import state_reach_on_card

    shipped = (models_dir() / "muse-painn-graphene.md").read_text()
    old = "\n".join(line for line in shipped.splitlines() if "in training: level" not in line)
    card = tmp_path / "m.md"
    card.write_text(old + "\n")
    model = mx.load_model(pretrained_path("muse-painn-graphene"))
    model.trained_reach = [[90.0, 20.0], [90.0, 18.0]]
    assert state_reach_on_card(card, model)
    new = card.read_text().splitlines()
    at = next(i for i, line in enumerate(new) if line.startswith("  77,891 parameters"))
    assert new[at + 1] == (
        "- within a coarse node's cutoff in training: level 1 (10 Å) up to 90 atoms and 20 "
        "nodes; level 2 (20 Å) up to 90 atoms and 18 nodes; evaluation warns beyond twice that "
        "(`mx.MuSEExtrapolationWarning`)"
    )
    assert new[: at + 1] + new[at + 2 :] == old.splitlines()
    assert not state_reach_on_card(str(card), model)  # already stated (a str path too)
    model.trained_reach = [[91.0, 20.0], [90.0, 18.0]]
    assert state_reach_on_card(card, model)  # replaced, not added twice
    assert card.read_text().count("in training: level") == 1
    assert "up to 91 atoms" in card.read_text()
    model.trained_reach = None
    with pytest.raises(ValueError, match="no training record"):
        state_reach_on_card(card, model)
    model.trained_reach = [[90.0, 20.0], [90.0, 18.0]]
    bare = tmp_path / "bare.md"
    bare.write_text("# bare\n\nno model section\n")
    with pytest.raises(MuSEFileError, match="no parameter count"):
        state_reach_on_card(bare, model)
