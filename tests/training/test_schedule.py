"""The cosine learning-rate schedule: its values, and a run that follows it."""

import csv
import math

import pytest
import torch

from muse_explore.errors import MuSEConfigError
from muse_explore.training import TrainConfig, Trainer
from muse_explore.training.config import OptimConfig
from muse_explore.training.evaluation import load_for_evaluation
from muse_explore.training.schedule import cosine_lr
from muse_explore.training.trainer import BEFORE_FINAL


def test_cosine_goes_from_lr_to_min_lr_after_the_warmup():
    o = OptimConfig(lr=1e-3, min_lr=1e-5, warmup_steps=10)
    total = 110
    assert cosine_lr(10, o, total) == pytest.approx(1e-3)  # the warm-up's end: the peak
    assert cosine_lr(60, o, total) == pytest.approx(0.5 * (1e-3 + 1e-5))  # half way
    assert cosine_lr(110, o, total) == pytest.approx(1e-5)
    assert cosine_lr(500, o, total) == pytest.approx(1e-5)  # beyond the budget: the floor
    rates = [cosine_lr(s, o, total) for s in range(10, 111)]
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))
    # a quarter of the way: 1/2 (1 + cos(pi/4)) of the span above the floor
    expected = 1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + math.cos(math.pi / 4))
    assert cosine_lr(35, o, total) == pytest.approx(expected)


def test_an_unknown_schedule_is_refused():
    with pytest.raises(MuSEConfigError, match="optim.schedule must be one of plateau, cosine"):
        OptimConfig(schedule="linear").check()


