import math

from muse_explore.cli.train import epoch_line

ROW = {
    "epoch": 7,
    "train_loss": 0.0512345,
    "val_loss": 0.0423456,
    "val_energy_mae": 1.8114,
    "val_forces_mae": 87.75,
    "val_stress_mae": math.nan,
    "val_interaction_mae": math.nan,
    "epoch_seconds": 121.2,
    "elapsed_seconds": 840.0,
    "epoch_cpu_seconds": 118.7,
    "skipped_steps": 0,
}


def test_epoch_line_gives_losses_the_errors_that_apply_and_times():
    line = epoch_line(ROW, 100, 7)
    assert line == (
        "epoch 7/100 | train loss 0.05123 | val loss 0.04235 (best so far) | "
        "MAE E 1.81 meV/atom, F 87.8 meV/Å | 121 s (119 s CPU) | "
        "93 epoch(s) left, about 3.1 h at this pace"
    )
    assert epoch_line(ROW, 8, 7).endswith("| 1 epoch(s) left, about 2 min at this pace")
    assert epoch_line(dict(ROW, elapsed_seconds=70.0), 8, 7).endswith("about 10 s at this pace")
    assert epoch_line(ROW, 7, 7).endswith("121 s (119 s CPU)")  # the last epoch


def test_epoch_line_names_the_best_epoch_skipped_steps_and_interaction_errors():
    row = dict(ROW, val_interaction_mae=4.21, skipped_steps=2, epoch_cpu_seconds="")
    line = epoch_line(row, 40, 5)
    assert "(best at epoch 5)" in line and "E_int 4.21 meV" in line and "stress" not in line
    assert "| 121 s | 2 step(s) skipped | 33 epoch(s) left" in line


def test_an_interrupt_before_the_first_save_says_to_start_again(tmp_path):
    from argparse import Namespace

    from muse_explore.cli.train import _interrupted

    text = _interrupted(Namespace(config="run.yaml", seed=None), tmp_path / "run")
    assert "interrupted before anything was saved" in text
    assert text.endswith("start again with: muse-explore train run.yaml")
