"""``muse-explore train CONFIG.yaml``: train a model (``torchrun`` for several processes)."""

from __future__ import annotations

import json
import math
import os
import sys


def add_parser(sub) -> None:
    """Register the ``train`` subcommand."""
    p = sub.add_parser(
        "train",
        help="train a model from a YAML configuration",
        description="Train a MuSE model (or a plain backbone, levels: 0) from a YAML file. "
        "For several GPUs or nodes: torchrun --nproc_per_node=G $(which muse-explore) train "
        "CONFIG.yaml",
    )
    p.add_argument("config", help="the YAML configuration (see docs/training.md)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--resume", action="store_true", help="continue the run from its last.pt")
    how.add_argument(
        "--resume-if-any",
        action="store_true",
        help="continue the run if it has a last.pt, start it otherwise: one command that "
        "starts a run and continues it after an interruption (job queues, preemptible machines)",
    )
    p.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars (the one line per epoch stays: losses, validation errors, time)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help="override the config's seed (weights, split order and data order; the split "
        "itself stays on data.split_seed when the config sets it); the run goes to "
        "RUN_DIR-seedN",
    )


#: validation errors on the epoch line: metrics.csv column, label, unit
_ERRORS = (
    ("val_energy_mae", "E", "meV/atom"),
    ("val_forces_mae", "F", "meV/Å"),
    ("val_stress_mae", "stress", "meV/Å³"),
    ("val_interaction_mae", "E_int", "meV"),
)


def epoch_line(row: dict, epochs: int, best_epoch: int) -> str:
    """One epoch's summary for the terminal or a job's log (``row``: a metrics.csv row)."""
    best = "best so far" if best_epoch == row["epoch"] else f"best at epoch {best_epoch}"
    parts = [
        f"epoch {row['epoch']}/{epochs}",
        f"train loss {row['train_loss']:.4g}",
        f"val loss {row['val_loss']:.4g} ({best})",
    ]
    errors = [
        f"{label} {row[key]:.3g} {unit}"
        for key, label, unit in _ERRORS
        if isinstance(row.get(key), float) and math.isfinite(row[key])
    ]
    if errors:
        parts.append("MAE " + ", ".join(errors))
    cpu = row.get("epoch_cpu_seconds")
    seconds = f"{row['epoch_seconds']:.0f} s"
    parts.append(seconds + (f" ({cpu:.0f} s CPU)" if isinstance(cpu, float) else ""))
    if row.get("skipped_steps"):
        parts.append(f"{row['skipped_steps']} step(s) skipped")
    left = epochs - row["epoch"]
    if left > 0 and row.get("elapsed_seconds"):
        # at the mean pace so far; early stopping or a time limit may end the run sooner
        pace = row["elapsed_seconds"] / row["epoch"]
        parts.append(f"{left} epoch(s) left, about {_duration(left * pace)} at this pace")
    return " | ".join(parts)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _interrupted(args, run_dir) -> str:
    """What an interrupted run (Ctrl-C) has saved (from its last.pt) and how to continue."""
    from muse_explore.errors import MuSEFileError
    from muse_explore.training.checkpoint import load_checkpoint
    from muse_explore.training.trainer import last_checkpoint

    again = f"muse-explore train {args.config}" + (
        f" --seed {args.seed}" if args.seed is not None else ""
    )
    last = last_checkpoint(run_dir)
    if not last.is_file():
        return (
            f"muse-explore train: interrupted before anything was saved in {run_dir}; "
            f"start again with: {again}"
        )
    try:
        state = load_checkpoint(last)
        epoch, batches = int(state["epoch"]), int(state.get("in_epoch", 0))
    except (MuSEFileError, KeyError, TypeError, ValueError) as err:
        return f"muse-explore train: interrupted; {last} cannot be read ({err})"
    saved = f"the end of epoch {epoch}" if epoch else "the start"
    if batches:
        saved += f" and {batches} batch(es) of epoch {epoch + 1}"
    return (
        f"muse-explore train: interrupted; {last} holds the run up to {saved}. "
        f"Continue with: {again} --resume"
    )


def _finished(cfg, summary: dict) -> str:
    """The line for a resumed run that had nothing left to train."""
    if summary["stopped_by"] == "early stopping":
        why = (
            f"the early-stopping rule had ended it (no better validation loss for "
            f"{cfg.optim.early_stopping_patience} epochs); raise optim.early_stopping_patience "
            "(or optim.epochs) in the config to train it further"
        )
    else:
        why = "raise optim.epochs in the config to train it further"
    return (
        f"{cfg.run_dir} had already finished: {summary['epochs']} of {cfg.optim.epochs} epochs, "
        f"nothing trained now; {why}."
    )


def run(args) -> int:
    """Train; returns the exit status."""
    from muse_explore.training.config import TrainConfig
    from muse_explore.training.evaluation import format_metrics
    from muse_explore.training.trainer import Trainer, last_checkpoint

    cfg = TrainConfig.from_yaml(args.config)
    if args.seed is not None:
        cfg = cfg.reseeded(args.seed)
    resume = args.resume or (args.resume_if_any and last_checkpoint(cfg.run_dir).is_file())
    # Ctrl-C reaches a single process; torchrun stops its workers with SIGTERM instead
    single = int(os.environ.get("WORLD_SIZE", "1")) == 1
    try:
        trainer = Trainer(cfg, resume=resume, progress=not args.quiet)
    except KeyboardInterrupt:
        if not single:
            raise
        print(_interrupted(args, cfg.run_dir), file=sys.stderr, flush=True)
        return 130
    trainer.callbacks.append(
        lambda row: print(epoch_line(row, cfg.optim.epochs, trainer.best_epoch), flush=True)
    )
    if trainer.dist.distributed and trainer.dist.main:
        import torch.distributed as dist

        print(
            f"DDP: {trainer.dist.world_size} process(es), backend {dist.get_backend()}, "
            f"device {trainer.dist.device}",
            flush=True,
        )
    start_epoch = trainer.epoch
    try:
        summary = trainer.fit()
    except KeyboardInterrupt:
        if not single:
            raise
        print(_interrupted(args, cfg.run_dir), file=sys.stderr, flush=True)
        return 130
    finally:
        trainer.close()
    if trainer.dist.main:
        if resume and summary["epochs"] == start_epoch:
            print(_finished(cfg, summary), flush=True)
        test = summary.pop("test", None)
        print(json.dumps(summary, indent=2))
        if test is not None:
            print(f"test set ({test['structures']} structures, best EMA weights):")
            print(format_metrics(test))
    if trainer.dist.distributed:
        # every file is written and closed; skip the process-group teardown, which can
        # deadlock with gloo (see muse_explore.training.distributed.cleanup)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0