def test_a_cosine_run_logs_the_annealed_rates(write_config, tmp_path):
    epochs = 3
    _, cfg = write_config(
        "cosine",
        optim__epochs=epochs,
        optim__schedule="cosine",
        optim__min_lr=1e-5,
        optim__early_stopping_patience=None,
    )
    trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
    trainer.fit()
    with open(tmp_path / "cosine" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    o = trainer.cfg.optim
    total = int(rows[-1]["step"])
    assert total % epochs == 0 and total > o.warmup_steps
    for row in rows:  # the rate of each epoch's last step
        assert float(row["lr"]) == pytest.approx(cosine_lr(int(row["step"]) - 1, o, total))
    lrs = [float(r["lr"]) for r in rows]
    assert lrs[0] > lrs[1] > lrs[2] and lrs[-1] < 0.1 * o.lr  # the last step is near the floor


def test_a_final_stage_runs_at_its_rate_and_energy_weight_and_picks_its_own_best(
    write_config, tmp_path
):
    """optim.final_epochs: the last epochs of the budget run at final_lr with
    final_energy_weight; the best model is chosen within the stage, and early stopping
    waits for it."""
    _, cfg = write_config(
        "final",
        optim__epochs=4,
        optim__final_epochs=2,
        optim__final_lr=3e-5,
        optim__final_energy_weight=100.0,
    )
    trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
    summary = trainer.fit()
    with open(tmp_path / "final" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert summary["epochs"] == 4 and len(rows) == 4
    lrs = [float(r["lr"]) for r in rows]
    assert lrs[2] == lrs[3] == pytest.approx(3e-5) and lrs[1] > 3e-5
    assert trainer.best_epoch in (3, 4)  # the stage's best, whatever epochs 1-2 reached
    # the stage's validation loss weighs the energy term by 100: evaluate both ways
    trainer.epoch = 0
    before, metrics = trainer.evaluate_graphs(trainer.graphs["val"])
    trainer.epoch = 3
    during, same = trainer.evaluate_graphs(trainer.graphs["val"])
    assert metrics == same and during > before
    assert trainer.best == pytest.approx(min(float(r["val_loss"]) for r in rows[2:]))
    # the best model before the stage is kept beside the stage's: epoch 1 or 2's weights
    run = tmp_path / "final"
    before, after = (
        load_for_evaluation(run / BEFORE_FINAL),
        load_for_evaluation(run / "best_model.pt"),
    )
    best_before = min((1, 2), key=lambda e: float(rows[e - 1]["val_loss"]))
    assert best_before in (1, 2)
    trainer.epoch = 0  # the loss before the stage: the before-final model has the pre-stage best
    loss_before, _ = trainer.evaluate_graphs(trainer.graphs["val"], model=before)
    assert loss_before == pytest.approx(float(rows[best_before - 1]["val_loss"]), rel=1e-5)
    assert any(
        not torch.equal(a, b)
        for a, b in zip(before.state_dict().values(), after.state_dict().values(), strict=True)
    )
    # the stage trains on the weighted loss too: the same run without the weight (identical
    # up to the stage) has a smaller training loss in the stage's first epoch
    _, plain = write_config("plain", optim__epochs=4, optim__final_epochs=2, optim__final_lr=3e-5)
    Trainer(TrainConfig.from_dict(plain), progress=False).fit()
    with open(tmp_path / "plain" / "metrics.csv") as f:
        other = list(csv.DictReader(f))
    assert other[1]["train_loss"] == rows[1]["train_loss"]
    assert float(rows[2]["train_loss"]) > 1.5 * float(other[2]["train_loss"])


def test_a_cosine_anneals_to_min_lr_before_the_final_stage(write_config, tmp_path):
    _, cfg = write_config(
        "cosine_final",
        optim__epochs=4,
        optim__final_epochs=1,
        optim__final_lr=1e-4,
        optim__schedule="cosine",
        optim__min_lr=1e-5,
        optim__early_stopping_patience=None,
    )
    trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
    trainer.fit()
    with open(tmp_path / "cosine_final" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    o, per_epoch = trainer.cfg.optim, int(rows[0]["step"])
    for row in rows[:3]:  # the cosine spans epochs 1-3 and ends at min_lr
        step = int(row["step"]) - 1
        assert float(row["lr"]) == pytest.approx(cosine_lr(step, o, 3 * per_epoch))
    last = int(rows[2]["step"]) - 1  # not the cosine over the whole budget: it ends higher
    assert float(rows[2]["lr"]) < 0.5 * cosine_lr(last, o, 4 * per_epoch)
    assert float(rows[3]["lr"]) == pytest.approx(1e-4)


def test_early_stopping_waits_for_the_final_stage_and_applies_within_it(
    write_config, tmp_path, monkeypatch
):
    """A flat validation curve: without the wait the run would stop after 2 epochs; it goes
    on to the stage (epochs 4-6), starts its count afresh there and stops after epoch 5."""
    _, cfg = write_config(
        "wait",
        optim__epochs=6,
        optim__final_epochs=3,
        optim__final_lr=1e-4,
        optim__early_stopping_patience=1,
    )
    trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
    monkeypatch.setattr(trainer, "evaluate_graphs", lambda graphs, **kw: (1.0, {}))
    monkeypatch.setattr(trainer, "test", lambda: {})
    summary = trainer.fit()
    assert summary["stopped_by"] == "early stopping" and summary["epochs"] == 5
    assert trainer.best_epoch == 4  # the stage's first epoch: the flat loss never improves


@pytest.mark.parametrize(
    "over, match",
    [
        ({"final_epochs": 3}, "final_epochs must be in"),
        ({"final_epochs": -1}, "final_epochs must be in"),
        ({"final_epochs": 1, "final_lr": 0.0}, "final_lr must be positive"),
        ({"final_epochs": 1, "final_energy_weight": -1.0}, "final_energy_weight must be"),
        ({"final_lr": 1e-4}, "need optim.final_epochs"),
    ],
)
def test_a_final_stage_that_cannot_run_is_named(over, match):
    with pytest.raises(MuSEConfigError, match=match):
        OptimConfig(epochs=3, **over).check()


@pytest.mark.parametrize("stage_at_save", [False, True])
def test_a_checkpoint_saved_before_best_key_existed_infers_it(
    write_config, tmp_path, stage_at_save
):
    """Checkpoints written before the best model was tied to its stage have no best_key: it
    is inferred from the epoch that set the best. A best set before the stage is dropped when
    the stage begins; one set within the stage is kept."""
    first = (
        {"optim__epochs": 3, "optim__final_epochs": 1} if stage_at_save else {"optim__epochs": 2}
    )
    stage = {"optim__final_lr": 3e-5, "optim__final_energy_weight": 100.0}
    _, cfg = write_config("old", **first, **(stage if stage_at_save else {}))
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    last = tmp_path / "old" / "checkpoints" / "last.pt"
    state = torch.load(last, weights_only=False)
    del state["best_key"]
    torch.save(state, last)
    run = tmp_path / "old"
    # the best before the stage: the resumed run keeps it when its stage begins (False), or
    # the first run kept it when its own stage began (True) and the resume leaves it
    before = (run / (BEFORE_FINAL if stage_at_save else "best_model.pt")).read_bytes()
    _, longer = write_config("old", optim__epochs=4, optim__final_epochs=2, **stage)
    trainer = Trainer(TrainConfig.from_dict(longer), resume=True, progress=False)
    assert trainer.best == state["best"]
    assert trainer.best_key == [stage_at_save, 100.0 if stage_at_save else 1.0]
    trainer.fit()
    with open(run / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    # the best is the stage's (epochs 3-4), never the unweighted loss of epochs 1-2
    assert trainer.best_epoch in (3, 4)
    assert trainer.best == pytest.approx(min(float(r["val_loss"]) for r in rows[2:]))
    assert (run / BEFORE_FINAL).read_bytes() == before
