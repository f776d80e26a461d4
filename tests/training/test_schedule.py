"""The cosine learning-rate schedule: its values, and a run that follows it."""

import csv
import math

import pytest

from muse_explore.errors import MuSEConfigError
from muse_explore.training import TrainConfig, Trainer
from muse_explore.training.config import OptimConfig
from muse_explore.training.schedule import cosine_lr


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
