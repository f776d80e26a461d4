"""Experiment configs (sample_data/configs/experiments/): one change against the protocol."""

from pathlib import Path

import pytest
import yaml

from muse_explore.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / "sample_data" / "configs"
EXPERIMENTS = sorted((CONFIGS / "experiments").glob("*.yaml"))


def _protocol_twin(path: Path) -> Path:
    """The protocol config an experiment starts from: the longest protocol name it extends."""
    names = [p for p in (CONFIGS / "protocol").glob("*.yaml") if path.stem.startswith(p.stem)]
    assert names, f"{path.name} extends no protocol config"
    return max(names, key=lambda p: len(p.stem))


def test_there_are_experiments():
    assert EXPERIMENTS


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_an_experiment_changes_one_thing_against_its_protocol_config(path):
    """More training data, one model field, one loss field, the training partitions
    (``data.augment_hops``), the learning-rate schedule, a final stage (``optim.final_*``) or
    the epoch budget (``optim.epochs``): the split and the rest of the optimiser stay."""
    exp, base = (yaml.safe_load(p.read_text()) for p in (path, _protocol_twin(path)))
    assert exp.pop("run_dir") == f"runs/experiments/{path.stem}"
    base.pop("run_dir")
    files, protocol_files = exp["data"]["train_only_files"], base["data"]["train_only_files"]
    added = [f for f in files if f not in protocol_files]
    assert all((ROOT / f).name.startswith(("graphene_", "peptide_")) for f in added)
    exp["data"]["train_only_files"] = [f for f in files if f not in added]
    model_changes = {k for k in exp["model"].keys() | base["model"].keys()
                     if exp["model"].get(k) != base["model"].get(k)}  # fmt: skip
    loss_changes = {k for k in exp["loss"].keys() | base["loss"].keys()
                    if exp["loss"].get(k) != base["loss"].get(k)}  # fmt: skip
    augment = exp["data"].pop("augment_hops", None) != base["data"].pop("augment_hops", None)
    # the learning-rate schedule is an optimiser change an experiment may make: the budget
    # (epochs, batch size, peak rate) stays
    schedule = exp["optim"].pop("schedule", "plateau") != base["optim"].pop("schedule", "plateau")
    # so is a final stage (optim.final_*: its length, rate and energy weight, one block)
    final = [(exp["optim"].pop(k, None), base["optim"].pop(k, None))
             for k in ("final_epochs", "final_lr", "final_energy_weight")]  # fmt: skip
    final = any(a != b for a, b in final)
    # and so is the epoch budget alone (a longer run: batch size and rates stay)
    budget = exp["optim"].pop("epochs") != base["optim"].pop("epochs")
    changes = (len(added) + len(model_changes) + len(loss_changes) + augment + schedule + final
               + budget)  # fmt: skip
    assert changes == 1, (added, model_changes, loss_changes, augment, schedule, final, budget)
    exp["model"], base["model"] = {}, {}
    for key in loss_changes:
        exp["loss"].pop(key, None), base["loss"].pop(key, None)
    assert exp == base
    TrainConfig.from_dict(yaml.safe_load(path.read_text()))


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_every_experiment_is_in_docs_experiments(path):
    """docs/experiments.md names every experiment config, answered or under way."""
    assert f"`{path.stem}`" in (ROOT / "docs" / "experiments.md").read_text(), (
        f"docs/experiments.md does not name {path.stem}: add its answer, or list it under way"
    )
