import re

import pytest
import yaml

from muse_explore.errors import MuSEConfigError
from muse_explore.training.config import (
    LossConfig,
    TrainConfig,
    seeded_run_dir,
    unseeded_run_dir,
)

from .conftest import small_config


def test_yaml_round_trip(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(small_config(tmp_path / "run", optim__lr="1e-3")))
    cfg = TrainConfig.from_yaml(path)
    assert cfg.optim.lr == 1e-3 and cfg.optim.amsgrad is True  # "1e-3" read as a number
    assert cfg.loss == LossConfig()  # an absent section is the defaults, whatever they are
    assert cfg.model.seed == cfg.seed and cfg.model.coarse_levels == 1  # a typed MuSEConfig
    again = TrainConfig.from_dict(yaml.safe_load(yaml.safe_dump(cfg.to_dict())))
    assert again == cfg


def test_another_seed_reseeds_the_model_unless_it_has_its_own(tmp_path):
    cfg = TrainConfig.from_dict(small_config(tmp_path / "run"))
    other = cfg.reseeded(3)
    assert other.seed == other.model.seed == 3 and other.run_dir.endswith("run-seed3")
    assert cfg.seed == cfg.model.seed == 0  # the original is left alone
    own = TrainConfig.from_dict(small_config(tmp_path / "run", model__seed=7)).reseeded(3)
    assert own.seed == 3 and own.model.seed == 7
    with pytest.raises(MuSEConfigError, match=r"seed must be in 0 \.\. 2\*\*63 - 1"):
        cfg.reseeded(-1)  # train --seed -1 ended in a NumPy traceback


@pytest.mark.parametrize("run_dir", ["runs/protocol/painn-graphene", "run-seed2", "a-seedling"])
def test_seeded_run_names_parse_back(run_dir):
    name = seeded_run_dir(run_dir, 12)
    assert unseeded_run_dir(name) == (run_dir, 12)


@pytest.mark.parametrize("name", ["painn-graphene", "a-seedling", "run-seed", "run-seedx"])
def test_unseeded_names_are_not_taken_for_seeded_ones(name):
    assert unseeded_run_dir(name) is None


@pytest.mark.parametrize(
    "over, message",
    [
        ({"optim__lrate": 1.0}, "optim.lrate"),
        ({"optim__epochs": "many"}, "optim.epochs"),
        ({"optim__lr": -1.0}, "optim.lr"),
        ({"data__val_fraction": 0.6, "data__test_fraction": 0.5}, "below 1"),
        ({"dtype": "float16"}, "dtype"),
        ({"seed": -1}, "seed must be in 0 .. 2**63 - 1"),
        ({"data__split_seed": -2}, "data.split_seed must be 0 or more, got -2"),
        ({"device": "tpu"}, "device"),
        ({"loss__huber_delta": 0.0}, "huber_delta"),
        # NaN passes every range check (each comparison is False), and would train on NaN
        ({"optim__lr": float("nan")}, "optim.lr must be a finite number, got nan"),
        ({"optim__lr": "nan"}, "optim.lr must be a finite number, got nan"),  # a YAML string
        ({"loss__energy_weight": float("inf")}, "loss.energy_weight must be a finite number"),
        ({"optim__ema_decay": float("nan")}, "optim.ema_decay must be a finite number"),
        ({"model": {"elements": ["H", "Xx"]}}, "model: elements"),
        ({"model": {"levels": 1}}, "model.elements"),
        ({"model": {"elements": ["H"], "hiden": 3}}, "hiden"),
        # the small config's model has one coarse level with hops 2
        ({"data__augment_hops": [2, 4]}, "one set is written [[2, 4]]"),
        ({"data__augment_hops": "2,4"}, "a list of hop sets"),
        ({"data__augment_hops": [[0]]}, "positive integers"),
        ({"data__augment_hops": [[3], [3]]}, "given twice"),
        ({"data__augment_hops": [[2, 3]]}, "has 1 coarse level(s), so each set needs 1"),
        ({"data__augment_hops": [[2]]}, "the model's own hops"),
        (
            {"data__augment_hops": [[3]], "model": {"elements": ["H", "C"], "levels": 0}},
            "needs a model with coarse levels",
        ),  # fmt: skip
    ],
)
def test_bad_configs_name_the_key(tmp_path, over, message):
    d = small_config(tmp_path / "run", **over)
    with pytest.raises(MuSEConfigError, match=re.escape(message)):
        TrainConfig.from_dict(d)


def test_a_nan_set_in_python_is_refused_too(tmp_path):
    from dataclasses import replace

    cfg = TrainConfig.from_dict(small_config(tmp_path / "run"))
    bad = replace(cfg, optim=replace(cfg.optim, lr=float("nan")))
    with pytest.raises(MuSEConfigError, match="optim.lr must be a finite number, got nan"):
        bad.check()


def test_missing_sections_and_files(tmp_path):
    with pytest.raises(MuSEConfigError, match="missing required key 'data'"):
        TrainConfig.from_dict({"run_dir": "x", "model": {"elements": ["H"]}})
    with pytest.raises(MuSEConfigError, match="no training configuration"):
        TrainConfig.from_yaml(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("run_dir: [unclosed\n")
    with pytest.raises(MuSEConfigError, match="not valid YAML"):
        TrainConfig.from_yaml(bad)


def test_the_docs_table_lists_every_key():
    # docs/training.md's table is where a user looks a key up: a key missing there is one they
    # cannot find (optim.epochs and data.split_seed once were)
    import dataclasses
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "training.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    keys = [row.split(" | ")[0] for row in rows]  # a row's key cell, such as `a` / `b`
    cfg = TrainConfig.from_dict(small_config("run"))
    missing = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if f.name == "model":
            found = any("`model.*`" in k for k in keys)
            missing += [] if found else ["model.*"]
        elif dataclasses.is_dataclass(value):
            own = [k for k in keys if f"`{f.name}." in k]  # the section's rows
            for g in dataclasses.fields(value):
                if not any(f"`{f.name}.{g.name}`" in k or f"`{g.name}`" in k for k in own):
                    missing.append(f"{f.name}.{g.name}")
        elif not any(f"`{f.name}`" in k for k in keys):
            missing.append(f.name)
    assert not missing, f"docs/training.md's key table lacks {missing}"
