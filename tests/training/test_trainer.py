import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace

import pytest
import torch
import torch_geometric.loader
import yaml

import muse_explore as mx
from muse_explore.cli.main import main
from muse_explore.data.graph import batch_to
from muse_explore.errors import MuSEConfigError, MuSEFileError
from muse_explore.models.muse import MuSE
from muse_explore.training import TrainConfig, Trainer
from muse_explore.training import dataset as ds
from muse_explore.training.evaluation import load_for_evaluation

from .conftest import PERIODIC, ROOT, SCANS


def _rows(run_dir):
    with open(run_dir / "metrics.csv") as fh:
        return list(csv.DictReader(fh))


def _weights(run_dir):
    state = torch.load(run_dir / "checkpoints" / "last.pt", weights_only=True)
    return state["model"], state["ema"], state["epoch"]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    return env


def test_train_cli_writes_run_folder_and_evaluate_reads_it(write_config, capsys, tmp_path):
    path, cfg = write_config()
    assert main(["train", str(path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "test set (6 structures" in out and "meV/Å" in out
    # one line per epoch, also with --quiet (no progress bars)
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert [line.split(" | ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert all("val loss" in line and "F " in line and "s CPU)" in line for line in lines)
    run = tmp_path / "run"
    for name in [
        "config.yaml",
        "splits.json",
        "metrics.csv",
        "best_model.pt",
        "test_metrics.json",
        "checkpoints/last.pt",
        "checkpoints/best.pt",
    ]:
        assert (run / name).is_file(), name
    assert list((run / "tensorboard").iterdir())

    def refuse(constant):
        raise AssertionError(f"test_metrics.json holds {constant}, not standard JSON")

    test_metrics = json.loads((run / "test_metrics.json").read_text(), parse_constant=refuse)
    assert test_metrics["structures"] == 6 and test_metrics["forces_mae"] > 0
    assert None in test_metrics.values(), test_metrics  # a metric that does not apply: null
    rows = _rows(run)
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert float(rows[-1]["val_forces_mae"]) > 0
    # resuming the finished run trains nothing and says so
    assert main(["train", str(path), "--resume", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "had already finished: 2 of 2 epochs, nothing trained now" in out
    assert "raise optim.epochs" in out and not re.search(r"^epoch ", out, flags=re.M)
    assert len(_rows(run)) == 2
    model = mx.load_model(run / "best_model.pt")
    assert model.config.energy_shifts  # fitted by least squares on the training split
    ema = load_for_evaluation(run / "checkpoints" / "best.pt")
    for a, b in zip(model.state_dict().values(), ema.state_dict().values(), strict=True):
        torch.testing.assert_close(a.double(), b.double())
    preds = tmp_path / "pred.csv"
    assert (
        main(
            [
                "evaluate",
                str(run / "best_model.pt"),
                str(SCANS),
                "--select",
                "scan=3",
                "--out",
                str(preds),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "on 24 structures" in out and "energy" in out
    assert len(preds.read_text().splitlines()) == 25
    xyz = tmp_path / "pred.extxyz"
    assert (
        main(
            [
                "evaluate",
                str(run / "checkpoints" / "last.pt"),
                str(SCANS),
                "--select",
                "scan=3",
                "--out",
                str(xyz),
            ]
        )
        == 0
    )
    import ase.io

    frames = ase.io.read(xyz, ":")
    assert len(frames) == 24 and "forces_ref" in frames[0].arrays


def test_training_learns(write_config):
    _, cfg = write_config(
        optim__epochs=8,
        optim__ema_decay=0.5,
        optim__lr=1e-2,
        model={"elements": ["H", "C", "N", "O"], "levels": 0, "hidden": 8},
    )
    trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
    trainer.fit()
    rows = _rows(trainer.run_dir)
    first, last = float(rows[0]["val_loss"]), float(rows[-1]["val_loss"])
    assert last < 0.5 * first


def test_run_folder_guards_and_corrupt_checkpoint(write_config, tmp_path):
    path, cfg = write_config(optim__epochs=1)
    with pytest.raises(MuSEFileError, match="nothing to resume.*again without --resume"):
        Trainer(TrainConfig.from_dict(cfg), resume=True, progress=False)
    stale = tmp_path / "run" / "checkpoints" / ".tmp-999999999-dead-last.pt"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"")  # what a kill during a save leaves behind
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    assert not stale.exists()
    with pytest.raises(MuSEConfigError, match="already holds a run"):
        Trainer(TrainConfig.from_dict(cfg), progress=False)
    changed = dict(cfg, loss={"huber_delta": 0.5})
    with pytest.raises(MuSEConfigError, match="'loss' section differs"):
        Trainer(TrainConfig.from_dict(changed), resume=True, progress=False)
    wider = dict(cfg, model={**cfg["model"], "hidden": 16})
    with pytest.raises(MuSEConfigError, match="'model' section differs"):
        Trainer(TrainConfig.from_dict(wider), resume=True, progress=False)
    # the same model written out level by level resumes a run saved with the shorthand
    full = TrainConfig.from_dict(cfg).to_dict()["model"]
    assert isinstance(full["levels"], list) and isinstance(cfg["model"]["levels"], int)
    Trainer(TrainConfig.from_dict(dict(cfg, model=full)), resume=True, progress=False)
    # the optimiser section may change on resume (a longer budget); the run folder says so
    longer = dict(cfg, optim={**cfg["optim"], "epochs": 2})
    Trainer(TrainConfig.from_dict(longer), resume=True, progress=False).fit()
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["optim"]["epochs"] == 2
    assert [r["epoch"] for r in _rows(tmp_path / "run")] == ["1", "2"]
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    last.write_bytes(last.read_bytes()[:1000])
    assert main(["train", str(path), "--resume"]) == 2  # a clear error, not a traceback
    with pytest.raises(MuSEFileError, match="corrupt or truncated"):
        Trainer(TrainConfig.from_dict(cfg), resume=True, progress=False)


def test_resume_if_any_starts_a_new_run_and_continues_an_interrupted_one(write_config, capsys):
    """One command for a job queue: the first call starts the run, a later one continues it
    (here with a longer budget), where plain ``train`` refuses and ``--resume`` needs a
    checkpoint."""
    path, _ = write_config("queued", optim__epochs=1)
    assert main(["train", str(path), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert main(["train", str(path), "--resume-if-any", "--quiet"]) == 0
    run = path.parent / "queued"
    assert [r["epoch"] for r in _rows(run)] == ["1"]
    first = _weights(run)
    path, _ = write_config("queued", optim__epochs=2)
    assert main(["train", str(path), "--quiet"]) == 2  # a run is there: not overwritten
    assert "already holds a run" in capsys.readouterr().err
    assert [r["epoch"] for r in _rows(run)] == ["1"] and _weights(run)[2] == first[2] == 1
    assert main(["train", str(path), "--resume-if-any", "--quiet"]) == 0
    assert [r["epoch"] for r in _rows(run)] == ["1", "2"]  # continued, not started again
    with pytest.raises(SystemExit) as stop:  # argparse: one or the other
        main(["train", str(path), "--resume", "--resume-if-any"])
    assert stop.value.code == 2
    assert "not allowed with argument --resume" in capsys.readouterr().err


_KILL_AFTER_EPOCH_2 = """
import os, signal, sys
from muse_explore.training import Trainer, TrainConfig
cfg = TrainConfig.from_yaml(sys.argv[1])
def die(row):  # after epoch 2's checkpoint is on disk: SIGKILL, no clean-up code runs
    if int(row["epoch"]) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
Trainer(cfg, progress=False, callbacks=[die]).fit()
"""


def _run_until_killed(script: str, config_path) -> None:
    """Run a training script that SIGKILLs itself; fail with its stderr if it did not."""
    proc = subprocess.run(
        [sys.executable, "-c", script, str(config_path)],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=600,
    )
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]


def test_resume_after_kill_continues_exactly(write_config, tmp_path):
    """A run killed (SIGKILL) right after epoch 2 resumes to exactly the weights of a run
    that was never interrupted. The process kills itself from the epoch callback, so the
    moment of the kill does not depend on timing."""
    epochs = 4
    path, cfg = write_config("killed", optim__epochs=epochs)
    _run_until_killed(_KILL_AFTER_EPOCH_2, path)
    killed_at = _weights(tmp_path / "killed")[2]
    assert 2 <= killed_at < epochs
    assert main(["train", str(path), "--resume", "--quiet"]) == 0
    _, cfg_full = write_config("full", optim__epochs=epochs)
    Trainer(TrainConfig.from_dict(cfg_full), progress=False).fit()
    resumed, full = _weights(tmp_path / "killed"), _weights(tmp_path / "full")
    assert resumed[2] == full[2] == epochs
    for a, b in zip(resumed[0].values(), full[0].values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(resumed[1].values(), full[1].values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert [r["epoch"] for r in _rows(tmp_path / "killed")] == ["1", "2", "3", "4"]


_KILL_WITHIN_EPOCH_2 = """
import os, signal, sys
from muse_explore.training import trainer
cfg = trainer.TrainConfig.from_yaml(sys.argv[1])
save = trainer.save_checkpoint
def save_then_die(path, state):  # SIGKILL right after a checkpoint within epoch 2
    save(path, state)
    if state["epoch"] == 1 and state["in_epoch"] == 2:
        os.kill(os.getpid(), signal.SIGKILL)
trainer.save_checkpoint = save_then_die
trainer.Trainer(cfg, progress=False).fit()
"""


@pytest.mark.parametrize(
    "augment, schedule",
    [(None, "plateau"), ([[1], [3]], "plateau"), (None, "cosine"), (None, "final")],
)
def test_resume_within_an_epoch_continues_exactly(write_config, tmp_path, augment, schedule):
    """optim.checkpoint_minutes saves last.pt part-way through an epoch (0: after every
    step); a run killed there resumes at the next batch and ends with exactly the weights,
    and the same per-epoch training losses and learning rates, as a run that was never
    interrupted (also with partitions drawn per step, ``data.augment_hops``, and under the
    cosine schedule, and killed in the first epoch of a final stage)."""
    over = {"optim__epochs": 3, "optim__checkpoint_minutes": 0}
    if schedule == "final":  # the stage is epochs 2 and 3: the kill falls in its first epoch
        over.update(optim__final_epochs=2, optim__final_lr=2e-4, optim__final_energy_weight=50.0)
    else:
        over["optim__schedule"] = schedule
    if augment:
        over["data__augment_hops"] = augment
    path, _ = write_config("killed", **over)
    _run_until_killed(_KILL_WITHIN_EPOCH_2, path)
    state = torch.load(tmp_path / "killed" / "checkpoints" / "last.pt", weights_only=True)
    assert (state["epoch"], state["in_epoch"]) == (1, 2)
    assert [r["epoch"] for r in _rows(tmp_path / "killed")] == ["1"]
    assert main(["train", str(path), "--resume", "--quiet"]) == 0
    _, cfg_full = write_config("full", **over)
    Trainer(TrainConfig.from_dict(cfg_full), progress=False).fit()
    resumed, full = _weights(tmp_path / "killed"), _weights(tmp_path / "full")
    assert resumed[2] == full[2] == 3
    for a, b in zip(resumed[0].values(), full[0].values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    for a, b in zip(resumed[1].values(), full[1].values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    rows, rows_full = _rows(tmp_path / "killed"), _rows(tmp_path / "full")
    assert [r["step"] for r in rows] == [r["step"] for r in rows_full]
    for key in ("train_loss", "val_loss", "lr"):
        assert [float(r[key]) for r in rows] == [float(r[key]) for r in rows_full]
    with pytest.raises(MuSEConfigError, match="checkpoint_minutes"):
        TrainConfig.from_dict(dict(cfg_full, optim={"checkpoint_minutes": -1}))


def test_resume_within_an_epoch_under_another_batch_order_restarts_the_epoch(
    write_config, tmp_path
):
    over = {"optim__epochs": 2, "optim__checkpoint_minutes": 0}
    path, cfg = write_config("killed", **over)
    _run_until_killed(_KILL_WITHIN_EPOCH_2, path)
    other = dict(cfg, optim=dict(cfg["optim"], batch_size=6))
    trainer = Trainer(TrainConfig.from_dict(other), resume=True, progress=False)
    assert trainer.in_epoch == 2
    # the time of the steps before the kill stays counted (made large to tell it apart)
    trainer.epoch_seconds += 1000.0
    trainer.epoch_cpu += 2000.0
    with pytest.warns(UserWarning, match="another batch order"):
        trainer.fit()
    rows = _rows(tmp_path / "killed")
    assert [r["epoch"] for r in rows] == ["1", "2"]
    # the 2 steps taken before the kill stay taken; then the whole epoch in batches of 6
    assert int(rows[1]["step"]) - int(rows[0]["step"]) == 2 + 12 // 6
    assert float(rows[1]["epoch_seconds"]) > 1000.0
    assert float(rows[1]["epoch_cpu_seconds"]) > 2000.0


def test_ddp_gloo_two_processes_match_one_process(write_config, tmp_path):
    # a checkpoint after every step: the within-epoch save is collective under DDP
    path, cfg = write_config("ddp", optim__epochs=2, optim__checkpoint_minutes=0)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "muse_explore.cli.main",
        "train",
        str(path),
        "--quiet",
    ]
    res = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    # torch's benign stride warning for the (1, hidden) energy head, once per process: noise
    assert "Grad strides do not match" not in res.stderr, res.stderr[-3000:]
    _, cfg1 = write_config("single", optim__epochs=2, optim__checkpoint_minutes=0)
    Trainer(TrainConfig.from_dict(cfg1), progress=False).fit()
    ddp, single = _weights(tmp_path / "ddp"), _weights(tmp_path / "single")
    for a, b in zip(ddp[0].values(), single[0].values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
    rows_ddp, rows_single = _rows(tmp_path / "ddp"), _rows(tmp_path / "single")
    for r, s in zip(rows_ddp, rows_single, strict=True):
        assert float(r["val_forces_mae"]) == pytest.approx(float(s["val_forces_mae"]), rel=1e-6)
        assert float(r["train_loss"]) == pytest.approx(float(s["train_loss"]), rel=1e-6)
    # each rank saw half the batches: the saved reach is the maximum over both
    reach = [mx.load_model(tmp_path / r / "best_model.pt").trained_reach for r in ("ddp", "single")]
    assert reach[0] is not None
    assert sum(reach[0], []) == pytest.approx(sum(reach[1], []), rel=1e-9)
    assert yaml.safe_load((tmp_path / "ddp" / "config.yaml").read_text())["seed"] == 0
    shutil.rmtree(tmp_path / "ddp" / "tensorboard")


def test_early_stopping_and_time_limit(write_config):
    _, cfg = write_config(
        "es",
        optim__epochs=5,
        optim__lr=1e-12,
        optim__warmup_steps=0,
        optim__early_stopping_patience=1,
    )
    summary = Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    assert summary["stopped_by"] == "early stopping" and summary["epochs"] == 2
    _, cfg = write_config("tl", optim__epochs=3, optim__time_limit_minutes=0.0)
    summary = Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    assert summary["stopped_by"] == "time limit" and summary["epochs"] == 1
    summary = Trainer(TrainConfig.from_dict(cfg), resume=True, progress=False).fit()
    assert summary["epochs"] == 2  # resumed, then stopped by the limit again


def test_test_metrics_are_the_best_epochs_without_best_pt(write_config, tmp_path):
    # a run folder carried to another machine keeps best_model.pt and last.pt (what is
    # committed), not checkpoints/best.pt: its test metrics must still be the best epoch's,
    # not those of the weights in last.pt
    from muse_explore.training.checkpoint import load_checkpoint, save_checkpoint

    _, cfg = write_config(optim__epochs=1)
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    ckpt = tmp_path / "run" / "checkpoints"
    (ckpt / "best.pt").unlink()
    state = load_checkpoint(ckpt / "last.pt")  # later weights than the best epoch's
    gen = torch.Generator().manual_seed(0)
    for value in state["ema"].values():
        if value.is_floating_point():
            value += 0.3 * torch.randn(value.shape, generator=gen, dtype=value.dtype)
    save_checkpoint(ckpt / "last.pt", state)
    trainer = Trainer(TrainConfig.from_dict(cfg), resume=True, progress=False)
    graphs = ds.to_graphs(trainer.structures, trainer.splits["test"], trainer._converter,
                          trainer._groups)  # fmt: skip
    best = load_for_evaluation(tmp_path / "run" / "best_model.pt")
    expected = trainer.evaluate_graphs(graphs, model=best)[1]
    later = trainer.evaluate_graphs(graphs, model=trainer.eval_model)[1]
    assert later["forces_mae"] != pytest.approx(expected["forces_mae"], rel=1e-3)
    got = trainer.test()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-6, nan_ok=True), key


@pytest.mark.parametrize("augment", [None, [[1], [3]]])
def test_interaction_term_with_group_batches_and_ddp(write_config, tmp_path, augment):
    """Whole groups per batch; two gloo processes end with the weights of one (also with
    partitions drawn per group and step, ``data.augment_hops``)."""
    over = dict(
        optim__epochs=2,
        optim__batch_size=48,
        data__group_by="scan",
        data__max_structures=120,
        data__val_fraction=0.2,
        data__test_fraction=0.2,
        data__files=[str(SCANS)],
        loss={"interaction_weight": 5.0},
    )
    if augment:
        over["data__augment_hops"] = augment
    path, cfg = write_config("ddp_int", **over)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        "-m",
        "muse_explore.cli.main",
        "train",
        str(path),
        "--quiet",
    ]
    res = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    _, cfg1 = write_config("single_int", **over)
    trainer = Trainer(TrainConfig.from_dict(cfg1), progress=False)
    assert len(trainer.splits["train"]) == 72  # three whole scans
    trainer.fit()
    ddp, single = _weights(tmp_path / "ddp_int"), _weights(tmp_path / "single_int")
    for a, b in zip(ddp[0].values(), single[0].values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
    rows = _rows(tmp_path / "single_int")
    assert float(rows[-1]["val_interaction_mae"]) > 0  # 22 E_int per validation scan
    assert float(_rows(tmp_path / "ddp_int")[-1]["val_interaction_mae"]) == pytest.approx(
        float(rows[-1]["val_interaction_mae"]), rel=1e-6
    )
    with pytest.raises(MuSEConfigError, match="interaction_weight needs data.group_by"):
        TrainConfig.from_dict(dict(cfg1, data=dict(cfg1["data"], group_by=None)))


def test_train_only_files_leave_the_split_unchanged(write_config, tmp_path):
    files = dict(data__files=[str(SCANS)], data__group_by="scan", data__max_structures=48)
    _, plain = write_config("plain", **files)
    _, extra = write_config("extra", data__train_only_files=[str(PERIODIC)], **files)
    a = Trainer(TrainConfig.from_dict(plain), progress=False)
    b = Trainer(TrainConfig.from_dict(extra), progress=False)
    n_scans = len(a.structures)
    assert len(b.structures) > n_scans
    assert b.splits["val"] == a.splits["val"] and b.splits["test"] == a.splits["test"]
    assert b.splits["train"] == a.splits["train"] + list(range(n_scans, len(b.structures)))
    assert all(b.structures[i].info["set"] == "periodic" for i in b.splits["train"][-5:])
    _, both = write_config("both", data__train_only_files=[str(SCANS)], **files)
    with pytest.raises(MuSEConfigError, match="train_only_files: .* also in data.files"):
        TrainConfig.from_dict(both)


def test_init_from_a_model_file(write_config, tmp_path):
    _, cfg = write_config("first", optim__epochs=1)
    first = Trainer(TrainConfig.from_dict(cfg), progress=False)
    first.fit()
    source = tmp_path / "first" / "best_model.pt"
    _, cfg2 = write_config("second", optim__epochs=1, init_from=str(source))
    second = Trainer(TrainConfig.from_dict(cfg2), progress=False)
    loaded = mx.load_model(source)
    assert second.model.config.energy_shifts == loaded.config.energy_shifts
    a = second.evaluate_graphs(second.graphs["val"], model=second.model)[1]
    b = second.evaluate_graphs(second.graphs["val"], model=loaded)[1]
    assert a["forces_mae"] == pytest.approx(b["forces_mae"], rel=1e-6)
    # what the coarse levels saw before goes on into the fine-tuned model's record
    assert second.reach_seen.tolist() == loaded.trained_reach
    _, bad = write_config(
        "bad",
        init_from=str(source),
        model={"elements": ["H", "C", "N", "O"], "levels": 0, "hidden": 8},
    )
    with pytest.raises(MuSEConfigError, match="init_from: .* does not match the model section"):
        Trainer(TrainConfig.from_dict(bad), progress=False)
    # a model without the assignment normalisation (files before format 4) continues only
    # as it is: the normalisation has no weights, so only the config tells them apart
    plain = MuSE(replace(loaded.config, assignment_norm=False))
    plain.load_state_dict(loaded.state_dict())
    plain.save(tmp_path / "plain.pt")
    _, cfg3 = write_config("third", optim__epochs=1, init_from=str(tmp_path / "plain.pt"))
    with pytest.raises(MuSEConfigError, match="assignment_norm: false"):
        Trainer(TrainConfig.from_dict(cfg3), progress=False)
    cfg3["model"]["assignment_norm"] = False
    third = Trainer(TrainConfig.from_dict(cfg3), progress=False)
    assert third.model.config.assignment_norm is False


@pytest.mark.parametrize("levels", [1, 0])
@pytest.mark.parametrize("model_format", [3, 4])
def test_resume_a_checkpoint_from_an_older_model_format(
    write_config, tmp_path, levels, model_format
):
    model = {"elements": ["H", "C", "N", "O"], "levels": levels, "hidden": 8}
    _, cfg = write_config("old", optim__epochs=1, model=model)
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    last = tmp_path / "old" / "checkpoints" / "last.pt"
    state = torch.load(last, weights_only=True)
    if model_format == 3:
        del state["model_format"]  # as written before format 4
    else:
        state["model_format"] = 4
    # normalisations the old format did not have
    gone = (
        {"assignment_norm": False, "pool_norm": False}
        if model_format == 3
        else {"pool_norm": False}
    )
    for section in (state["model_config"], state["train_config"]["model"]):
        for key in gone:
            section.pop(key, None)
    torch.save(state, last)
    longer = dict(cfg, optim=dict(cfg["optim"], epochs=2))
    if levels:  # a MuSE run trained without a normalisation resumes only as it was
        with pytest.raises(MuSEConfigError, match="'model' section differs"):
            Trainer(TrainConfig.from_dict(longer), resume=True, progress=False)
        longer["model"] = dict(model, **gone)
    trainer = Trainer(TrainConfig.from_dict(longer), resume=True, progress=False)
    for key, value in gone.items():  # built from the checkpoint
        assert getattr(trainer.model.config, key) is value
    trainer.fit()
    assert [r["epoch"] for r in _rows(tmp_path / "old")] == ["1", "2"]


def test_init_from_adds_a_long_range_head(write_config, tmp_path):
    """A model file without the LES head starts a model with it (the head starts at zero)."""
    from tests.training.conftest import SCANS

    plain_model = {"elements": ["H", "C", "N", "O"], "levels": 0, "hidden": 8}
    finite = {
        "files": [str(SCANS)],
        "max_structures": 24,
        "val_fraction": 0.25,
        "test_fraction": 0.25,
    }
    _, cfg = write_config("plain", optim__epochs=1, model=plain_model, data=finite)
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    source = tmp_path / "plain" / "best_model.pt"
    les_model = dict(plain_model, long_range="les")
    _, cfg2 = write_config(
        "les", optim__epochs=1, init_from=str(source), model=les_model, data=finite
    )
    les = Trainer(TrainConfig.from_dict(cfg2), progress=False)
    loaded = mx.load_model(source)
    a = les.evaluate_graphs(les.graphs["val"], model=les.model)[1]
    b = les.evaluate_graphs(les.graphs["val"], model=loaded)[1]
    assert a["energy_mae"] == pytest.approx(b["energy_mae"], rel=1e-3)  # tiny initial charges
    les.fit()
    assert les.model.long_range.charge[-1].weight.abs().sum() > 0  # the head learned
    _, back = write_config("back", init_from=str(tmp_path / "les" / "best_model.pt"),
                           model=plain_model, data=finite)  # fmt: skip
    with pytest.raises(MuSEConfigError, match="unexpected"):
        Trainer(TrainConfig.from_dict(back), progress=False)


def test_unset_num_threads_takes_the_idle_cores(write_config, monkeypatch):
    import muse_explore.training.trainer as tr

    calls = []
    monkeypatch.setattr(tr, "apply_thread_default", lambda: calls.append(1) or 1)
    _, cfg = write_config(num_threads=None, optim__epochs=1)
    Trainer(TrainConfig.from_dict(cfg), progress=False).close()
    assert calls == [1]  # the calculator's rule: never more threads than idle cores
    _, cfg = write_config(name="fixed", num_threads=1, optim__epochs=1)
    Trainer(TrainConfig.from_dict(cfg), progress=False).close()
    assert calls == [1]  # a number given is used as given


def test_cpu_training_tunes_the_allocator(write_config, monkeypatch):
    import muse_explore.training.trainer as tr

    calls = []
    monkeypatch.setattr(tr, "tune_cpu_allocator", lambda: calls.append(1) or True)
    _, cfg = write_config(optim__epochs=1)
    Trainer(TrainConfig.from_dict(cfg), progress=False).close()
    assert calls == [1]  # as the calculator: large blocks stay in the process for reuse


def _poison_atom_embedding(trainer, calls_to_poison):
    """Make the atom embedding give NaN on the given forward calls (counted from 1)."""
    calls = []

    def hook(_module, _inputs, output):
        calls.append(1)
        if calls_to_poison is all or len(calls) in calls_to_poison:
            return output * float("nan")
        return None

    return trainer.model.backbones[0].embedding.register_forward_hook(hook)


@pytest.mark.parametrize("levels", [1, 0])
def test_a_step_with_a_non_finite_loss_is_skipped(write_config, tmp_path, levels):
    # levels 1: NaN features make the coarse positions NaN (MuSENumericalError in the
    # forward pass); levels 0: they make the loss NaN
    from muse_explore.errors import MuSESkippedStepWarning

    model = {"elements": ["H", "C", "N", "O"], "levels": levels, "hidden": 8}
    _, cfg = write_config("nan", optim__epochs=1, optim__batch_size=1, model=model)
    trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
    batches = len(trainer.loader)
    _poison_atom_embedding(trainer, {3})  # the third training batch
    with pytest.warns(MuSESkippedStepWarning, match=r"batch 3: skipped .*structures: \S+xz:\d+"):
        trainer.fit()
    assert trainer.step == batches - 1  # the optimiser stepped on every other batch
    for state in (trainer.model.state_dict(), trainer.eval_model.state_dict()):
        assert all(bool(torch.isfinite(v).all()) for v in state.values() if v.is_floating_point())
    row = _rows(tmp_path / "nan")[-1]
    assert row["skipped_steps"] == "1"
    assert float(row["train_loss"]) == pytest.approx(float(row["train_loss"]))  # not NaN
    assert float(row["val_loss"]) < 1e3


@pytest.mark.parametrize("batch_size, message", [(1, "10 training steps in a row"), (4, "every")])
def test_a_run_whose_every_step_fails_stops_with_a_clear_error(write_config, batch_size, message):
    from muse_explore.errors import MuSETrainingError

    _, cfg = write_config("stuck", optim__epochs=1, optim__batch_size=batch_size)
    trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
    assert len(trainer.loader) < 10 if batch_size == 4 else len(trainer.loader) >= 10
    _poison_atom_embedding(trainer, all)
    with pytest.warns(UserWarning), pytest.raises(MuSETrainingError, match=message):
        trainer.fit()


def test_ddp_skips_a_step_that_fails_on_one_process_only(write_config, tmp_path):
    # process 1's second batch gives NaN features; process 0's is fine: both must skip that
    # step (or process 0 would wait for gradients that never come) and end with the weights
    # of one process whose second batch failed
    helper = str(ROOT / "tests" / "training" / "poisoned_run.py")
    path, _ = write_config("ddp_nan", optim__epochs=1)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    res = subprocess.run(
        [*cmd, helper, str(path), "1", "2"], env=_env(), capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "skipped a training step" in res.stderr
    single, _ = write_config("single_nan", optim__epochs=1)
    res = subprocess.run(
        [sys.executable, helper, str(single), "0", "2"], env=_env(), capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr[-3000:]
    ddp, one = _weights(tmp_path / "ddp_nan"), _weights(tmp_path / "single_nan")
    for a, b in zip(ddp[0].values(), one[0].values(), strict=True):
        assert bool(torch.isfinite(a).all())
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)
    for run in ("ddp_nan", "single_nan"):
        assert _rows(tmp_path / run)[0]["skipped_steps"] == "1"


def _coarse_per_atom(trainer) -> float:
    """Mean |coarse levels' energy per atom| (eV) of the trained model on its training data."""
    from torch_geometric.data import Batch

    from muse_explore.calc.derivatives import compute_properties

    batch = Batch.from_data_list(list(trainer.graphs["train"])[:12])
    with torch.no_grad():
        out = compute_properties(trainer.model, batch, forces=False)["output"]
    natoms = torch.bincount(batch.batch, minlength=batch.num_graphs)
    return float((out.scale_energies[:, 1:].sum(dim=1) / natoms).abs().mean())


def test_coarse_energy_term_pulls_the_coarse_offset_toward_zero(write_config, tmp_path):
    """With ``coarse_energy_weight`` the coarse levels hold far less energy per atom than
    in the same run without it; the term shows in the loss."""
    runs = {}
    for name, weight in (("free", 0.0), ("pulled", 1000.0)):
        _, cfg = write_config(name, optim__epochs=3, loss__coarse_energy_weight=weight)
        trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
        trainer.fit()
        runs[name] = trainer
    free, pulled = (_coarse_per_atom(runs[k]) for k in ("free", "pulled"))
    assert pulled < 0.2 * free, (free, pulled)
    assert pulled < 0.01  # eV/atom


@pytest.mark.parametrize(
    "section, field, value",
    [("loss", "coarse_energy_weight", 1.0), ("data", "augment_hops", [[3]])],
)
def test_resume_a_run_saved_before_a_field_existed(write_config, tmp_path, section, field, value):
    """A checkpoint whose config lacks a later loss or data field resumes with the field's
    default; asking for another value on resume is refused."""
    _, cfg = write_config("old", optim__epochs=1)
    Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    last = tmp_path / "old" / "checkpoints" / "last.pt"
    state = torch.load(last, weights_only=True)
    del state["train_config"][section][field]
    torch.save(state, last)
    longer = dict(cfg, optim=dict(cfg["optim"], epochs=2))
    changed = dict(longer, **{section: dict(longer.get(section, {}), **{field: value})})
    with pytest.raises(MuSEConfigError, match=f"'{section}' section differs"):
        Trainer(TrainConfig.from_dict(changed), resume=True, progress=False)
    Trainer(TrainConfig.from_dict(longer), resume=True, progress=False).fit()
    assert [r["epoch"] for r in _rows(tmp_path / "old")] == ["1", "2"]


def test_augment_hops_trains_on_other_partitions(write_config, tmp_path, monkeypatch):
    """Training batches reach the model through drawn partitions, validation batches through
    the model's own; the model card says so."""
    from muse_explore.training import trainer as trainer_module

    seen = {True: 0, False: 0}  # training steps whose model read another cut / its own
    real = trainer_module.compute_properties

    def spy(model, batch, **kw):
        if "seed_masks" in batch:
            seen[not torch.equal(batch.seed_mask, batch.seed_masks[..., 0])] += 1
        else:
            assert batch.seed_mask is not None  # validation: the model's own seeds
        return real(model, batch, **kw)

    monkeypatch.setattr(trainer_module, "compute_properties", spy)
    _, cfg = write_config("aug", optim__epochs=1, data__augment_hops=[[1], [3]])
    trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
    assert all(g.seed_masks.shape[-1] == 3 for g in trainer.graphs["train"])
    assert all("seed_masks" not in g for g in trainer.graphs["val"])
    trainer.fit()
    assert seen[True] > 0 and seen[True] + seen[False] == len(trainer.loader)
    assert math.isfinite(float(_rows(tmp_path / "aug")[-1]["val_loss"]))
    assert main(["export", str(tmp_path / "aug"), "tiny-aug", "--out", str(tmp_path / "m")]) == 0
    card = (tmp_path / "m" / "tiny-aug.md").read_text()
    assert "hops or one of [[1], [3]], drawn uniformly" in " ".join(card.split())


@pytest.mark.parametrize(
    ("grad", "bucket", "silenced"),
    [
        ("[1, 64], strides() = [1, 1]", "[1, 64], strides() = [64, 1]", True),  # energy head
        ("[1, 23, 16], strides() = [16, 16, 1]", "[1, 23, 16], strides() = [368, 16, 1]", True),
        ("[1, 4, 16], strides() = [64, 1, 4]", "[1, 4, 16], strides() = [64, 16, 1]", False),
        ("[8, 8, 1], strides() = [8, 1, 8]", "[8, 8, 1], strides() = [8, 1, 1]", False),
        ("[1, 64], strides() = [1, 1]", "[1, 32], strides() = [32, 1]", False),
    ],
)
def test_only_the_size_one_stride_warning_of_ddp_is_silenced(grad, bucket, silenced):
    # the filter that test_ddp_gloo_two_processes_match_one_process needs, against the
    # warning's text as torch writes it: a real layout mismatch must still be seen
    from muse_explore.training.trainer import SIZE_ONE_STRIDE_WARNING

    text = (
        "Grad strides do not match bucket view strides. This may indicate grad was not "
        "created according to the gradient layout contract, or that the param's strides "
        "changed since DDP was constructed.  This is not an error, but may impair "
        f"performance.\ngrad.sizes() = {grad}\nbucket_view.sizes() = {bucket} (Triggered "
        "internally at /pytorch/torch/csrc/distributed/c10d/reducer.cpp:334.)"
    )
    assert bool(re.compile(SIZE_ONE_STRIDE_WARNING, re.I).match(text)) is silenced


def test_cpu_time_is_recorded_beside_wall_time_and_a_pause_is_left_out(
    write_config, tmp_path, monkeypatch
):
    """metrics.csv carries each epoch's CPU time and its running sum. A pause within an
    epoch (a process stopped for a while; here a sleep, which takes no CPU time) lengthens
    the wall time only. A run resumed from a checkpoint saved before CPU time was recorded
    goes on recording each epoch's, and leaves the running sum blank."""
    import time

    from muse_explore.training import trainer as tr

    compute, paused = tr.compute_properties, []

    def pause_once(*args, **kwargs):
        if not paused:
            paused.append(True)
            time.sleep(1.0)
        return compute(*args, **kwargs)

    monkeypatch.setattr(tr, "compute_properties", pause_once)
    _, cfg = write_config("cpu", optim__epochs=2, num_threads=1)
    summary = Trainer(TrainConfig.from_dict(cfg), progress=False).fit()
    rows = _rows(tmp_path / "cpu")
    wall = [float(r["epoch_seconds"]) for r in rows]
    cpu = [float(r["epoch_cpu_seconds"]) for r in rows]
    assert all(c > 0 for c in cpu)
    assert float(rows[-1]["cpu_seconds"]) == pytest.approx(sum(cpu))
    assert summary["cpu_seconds"] == pytest.approx(sum(cpu))
    assert wall[0] - cpu[0] > 0.9  # the second of sleep: wall time only (one thread)

    last = tmp_path / "cpu" / "checkpoints" / "last.pt"
    state = torch.load(last, weights_only=True)
    del state["cpu_elapsed"], state["epoch_cpu_seconds"]
    torch.save(state, last)
    longer = dict(cfg, optim=dict(cfg["optim"], epochs=3))
    Trainer(TrainConfig.from_dict(longer), resume=True, progress=False).fit()
    rows = _rows(tmp_path / "cpu")
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert float(rows[2]["epoch_cpu_seconds"]) > 0 and rows[2]["cpu_seconds"] == ""


@pytest.mark.parametrize("recorded", [True, False])
def test_cpu_time_before_a_save_within_an_epoch_survives_a_kill(write_config, tmp_path, recorded):
    """A run killed part-way through epoch 2 counts, after --resume, the CPU time spent in
    that epoch before its last save; resumed from a checkpoint that did not record it, the
    epoch's CPU time is left blank rather than undercounted."""
    path, _ = write_config("killed", optim__epochs=2, optim__checkpoint_minutes=0)
    _run_until_killed(_KILL_WITHIN_EPOCH_2, path)
    last = tmp_path / "killed" / "checkpoints" / "last.pt"
    state = torch.load(last, weights_only=True)
    before = state["epoch_cpu_seconds"]
    assert state["in_epoch"] == 2 and before > 0
    if not recorded:
        del state["cpu_elapsed"], state["epoch_cpu_seconds"]
        torch.save(state, last)
    assert main(["train", str(path), "--resume", "--quiet"]) == 0
    rows = _rows(tmp_path / "killed")
    if recorded:
        assert float(rows[1]["epoch_cpu_seconds"]) > before
        assert float(rows[1]["cpu_seconds"]) == pytest.approx(
            float(rows[0]["epoch_cpu_seconds"]) + float(rows[1]["epoch_cpu_seconds"])
        )
    else:
        assert rows[1]["epoch_cpu_seconds"] == rows[1]["cpu_seconds"] == ""


def test_ctrl_c_says_what_was_saved_and_how_to_continue(
    write_config, tmp_path, monkeypatch, capsys
):
    """An interrupt (Ctrl-C) after epoch 1 ends train with status 130 and a line naming the
    last save and the command that continues the run, not a traceback; that command then
    finishes the run."""
    from muse_explore.cli import train as cli_train

    line = cli_train.epoch_line

    def interrupt_after_epoch_1(row, epochs, best):
        if row["epoch"] == 1:
            raise KeyboardInterrupt
        return line(row, epochs, best)

    monkeypatch.setattr(cli_train, "epoch_line", interrupt_after_epoch_1)
    path, _ = write_config("ctrl-c", optim__epochs=2)
    assert main(["train", str(path), "--quiet", "--seed", "3"]) == 130
    err = capsys.readouterr().err
    assert "holds the run up to the end of epoch 1." in err and "Traceback" not in err
    assert f"Continue with: muse-explore train {path} --seed 3 --resume" in err
    assert main(["train", str(path), "--quiet", "--seed", "3", "--resume"]) == 0
    assert [r["epoch"] for r in _rows(tmp_path / "ctrl-c-seed3")] == ["1", "2"]


def test_the_model_file_records_what_its_coarse_nodes_saw_in_training(write_config, tmp_path):
    from muse_explore.calc.reach import structure_reach
    from muse_explore.training.checkpoint import load_checkpoint

    path, cfg = write_config("reach", optim__epochs=2)
    trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
    trainer.fit()
    model = mx.load_model(tmp_path / "reach" / "best_model.pt")
    assert len(model.trained_reach) == model.levels == 1
    # the most any node of a training structure sees, by the final weights: the atoms its
    # neighbours stand for move a little with the soft assignment, their count does not
    graphs = trainer.graphs["train"]
    batch = next(iter(torch_geometric.loader.DataLoader(graphs, batch_size=len(graphs))))
    with torch.no_grad():
        out = model.double()(batch_to(batch, torch.device("cpu"), torch.float64))
    most = structure_reach(out, len(graphs)).amax(dim=0)[0]
    (atoms, nodes) = model.trained_reach[0]
    assert nodes == float(most[1]) and atoms == pytest.approx(float(most[0]), rel=0.05)
    # the checkpoint keeps it for --resume and for evaluation from the checkpoint
    state = load_checkpoint(tmp_path / "reach" / "checkpoints" / "last.pt")
    assert state["reach_seen"] == [model.trained_reach[0]]
    assert load_for_evaluation(tmp_path / "reach" / "checkpoints" / "last.pt").trained_reach
    # a resumed run starts from the saved maxima, not from nothing
    resumed = Trainer(TrainConfig.from_dict(cfg), resume=True, progress=False)
    assert resumed.reach_seen.tolist() == state["reach_seen"]
    # a backbone alone has no coarse nodes, and nothing is recorded
    _, cfg0 = write_config("alone", optim__epochs=1, model__levels=0, model__num_interactions=[1])
    Trainer(TrainConfig.from_dict(cfg0), progress=False).fit()
    assert mx.load_model(tmp_path / "alone" / "best_model.pt").trained_reach is None
