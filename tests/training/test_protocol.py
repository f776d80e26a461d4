"""The one training protocol (#15): every shipped model's config differs only in its model."""

from pathlib import Path

import pytest
import yaml

import muse_explore as mx
from muse_explore.training.config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = sorted((ROOT / "sample_data" / "configs" / "protocol").glob("*.yaml"))
PAIRS = {"painn": "painn-graphene", "so3krates": "so3krates-graphene", "mace": "mace-graphene"}
TASKS = ("graphene", "peptide")  # the protocol is shared within a task (its data), not across


def _load(path):
    return yaml.safe_load(path.read_text())


def test_every_protocol_config_belongs_to_a_task():
    names = {p.stem for p in PROTOCOL}
    for backbone, base in PAIRS.items():
        assert {base, f"muse-{base}"} <= names, backbone
    assert {"painn-lr-graphene", "muse-painn-peptide", "painn-peptide", "painn-lr-peptide"} <= names
    assert {name.rsplit("-", 1)[1] for name in names} == set(TASKS)


#: Adam's learning rate per backbone: mace-torch's default for MACE, whose e3nn weights move
#: the energy far less per step (benchmarks/gradient_balance.py); a MuSE model and its
#: baseline always share it.
LEARNING_RATES = {"painn": 1e-3, "so3krates": 1e-3, "mace": 1e-2}


def _shared(cfg: dict) -> dict:
    """Everything a task's configs share: all but the run folder, the model and Adam's rate."""
    out = {k: v for k, v in cfg.items() if k not in ("run_dir", "model")}
    out["optim"] = {k: v for k, v in out["optim"].items() if k != "lr"}
    return out


@pytest.mark.parametrize("task", TASKS)
def test_every_config_of_a_task_shares_data_split_loss_and_budget(task):
    paths = [p for p in PROTOCOL if p.stem.endswith(f"-{task}")]
    assert len(paths) >= 3
    shared = _shared(_load(paths[0]))
    assert shared["data"]["split_seed"] is not None  # seeds vary the weights, not the split
    for path in paths:
        cfg = _load(path)
        assert _shared(cfg) == shared, path
        assert cfg["run_dir"] == f"runs/protocol/{path.stem}"
        assert cfg["optim"]["lr"] == LEARNING_RATES[cfg["model"]["backbone"]], path


@pytest.mark.parametrize("path", PROTOCOL, ids=lambda p: p.stem)
def test_protocol_configs_build_their_model(path):
    cfg = TrainConfig.from_dict(_load(path))
    model = mx.MuSE(cfg.model)
    m = cfg.model
    assert model.config.hidden == 32 and model.levels == m.coarse_levels
    name = path.stem
    assert (m.coarse_levels > 0) == name.startswith("muse-")
    assert name.split("-")[-2] in (m.backbone, "lr")
    if name.startswith("painn-lr-"):
        assert m.long_range == "les" and m.long_range_neutral == "fragment"
    # each MuSE model and its baseline differ only in the coarse levels (and their down pass)
    if name.startswith("muse-"):
        base = TrainConfig.from_dict(_load(path.with_name(name.removeprefix("muse-") + ".yaml")))
        assert m.backbone_only() == base.model
