"""Training: configuration, data, loss, trainer (single process or DDP), evaluation."""

from muse_explore.training.config import DataConfig, LossConfig, OptimConfig, TrainConfig
from muse_explore.training.evaluation import evaluate, load_for_evaluation
from muse_explore.training.shifts import fit_energy_shifts
from muse_explore.training.trainer import Trainer

__all__ = [
    "DataConfig",
    "LossConfig",
    "OptimConfig",
    "TrainConfig",
    "Trainer",
    "evaluate",
    "fit_energy_shifts",
    "load_for_evaluation",
]
