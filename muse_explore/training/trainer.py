"""The trainer: fit a MuSE model (any backbone, any number of levels) to reference data.

One epoch: shuffled global batches (:class:`~muse_explore.training.sampler.GroupBatchSampler`
in every run, so that a run on G processes sees exactly the batches of a one-process run),
forces (and stress) by autograd with ``create_graph=True``, the Huber loss of
:mod:`muse_explore.training.loss`, gradient clipping, Adam with AMSGrad, linear warm-up, an EMA
of the weights. After each epoch the EMA
weights are validated, the learning rate is reduced on plateau (or follows the cosine schedule of
:mod:`muse_explore.training.schedule`, step by step), metrics go to ``metrics.csv``
and TensorBoard, and the checkpoints ``last.pt`` (always) and ``best.pt`` plus the plain
model file ``best_model.pt`` (on improvement) are written atomically. ``resume=True``
continues from ``last.pt`` with the optimiser, scheduler, EMA, RNG state and epoch restored.

Run folder::

    config.yaml  splits.json  metrics.csv  tensorboard/  checkpoints/{last,best}.pt
    best_model.pt  test_metrics.json
"""

from __future__ import annotations

import copy
import csv
import json
import math
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from torch_geometric.loader import DataLoader

from muse_explore.atomic import atomic_open, atomic_path, remove_stale_temporaries
from muse_explore.calc.allocator import tune_cpu_allocator
from muse_explore.calc.derivatives import compute_properties
from muse_explore.calc.evaluate import evaluate_batches
from muse_explore.calc.reach import structure_reach
from muse_explore.calc.threads import apply_thread_default
from muse_explore.data.graph import batch_to
from muse_explore.errors import (
    MuSEConfigError,
    MuSEFileError,
    MuSENumericalError,
    MuSESkippedStepWarning,
    MuSETrainingError,
    MuSEUnknownBackboneError,
)
from muse_explore.models.config import MuSEConfig
from muse_explore.models.file_format import backbone_origin, migrate_config, unknown_backbone_hint
from muse_explore.models.muse import MuSE
from muse_explore.models.serialization import save_model
from muse_explore.training import dataset as ds
from muse_explore.training.checkpoint import (
    checkpoint_model_config,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from muse_explore.training.config import (
    DataConfig,
    LossConfig,
    TrainConfig,
    model_from_section,
)
from muse_explore.training.distributed import (
    all_reduce_max,
    all_reduce_sum,
    barrier,
    cleanup,
    init_distributed,
)
from muse_explore.training.evaluation import load_for_evaluation
from muse_explore.training.loss import combine, loss_terms
from muse_explore.training.metrics import ErrorAccumulator
from muse_explore.training.partitions import attach_partitions, draw_partitions
from muse_explore.training.sampler import GroupBatchSampler
from muse_explore.training.schedule import cosine_lr
from muse_explore.training.shifts import fit_energy_shifts

DTYPES = {"float32": torch.float32, "float64": torch.float64}
CSV_FIELDS = [
    "epoch", "step", "lr", "train_loss", "val_loss",
    "val_energy_mae", "val_energy_rmse", "val_forces_mae", "val_forces_rmse",
    "val_stress_mae", "val_stress_rmse", "val_interaction_mae", "val_interaction_rmse",
    "epoch_seconds", "elapsed_seconds", "skipped_steps", "epoch_cpu_seconds", "cpu_seconds",
]  # fmt: skip
# epoch_seconds and elapsed_seconds are wall time (a stopped process's pause included);
# epoch_cpu_seconds and cpu_seconds are the CPU time of every training process and its
# threads, which a pause leaves out. cpu_seconds is blank when the run was resumed from a
# checkpoint that did not record it.
TERMS = ("energy", "forces", "stress", "interaction", "coarse")
#: Training stops (:class:`MuSETrainingError`) after this many skipped steps in a row: the
#: weights do not change while steps are skipped, so a run whose every batch fails is stuck.
MAX_SKIPPED_IN_A_ROW = 10


#: The best model before a final stage (``optim.final_epochs``), kept beside ``best_model.pt``
#: when the stage begins: the stage's best model overwrites that one.
BEFORE_FINAL = "best_model_before_final.pt"

#: torch's DDP warning for a gradient whose layout differs from its bucket view's only in
#: the stride along a leading dimension of size 1 (the same memory layout; pytorch#70222): the
#: energy heads' (1, hidden) weights and MACE's (1, n, hidden) contraction weights have such
#: gradients. Only that case is silenced under DDP. torch warns once per process, so a real
#: layout mismatch is still reported when it comes first, not after a silenced one.
SIZE_ONE_STRIDE_WARNING = (
    r"(?s)Grad strides do not match bucket view strides.*"
    r"grad\.sizes\(\) = \[1(?P<s>(?:, \d+)*)\], "
    r"strides\(\) = \[\d+(?P<t>(?:, \d+)*)\]\n"
    r"bucket_view\.sizes\(\) = \[1(?P=s)\], strides\(\) = \[\d+(?P=t)\]"
)


def last_checkpoint(run_dir: str | Path) -> Path:
    """Where a run saves the state it resumes from: ``RUN_DIR/checkpoints/last.pt``."""
    return Path(run_dir) / "checkpoints" / "last.pt"


def _atomic_write_text(path: Path, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)


class Trainer:
    """Train a model as described by a :class:`TrainConfig` (see the module docstring).

    Args:
        config: the run's configuration.
        resume: continue the run in ``config.run_dir`` from its ``last.pt``.
        progress: show tqdm progress bars (rank 0 only).
        callbacks: functions called on rank 0 with each epoch's metrics row (a dict).
    """

    def __init__(
        self,
        config: TrainConfig,
        *,
        resume: bool = False,
        progress: bool = True,
        callbacks: list[Callable[[dict], None]] | None = None,
    ) -> None:
        self.cfg = config
        self.progress = progress
        self.callbacks = list(callbacks or [])
        self.dist = init_distributed(config.device)
        if self.dist.device.type == "cpu":
            # glibc would return the large (edges x features) blocks of every step to the
            # OS and fault them in again: 25,000 page faults and 8 % of a MuSE-PaiNN
            # peptide step (muse_explore.calc.allocator)
            tune_cpu_allocator()
        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        elif self.dist.device.type == "cpu":  # as many threads as the load leaves cores idle
            apply_thread_default()
        self.dtype = DTYPES[config.dtype]
        self.eval_dtype = DTYPES[config.eval_dtype]
        self.run_dir = Path(config.run_dir)
        last = last_checkpoint(self.run_dir)
        self.ckpt_dir = last.parent
        if resume and not last.is_file():
            raise MuSEFileError(
                f"nothing to resume: no checkpoint at {last}. A run saves its first checkpoint "
                f"after optim.checkpoint_minutes or at the end of epoch 1, whichever comes "
                f"first; if it was stopped before that, start it again without --resume"
            )
        if self.dist.rank == 0:  # a kill during a save leaves a temporary file; drop it
            for folder in (self.run_dir, self.ckpt_dir):
                remove_stale_temporaries(folder)
        if not resume and last.exists():
            raise MuSEConfigError(
                f"{self.run_dir} already holds a run; pass --resume to continue it or choose "
                "another run_dir"
            )
        state = load_checkpoint(last) if resume else None
        if state is not None:
            _check_same_run(state["train_config"], config, state.get("model_format", 3))
        self._load_data(resume)
        self._build_model(state)
        self._build_loader()
        self._build_optimiser()
        self.epoch = 0
        self.step = 0
        self.best = math.inf
        self.best_epoch = 0
        self.best_key: list | None = None  # set by _stage_key() when the first epoch starts
        self.since_best = 0
        self.elapsed = 0.0
        self.cpu_elapsed: float | None = 0.0  # None: resumed from a checkpoint without it
        # part-way through an epoch (a checkpoint within it, see optim.checkpoint_minutes):
        # batches done, the global [loss sum, steps taken, steps skipped] so far, seconds
        # spent on them
        self.in_epoch = 0
        self.skipped_steps = 0  # in the last finished epoch
        self.epoch_total = torch.zeros(3, dtype=torch.float64)
        self._skipped_in_row = 0
        self.epoch_seconds = 0.0
        self.epoch_cpu = 0.0  # this process's CPU seconds in the unfinished epoch
        # False: resumed part-way through an epoch from a checkpoint that did not record the
        # CPU time before its save, so that epoch's CPU time is unknown
        self.epoch_cpu_known = True
        self.epoch_order: str | None = None  # digest of the epoch's batches (sampler)
        # per coarse level, the most [atoms, nodes] a node saw within its cutoff in the
        # training steps so far (MuSEOutput.reach); saved with the model as trained_reach
        levels, before = self.model.levels, self.model.trained_reach  # init_from's record
        self.reach_seen = None
        if levels:
            self.reach_seen = (
                torch.tensor(before, dtype=torch.float64)
                if before
                else torch.zeros(levels, 2, dtype=torch.float64)
            )
        if state is not None:
            self._restore(state)
        if self.dist.main:
            # on --resume the optim section may have changed (e.g. a shorter epoch budget):
            # the run folder records the config the run continues under
            self.run_dir.mkdir(parents=True, exist_ok=True)
            import yaml

            _atomic_write_text(
                self.run_dir / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False)
            )
        if state is None and self.dist.main:
            ds.save_splits(
                self.run_dir / "splits.json",
                self.splits,
                [a.info["source"] for a in self.structures],
            )
        barrier(self.dist)
        self._writer = None

    def _load_data(self, resume: bool) -> None:
        """Read the data and split it (or read the run's split); every rank does the same."""
        config = self.cfg
        saved = ds.load_splits(self.run_dir / "splits.json") if resume else None
        self.structures, self.splits = ds.run_data(config.data, config.seed, saved)
        _warn_unseen_elements(self.structures, self.splits)

    def _build_model(self, state: dict | None) -> None:
        """The model (shifts fitted on the training split, or restored) and its graphs."""
        config = self.cfg
        if state is not None:
            mcfg = checkpoint_model_config(state)
        else:
            mcfg = config.model
        try:
            self.model = MuSE(mcfg)
        except MuSEUnknownBackboneError as err:
            if state is None:
                raise
            raise MuSEUnknownBackboneError(f"{err}{unknown_backbone_hint(state)}") from None
        if state is None and config.init_from:
            self._init_from(config.init_from)
        elif state is None and config.fit_shifts:
            train_atoms = [self.structures[i] for i in self.splits["train"]]
            self.model.set_energy_shifts(fit_energy_shifts(train_atoms, mcfg.elements))
        self.model.to(self.dist.device, self.dtype)
        converter = self.model.graph_converter(torch.float64)
        self.interaction = config.loss.interaction_weight > 0
        self._groups = (
            ds.group_ids(self.structures, config.data.group_by) if self.interaction else None
        )
        self.graphs = {
            name: ds.to_graphs(self.structures, self.splits[name], converter, self._groups)
            for name in ("train", "val")
        }
        self._converter = converter
        self.augment = bool(config.data.augment_hops)  # TrainConfig.check checked the levels
        if self.augment:
            attach_partitions(
                self.graphs["train"], self.structures, config.data.augment_hops, mcfg.seeding
            )

    def _build_loader(self) -> None:
        """Batches of the training graphs, and DDP around the model when distributed."""
        config = self.cfg
        # whole groups per batch when the E_int term needs them, single structures else;
        # the global batches do not depend on the number of processes (no padding)
        train = self.graphs["train"]
        groups = (
            _positions_by_group(train) if self.interaction else [[k] for k in range(len(train))]
        )
        try:
            self.sampler = GroupBatchSampler(
                groups,
                config.optim.batch_size,
                seed=config.seed,
                rank=self.dist.rank,
                world_size=self.dist.world_size,
            )
        except ValueError as err:
            raise MuSEConfigError(f"optim.batch_size: {err}") from None
        # its own generator: iterating the loader then draws nothing from the global RNG,
        # so a run resumed part-way through an epoch keeps the global stream of an
        # uninterrupted one
        self.loader = DataLoader(
            train, batch_sampler=self.sampler, generator=torch.Generator().manual_seed(0)
        )
        if self.dist.distributed:
            from torch.nn.parallel import DistributedDataParallel

            ids = [self.dist.device.index] if self.dist.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)
            warnings.filterwarnings("ignore", message=SIZE_ONE_STRIDE_WARNING)
        else:
            self.net = self.model

    def _build_optimiser(self) -> None:
        """Adam, the plateau schedule and the EMA of the weights."""
        config = self.cfg
        params = [p for p in self.model.parameters() if p.requires_grad]
        o = config.optim
        self.optimizer = torch.optim.Adam(
            params, lr=o.lr, weight_decay=o.weight_decay, amsgrad=o.amsgrad
        )
        self.plateau = ReduceLROnPlateau(
            self.optimizer, factor=o.plateau_factor, patience=o.plateau_patience, min_lr=o.min_lr
        )
        self.ema = (
            AveragedModel(
                self.model, multi_avg_fn=get_ema_multi_avg_fn(o.ema_decay), use_buffers=True
            )
            if o.ema_decay > 0
            else None
        )

    def _init_from(self, path: str) -> None:
        from muse_explore.models.serialization import load_model

        source = load_model(path)
        own = self.model.state_dict()
        given = source.state_dict()
        # a model may add a long-range head to the one it starts from (painn -> painn + LES);
        # every other weight must match exactly
        missing = [k for k in own if k not in given and not k.startswith("long_range.")]
        unexpected = [k for k in given if k not in own]
        wrong = [k for k in given if k in own and given[k].shape != own[k].shape]
        if missing or unexpected or wrong:
            what = (
                (missing and f"missing {missing[:3]}")
                or (unexpected and f"unexpected {unexpected[:3]}")
                or f"shapes differ for {wrong[:3]}"
            )
            raise MuSEConfigError(f"init_from: {path} does not match the model section: {what}")
        for field, fmt in (("assignment_norm", 4), ("pool_norm", 5)):
            # normalisations without weights leave no trace in the state dict: check the config
            norms = (getattr(source.config, field), getattr(self.model.config, field))
            if self.model.config.coarse_levels and norms[0] != norms[1]:
                raise MuSEConfigError(
                    f"init_from: {path} was built with {field}: {str(norms[0]).lower()} "
                    f"(model files before format {fmt} have no {field}); set "
                    f"model.{field}: {str(norms[0]).lower()} to continue it as it is"
                )
        self.model.load_state_dict(given, strict=False)
        self.model.set_energy_shifts(source.config.energy_shifts)
        same_cutoffs = source.config.cutoffs == self.model.config.cutoffs
        if same_cutoffs and source.trained_reach is not None:
            # its coarse levels were trained on what they saw before: the record goes on
            self.model.trained_reach = source.trained_reach

    # ------------------------------------------------------------------ state
    def _state(self) -> dict:
        return {
            "train_config": self.cfg.to_dict(),
            "model_config": self.model.config.to_dict(),
            **backbone_origin(self.model.config.backbone),
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "optimizer": self.optimizer.state_dict(),
            "plateau": self.plateau.state_dict(),
            "epoch": self.epoch,
            "step": self.step,
            "best": self.best,
            "since_best": self.since_best,
            "best_epoch": self.best_epoch,
            "best_key": self.best_key,
            "elapsed": self.elapsed,
            "cpu_elapsed": self.cpu_elapsed,
            "epoch_cpu_seconds": self.epoch_cpu,
            "in_epoch": self.in_epoch,
            "epoch_total": self.epoch_total.tolist(),
            "epoch_seconds": self.epoch_seconds,
            "epoch_order": self.epoch_order if self.in_epoch else None,
            "reach_seen": self.reach_seen.tolist() if self.reach_seen is not None else None,
            "device": str(self.dist.device),
            "torch_version": str(torch.__version__),
            "device_name": (
                torch.cuda.get_device_name(self.dist.device)
                if self.dist.device.type == "cuda"
                else None
            ),
            "world_size": self.dist.world_size,
            "rng": rng_state(),
        }

    def _restore(self, state: dict) -> None:
        try:
            self.model.load_state_dict(state["model"])
            if self.ema is not None:
                self.ema.load_state_dict(state["ema"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.plateau.load_state_dict(state["plateau"])
            self.epoch, self.step = int(state["epoch"]), int(state["step"])
            self.best, self.since_best = float(state["best"]), int(state["since_best"])
            self.best_epoch = int(state.get("best_epoch", 0))
            # saved before final stages: the best is on the loss of the epoch that set it
            self.best_key = state.get("best_key") or self._stage_key(max(self.best_epoch - 1, 0))
            self.elapsed = float(state["elapsed"])
            # from a checkpoint without it, the maxima are gathered again from the resume on
            seen = state.get("reach_seen")
            if seen and self.reach_seen is not None:
                self.reach_seen = torch.tensor(seen, dtype=torch.float64)
            cpu = state.get("cpu_elapsed")
            self.cpu_elapsed = float(cpu) if cpu is not None else None
            # the saved CPU time is global, like epoch_total: rank 0 carries it
            self.epoch_cpu = float(state.get("epoch_cpu_seconds", 0.0)) if self.dist.main else 0.0
            self.epoch_cpu_known = "epoch_cpu_seconds" in state or not state.get("in_epoch")
            self.in_epoch = int(state.get("in_epoch", 0))
            # the saved sum is global: rank 0 carries it, the others start from zero
            total = list(state.get("epoch_total", [])) if self.dist.main else []
            total += [0.0] * (3 - len(total))  # saved before skipped steps were counted
            self.epoch_total = torch.tensor(total, dtype=torch.float64)
            self.epoch_seconds = float(state.get("epoch_seconds", 0.0))
            self.epoch_order = state.get("epoch_order")
            set_rng_state(state["rng"])
        except (KeyError, RuntimeError, ValueError, TypeError) as err:
            raise MuSEFileError(f"the checkpoint does not match this run: {err}") from None

    @property
    def eval_model(self) -> MuSE:
        """The weights that are validated and exported: the EMA when enabled."""
        return self.ema.module if self.ema is not None else self.model

    # ----------------------------------------------------------------- epochs
    def _lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def _final(self, epoch: int | None = None) -> bool:
        """Whether ``epoch`` (from 0; the one being trained by default) is in the final stage."""
        o = self.cfg.optim
        epoch = self.epoch if epoch is None else epoch
        return o.final_epochs > 0 and epoch >= o.epochs - o.final_epochs

    def _loss_config(self, epoch: int | None = None):
        """The loss of ``epoch`` (the one being trained by default).

        In the final stage its energy weight is ``optim.final_energy_weight``.
        """
        o = self.cfg.optim
        if self._final(epoch) and o.final_energy_weight is not None:
            return replace(self.cfg.loss, energy_weight=o.final_energy_weight)
        return self.cfg.loss

    def _stage_key(self, epoch: int | None = None) -> list:
        """What a validation loss is comparable under: the stage and the loss's energy weight."""
        return [self._final(epoch), float(self._loss_config(epoch).energy_weight)]

    def _train_epoch(self) -> float:
        from tqdm.auto import tqdm

        o = self.cfg.optim
        loss_cfg, final = self._loss_config(), self._final()
        self.net.train()
        self.sampler.set_epoch(self.epoch)
        order = self.sampler.order_digest()
        if self.in_epoch and self.epoch_order not in (None, order):
            # optim.batch_size or the seed changed since the save: the saved position would
            # point into other batches, so the epoch starts again from its beginning (its
            # steps taken and their time stay counted: the card reports what was spent)
            warnings.warn(
                f"--resume: epoch {self.epoch + 1} was saved after {self.in_epoch} batches "
                "of another batch order (optim.batch_size or seed changed); it starts again "
                "from its first batch",
                stacklevel=2,
            )
            self.in_epoch = 0
            self.epoch_total = torch.zeros(3, dtype=torch.float64)
        self.epoch_order = order
        start = self.in_epoch
        self.sampler.set_epoch(self.epoch, start=start)
        batches = start + len(self.sampler)
        total = self.epoch_total
        t0 = last_save = time.perf_counter()
        c0 = time.process_time()
        bar = tqdm(
            self.loader,
            desc=f"epoch {self.epoch + 1}",
            leave=False,
            initial=start,
            total=batches,
            disable=not (self.progress and self.dist.main),
        )
        for batch in bar:
            if self.augment:  # one of the structure's partitions per group, drawn for the step
                batch.seed_mask = draw_partitions(batch, self.cfg.seed, self.step)
            batch = batch_to(batch, self.dist.device, self.dtype)
            stress = bool((~torch.isnan(batch.stress)).any())
            due = (
                o.checkpoint_minutes is not None
                and self.dist.main
                and time.perf_counter() - last_save >= 60 * o.checkpoint_minutes
            )
            # every rank must agree on the stress path and on a checkpoint (one all-reduce)
            flags = all_reduce_sum(
                torch.tensor([float(stress), float(due)], dtype=torch.float64), self.dist
            )
            try:
                pred = compute_properties(
                    self.net, batch, forces=True, stress=bool(flags[0] > 0), create_graph=True
                )
                self._see_reach(pred["output"], int(batch.num_graphs))
                terms = loss_terms(pred, batch, loss_cfg)
                sums = [v[0].detach() for v in terms.values()]
                bad = bool(sums) and not bool(torch.isfinite(torch.stack(sums)).all())
            except MuSENumericalError:  # features overflowed: no loss, no gradients
                terms, bad = {}, True
            counts = torch.tensor(
                [float(terms[k][1]) if k in terms else 0.0 for k in TERMS] + [float(bad)],
                dtype=torch.float64,
            )
            # global counts, and whether any rank's loss is unusable: then every rank skips
            # the step before its backward pass (so none waits for the others' gradients)
            counts = all_reduce_sum(counts, self.dist).cpu()
            if counts[-1] > 0:
                self._skip_step(batch, total)
                self.in_epoch += 1
                continue
            loss = combine(terms, dict(zip(TERMS, counts[:-1].tolist(), strict=True)), loss_cfg)
            if final:
                for g in self.optimizer.param_groups:
                    g["lr"] = o.final_lr if o.final_lr is not None else o.min_lr
            elif self.step < o.warmup_steps:
                for g in self.optimizer.param_groups:
                    g["lr"] = o.lr * (self.step + 1) / o.warmup_steps
            elif o.schedule == "cosine":
                for g in self.optimizer.param_groups:
                    # the cosine anneals over the epochs before a final stage
                    g["lr"] = cosine_lr(self.step, o, (o.epochs - o.final_epochs) * batches)
            self.optimizer.zero_grad(set_to_none=True)
            (loss * self.dist.world_size).backward()
            norm = torch.nn.utils.clip_grad_norm_(
                self.model.parameters(),
                o.clip_grad_norm if o.clip_grad_norm is not None else math.inf,
            )
            value = float(loss.detach())  # this process's share of the global batch loss
            if not bool(torch.isfinite(norm)):  # the gradients are shared: every rank agrees
                self._skip_step(batch, total)
            else:
                self._skipped_in_row = 0
                self.optimizer.step()
                if self.ema is not None:
                    self.ema.update_parameters(self.model)
                self.step += 1
                total += torch.tensor([value, 1.0 / self.dist.world_size, 0.0])
            self.in_epoch += 1
            bar.set_postfix(loss=f"{value * self.dist.world_size:.4g}", lr=f"{self._lr():.2g}")
            if flags[1] > 0 and self.in_epoch < batches:
                self._save_within_epoch(total, time.perf_counter() - t0, time.process_time() - c0)
                last_save = time.perf_counter()
        total = all_reduce_sum(total, self.dist).cpu()
        self.epoch_seconds += time.perf_counter() - t0
        self.epoch_cpu += time.process_time() - c0
        self.in_epoch = 0
        self.epoch_total = torch.zeros(3, dtype=torch.float64)
        self.skipped_steps = round(float(total[2]))
        if total[1] == 0:
            raise MuSETrainingError(
                f"epoch {self.epoch + 1}: every training step had a non-finite loss or "
                "gradients, so the weights never changed"
            )
        return float(total[0] / total[1])  # mean over steps taken of the global batch loss

    def _see_reach(self, output, num_graphs: int) -> None:
        """Raise :attr:`reach_seen` to what this step's coarse nodes saw."""
        if not output.reach:
            return
        seen = structure_reach(output, num_graphs).amax(dim=0)
        self.reach_seen = seen if self.reach_seen is None else torch.maximum(self.reach_seen, seen)

    def _skip_step(self, batch, total: torch.Tensor) -> None:
        """Leave the weights, the EMA and the step count; count the skip; warn, or stop if stuck.

        ``total`` (this epoch's sums) gains the skipped step in place.
        """
        total += torch.tensor([0.0, 0.0, 1.0 / self.dist.world_size])
        self.optimizer.zero_grad(set_to_none=True)
        self._skipped_in_row += 1
        idx = batch.idx.flatten().tolist()
        names = [self.structures[i].info.get("source", str(i)) for i in idx]
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        if self._skipped_in_row >= MAX_SKIPPED_IN_A_ROW:
            raise MuSETrainingError(
                f"{self._skipped_in_row} training steps in a row had a non-finite loss or "
                f"gradients (the last on {shown}): the run has diverged. Resume it from an "
                "earlier checkpoint with a smaller optim.lr, or check these structures"
            )
        warnings.warn(
            f"epoch {self.epoch + 1}, batch {self.in_epoch + 1}: skipped a training step whose "
            f"loss or gradients were not finite (weights unchanged); its structures: {shown}",
            MuSESkippedStepWarning,
            stacklevel=3,
        )

    def _save_within_epoch(self, total: torch.Tensor, seconds: float, cpu: float) -> None:
        """``last.pt`` part-way through an epoch (collective: every rank calls it)."""
        # the epoch's CPU time so far, every process's, rides along with the loss sums
        mine = torch.cat([total, torch.tensor([self.epoch_cpu + cpu], dtype=total.dtype)])
        done = all_reduce_sum(mine, self.dist).cpu()
        if self.reach_seen is not None:  # every rank's batches so far, for the resume
            self.reach_seen = all_reduce_max(self.reach_seen, self.dist).cpu()
        if self.dist.main:
            before = (self.epoch_total, self.epoch_seconds, self.epoch_cpu)
            self.epoch_total = done[:-1]
            self.epoch_seconds, self.epoch_cpu = self.epoch_seconds + seconds, float(done[-1])
            save_checkpoint(self.ckpt_dir / "last.pt", self._state())
            self.epoch_total, self.epoch_seconds, self.epoch_cpu = before

    def evaluate_graphs(self, graphs, *, model: MuSE | None = None) -> tuple[float, dict]:
        """Loss and error metrics of ``model`` (the EMA model by default) on ``graphs``.

        Each process evaluates its share (every world-size-th structure, or group when the
        interaction term is on) and the sums are reduced over processes.
        """
        model = model if model is not None else self.eval_model
        acc = ErrorAccumulator()
        sums = torch.zeros(2 * len(TERMS), dtype=torch.float64)
        bs = self.cfg.optim.batch_size
        rank, world = self.dist.rank, self.dist.world_size
        if self.interaction:
            share = _positions_by_group(graphs)[rank::world]
            batches = list(GroupBatchSampler(share, bs, shuffle=False)) if share else []
        else:
            mine = list(range(len(graphs)))[rank::world]
            batches = [mine[s : s + bs] for s in range(0, len(mine), bs)]
        for _, batch, pred in evaluate_batches(
            model, graphs, dtype=self.eval_dtype, device=self.dist.device, forces=True,
            stress=True, batches=batches,
        ):  # fmt: skip
            acc.update(pred, batch)
            terms = loss_terms(pred, batch, self._loss_config())
            for k, name in enumerate(TERMS):
                if name in terms:
                    sums[k] += float(terms[name][0].detach())
                    sums[len(TERMS) + k] += float(terms[name][1])
        acc.sums = all_reduce_sum(acc.sums, self.dist).cpu()
        sums = all_reduce_sum(sums, self.dist).cpu()
        n = len(TERMS)
        counts = dict(zip(TERMS, sums[n:].tolist(), strict=True))
        terms = {name: (float(sums[k]), None) for k, name in enumerate(TERMS)}
        loss = float(combine(terms, counts, self._loss_config(), allow_empty=True))
        return loss, acc.result()

    # -------------------------------------------------------------------- run
    def _log(self, row: dict) -> None:
        path = self.run_dir / "metrics.csv"
        rows = []
        if path.exists():
            with path.open() as fh:
                rows = [r for r in csv.DictReader(fh) if int(r["epoch"]) < row["epoch"]]
        rows.append({k: row.get(k, "") for k in CSV_FIELDS})
        with atomic_open(path, newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
            w.writeheader()
            w.writerows(rows)
        writer = self._tensorboard()
        if writer is not None:
            for k in CSV_FIELDS[2:]:
                v = row.get(k)
                if isinstance(v, float) and math.isfinite(v):
                    writer.add_scalar(k, v, row["epoch"])
            writer.flush()

    def _tensorboard(self):
        if self._writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard is optional: metrics.csv has everything
                self._writer = False
                return None
            self._writer = SummaryWriter(self.run_dir / "tensorboard", purge_step=self.epoch + 1)
        return self._writer or None

    def fit(self) -> dict:
        """Train until ``optim.epochs``, early stopping or the time limit; returns a summary."""
        o = self.cfg.optim
        start = time.perf_counter()
        reason = "epochs"
        patience = o.early_stopping_patience
        try:
            while self.epoch < o.epochs:
                if self._stage_key() != self.best_key:
                    # a final stage begins (or the run was resumed under another stage or
                    # energy weight): the validation loss is on another scale, so the best
                    # model and the early-stopping count start afresh
                    begins = self._final() and self.best_key is not None and not self.best_key[0]
                    if begins and self.dist.main and (self.run_dir / "best_model.pt").is_file():
                        # keep the best model before the stage: the stage's overwrites it
                        with atomic_path(self.run_dir / BEFORE_FINAL) as tmp:
                            shutil.copyfile(self.run_dir / "best_model.pt", tmp)
                    self.best, self.since_best, self.best_key = math.inf, 0, self._stage_key()
                waiting = o.final_epochs > 0 and not self._final()  # stop in the stage only
                if patience is not None and self.since_best >= patience and not waiting:
                    reason = "early stopping"
                    break
                train_loss = self._train_epoch()
                t_val, c_val = time.perf_counter(), time.process_time()
                val_loss, metrics = (
                    self.evaluate_graphs(self.graphs["val"])
                    if self.graphs["val"]
                    else (train_loss, {})
                )
                if self.step >= o.warmup_steps and o.schedule == "plateau" and not self._final():
                    self.plateau.step(val_loss)
                self.epoch += 1
                # as ReduceLROnPlateau: an improvement must exceed 1e-4 of the best loss
                improved = val_loss < self.best * (1 - 1e-4)
                if improved:
                    self.best, self.since_best, self.best_epoch = val_loss, 0, self.epoch
                else:
                    self.since_best += 1
                now = time.perf_counter()
                # training (parts before a resume included) and validation
                epoch_seconds = self.epoch_seconds + now - t_val
                self.elapsed += epoch_seconds
                self.epoch_seconds = 0.0
                # every process's CPU time (collective: every rank reaches it)
                epoch_cpu = float(
                    all_reduce_sum(
                        torch.tensor(
                            [self.epoch_cpu + time.process_time() - c_val], dtype=torch.float64
                        ),
                        self.dist,
                    )[0]
                )
                self.epoch_cpu = 0.0
                if self.reach_seen is not None:  # every rank's training batches
                    self.reach_seen = all_reduce_max(self.reach_seen, self.dist).cpu()
                if not self.epoch_cpu_known:
                    epoch_cpu, self.cpu_elapsed, self.epoch_cpu_known = None, None, True
                if self.cpu_elapsed is not None:
                    self.cpu_elapsed += epoch_cpu
                row = {
                    "epoch": self.epoch,
                    "step": self.step,
                    "lr": self._lr(),
                    "train_loss": train_loss,
                    "val_loss": val_loss,
                    **{f"val_{k}": v for k, v in metrics.items()},
                    "epoch_seconds": epoch_seconds,
                    "elapsed_seconds": self.elapsed,
                    "skipped_steps": self.skipped_steps,
                    "epoch_cpu_seconds": epoch_cpu if epoch_cpu is not None else "",
                    "cpu_seconds": self.cpu_elapsed if self.cpu_elapsed is not None else "",
                }
                if self.dist.main:
                    # last.pt goes last: a run killed before it resumes from the last save
                    # within the epoch (or the epoch's start)
                    state = self._state()
                    if improved:
                        save_checkpoint(self.ckpt_dir / "best.pt", state)
                        export = copy.deepcopy(self.eval_model).to("cpu", torch.float32)
                        if self.reach_seen is not None:
                            export.trained_reach = self.reach_seen.tolist()
                        save_model(export, self.run_dir / "best_model.pt")
                    self._log(row)
                    save_checkpoint(self.ckpt_dir / "last.pt", state)
                    for cb in self.callbacks:
                        cb(row)
                barrier(self.dist)
                limit = o.time_limit_minutes
                if limit is not None and time.perf_counter() - start > 60 * limit:
                    reason = "time limit"
                    break
        finally:
            if self._writer:
                self._writer.close()
                self._writer = None
        summary = {
            "epochs": self.epoch,
            "steps": self.step,
            "best_val_loss": self.best,
            "stopped_by": reason,
            "train_seconds": self.elapsed,
            "cpu_seconds": self.cpu_elapsed,
        }
        if reason != "time limit" and self.splits["test"]:
            summary["test"] = self.test()
        return summary

    def test(self) -> dict:
        """Metrics of the best EMA weights on the test split (written to test_metrics.json)."""
        # the best epoch's checkpoint, else its model file (a run folder carried to another
        # machine keeps best_model.pt and last.pt, not best.pt); the current EMA weights
        # only where no epoch was ever saved as best
        for best in (self.ckpt_dir / "best.pt", self.run_dir / "best_model.pt"):
            if best.is_file():
                model = load_for_evaluation(best)
                break
        else:
            model = self.eval_model
        graphs = ds.to_graphs(self.structures, self.splits["test"], self._converter, self._groups)
        loss, metrics = self.evaluate_graphs(graphs, model=model)
        result = {"loss": loss, **metrics, "structures": len(graphs)}
        if self.dist.main:  # metrics that do not apply (NaN) are null: standard JSON
            plain = {k: None if isinstance(v, float) and not math.isfinite(v) else v
                     for k, v in result.items()}  # fmt: skip
            _atomic_write_text(
                self.run_dir / "test_metrics.json", json.dumps(plain, indent=2, allow_nan=False)
            )
        return result

    def close(self) -> None:
        """Leave the process group (when distributed)."""
        cleanup(self.dist)


def _positions_by_group(graphs) -> list[list[int]]:
    """Positions in ``graphs`` of each group's structures, groups in order of appearance."""
    groups: dict[int, list[int]] = {}
    for k, g in enumerate(graphs):
        groups.setdefault(int(g.group), []).append(k)
    return list(groups.values())


def _warn_unseen_elements(structures, splits) -> None:
    seen = {int(z) for i in splits["train"] for z in set(structures[i].numbers)}
    for name in ("val", "test"):
        other = {int(z) for i in splits[name] for z in set(structures[i].numbers)}
        if other - seen:
            from ase.data import chemical_symbols

            names = sorted(chemical_symbols[z] for z in other - seen)
            warnings.warn(
                f"the {name} split has element(s) {names} that the training split lacks: "
                "their energy shifts and embeddings are not learned",
                stacklevel=3,
            )


def _check_same_run(saved: dict, config: TrainConfig, model_format: int) -> None:
    """Refuse to resume a run whose data, model or loss section has changed.

    The model sections are compared as the configs they build, so a run saved with the
    shorthand (``levels: 2``) resumes under the same model written out in full; a checkpoint
    of an older model format is compared as that format's model (a MuSE run saved before
    format 4 resumes only with ``assignment_norm: false`` and ``pool_norm: false``, before
    format 5 only with ``pool_norm: false``: what it was trained with). The loss sections
    are compared as the ``LossConfig`` they build, so a loss field that a run's checkpoint
    predates takes its default there; the data sections are compared as written, a data field
    that the run's config predates taking its default.
    """
    now = config.to_dict()
    # the loss as the config it builds: a run saved before a loss field existed has its default
    try:
        same_loss = LossConfig(**saved["loss"]) == config.loss
    except TypeError:  # a field this version does not know
        same_loss = False
    defaults = asdict(DataConfig(files=[]))
    saved_data = {**{k: v for k, v in defaults.items() if k in now["data"]}, **saved["data"]}
    for section, same in (("data", saved_data == now["data"]), ("loss", same_loss)):
        if not same:
            raise MuSEConfigError(
                f"--resume: the '{section}' section differs from the run's config.yaml"
            )
    try:
        before = model_from_section(saved["model"], saved["seed"])
    except MuSEConfigError:
        before = None
    now_model = config.model
    if before is not None:
        before = MuSEConfig.from_dict(migrate_config(before.to_dict(), model_format))
        if not before.coarse_levels:  # no pooling: its normalisations are moot
            before = replace(
                before,
                assignment_norm=now_model.assignment_norm,
                pool_norm=now_model.pool_norm,
            )
    if before != now_model:
        raise MuSEConfigError("--resume: the 'model' section differs from the run's config.yaml")
