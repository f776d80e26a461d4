"""The cosine learning-rate schedule (``optim.schedule: cosine``), a function of the step alone.

After ``warmup_steps`` of linear warm-up the learning rate falls from ``lr`` to ``min_lr`` along
half a cosine over the rest of the budget (Loshchilov and Hutter, "SGDR: Stochastic Gradient
Descent with Warm Restarts", ICLR 2017, without the restarts). It depends on the step and the
budget only, not on the validation curve, so a resumed run takes the same learning rates as an
uninterrupted one, and a run that stops early stopped on a schedule that was still annealing.
"""

from __future__ import annotations

import math

from muse_explore.training.config import OptimConfig


def cosine_lr(step: int, optim: OptimConfig, total_steps: int) -> float:
    """The learning rate of optimisation step ``step`` (from 0) of a ``total_steps`` budget.

    Steps before ``optim.warmup_steps`` are the warm-up's, not this schedule's; from the
    warm-up's end to ``total_steps`` the rate goes from ``optim.lr`` to ``optim.min_lr``, and
    it stays at ``optim.min_lr`` beyond. The trainer counts the steps it takes: a batch whose
    step was skipped (a non-finite loss) does not advance the schedule, so a run with k
    skipped steps ends k steps short of ``min_lr``.
    """
    span = max(total_steps - optim.warmup_steps, 1)
    progress = min(max(step - optim.warmup_steps, 0) / span, 1.0)
    return optim.min_lr + 0.5 * (optim.lr - optim.min_lr) * (1.0 + math.cos(math.pi * progress))
