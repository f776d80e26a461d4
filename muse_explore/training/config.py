"""Training configuration: the trainer's constructor arguments as dataclasses, read from YAML.

A YAML file has the sections ``data``, ``model`` (any field of
:class:`muse_explore.MuSEConfig`), ``loss`` and ``optim``, plus top-level ``run_dir``,
``seed``, ``device``, ``dtype`` and ``eval_dtype``. Every key is checked: an unknown or
mistyped key, a wrong type or an impossible value raises :class:`MuSEConfigError` naming it.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path

from muse_explore.errors import MuSEConfigError
from muse_explore.models.config import MuSEConfig


def seeded_run_dir(run_dir: str, seed: int) -> str:
    """The folder ``train CONFIG --seed N`` trains into: ``RUN_DIR-seedN``."""
    return f"{run_dir}-seed{seed}"


def unseeded_run_dir(name: str) -> tuple[str, int] | None:
    """``(RUN_DIR, N)`` for a ``RUN_DIR-seedN`` name (inverse of :func:`seeded_run_dir`)."""
    match = re.fullmatch(r"(.+)-seed(\d+)", name)
    return (match[1], int(match[2])) if match else None


@dataclass
class DataConfig:
    """Where the structures come from and how they are split.

    Args:
        files: extxyz files (plain or compressed) or ASE databases with energies and forces
            (and stress for periodic cells).
        val_fraction: fraction of groups for validation.
        test_fraction: fraction of groups for the test set.
        group_by: ``atoms.info`` key whose equal values stay in one split (e.g. ``config``
            keeps a complex with its flake and molecule); ``None`` splits structures.
        select: keep only structures whose ``info`` matches all these key/values.
        max_structures: use at most this many structures (a random subset of groups).
        split_seed: seed of the split (the run's seed when ``None``).
        train_only_files: more files whose structures all go to the training split (after
            ``select``), read after ``files``: extra training data that leaves the
            validation and test splits of ``files`` exactly as they were.
        augment_hops: other seeding hop radii (one list per set, an entry per coarse
            level) with which the training structures are also cut into coarse nodes; each
            training step reads every group through one partition, the model's own or one
            of these, drawn uniformly (:mod:`muse_explore.training.partitions`). Empty (the
            default): the model's own hops only. Validation and test use the model's own.
    """

    files: list[str]
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    group_by: str | None = None
    select: dict = field(default_factory=dict)
    max_structures: int | None = None
    split_seed: int | None = None
    train_only_files: list[str] = field(default_factory=list)
    augment_hops: list[list[int]] = field(default_factory=list)

    def check(self) -> None:
        """Raise :class:`MuSEConfigError` for impossible values."""
        if isinstance(self.files, str):
            self.files = [self.files]
        if isinstance(self.train_only_files, str):
            self.train_only_files = [self.train_only_files]
        overlap = set(map(str, self.files)) & set(map(str, self.train_only_files))
        if overlap:
            raise MuSEConfigError(
                f"data.train_only_files: {sorted(overlap)} also in data.files (give each once)"
            )
        if not self.files:
            raise MuSEConfigError("data.files: give at least one data file")
        for name in ("val_fraction", "test_fraction"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise MuSEConfigError(f"data.{name} must be in [0, 1), got {v}")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise MuSEConfigError("data.val_fraction + data.test_fraction must be below 1")
        if self.max_structures is not None and self.max_structures < 1:
            raise MuSEConfigError("data.max_structures must be positive")
        if not isinstance(self.augment_hops, list):
            raise MuSEConfigError(
                f"data.augment_hops: a list of hop sets such as [[2, 3], [1, 4]], "
                f"got {self.augment_hops!r}"
            )
        for hops in self.augment_hops:
            if (
                not isinstance(hops, (list, tuple))
                or not hops
                or not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hops)
            ):
                hint = " (one set is written [[2, 4]])" if isinstance(hops, int) else ""
                raise MuSEConfigError(
                    f"data.augment_hops: each entry is a list of positive integers, one per "
                    f"coarse level, got {hops!r}{hint}"
                )
        if len({tuple(h) for h in self.augment_hops}) < len(self.augment_hops):
            raise MuSEConfigError(
                f"data.augment_hops: a hop set is given twice ({self.augment_hops}); each set "
                "is drawn as often as the others"
            )


@dataclass
class LossConfig:
    """Huber loss on energy per atom (eV/atom), forces (eV/Å) and stress (eV/Å³), weighted.

    Args:
        energy_weight: weight of the energy-per-atom term.
        forces_weight: weight of the force term.
        stress_weight: weight of the stress term (structures with a stress target only).
        huber_delta: δ of the Huber loss (``torch.nn.functional.huber_loss``) in the
            units of each term.
        interaction_weight: weight of the interaction-energy term, E_int = E(complex) −
            E(parts) per group (needs ``data.group_by`` and ``info["part"]`` of "complex",
            "flake", "molecule"); batches then hold whole groups.
        coarse_energy_weight: weight of a Huber term on each structure's coarse-level
            energy per atom, Σ_{l≥1} E_l / N (eV/atom), against zero. A MuSE model can hold a
            per-atom offset on its coarse levels that its atom scale cancels (the loss does
            not see the pair); this term fixes that freedom. It is zero for a backbone alone.
    """

    energy_weight: float = 1.0
    forces_weight: float = 10.0
    stress_weight: float = 1.0
    huber_delta: float = 0.01
    interaction_weight: float = 0.0
    coarse_energy_weight: float = 0.0

    def check(self) -> None:
        """Raise :class:`MuSEConfigError` for impossible values."""
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise MuSEConfigError(f"loss.{f.name} must be non-negative")
        if self.huber_delta <= 0:
            raise MuSEConfigError("loss.huber_delta must be positive")
        if self.energy_weight + self.forces_weight + self.stress_weight == 0 and not (
            self.interaction_weight
        ):
            raise MuSEConfigError(
                "loss: every data term's weight is zero (energy, forces, stress, interaction;"
                " coarse_energy_weight alone fits nothing)"
            )


#: The learning-rate schedules after the warm-up (``optim.schedule``).
SCHEDULES = ("plateau", "cosine")


@dataclass
class OptimConfig:
    """Adam with AMSGrad, linear warm-up, a learning-rate schedule, EMA, clipping, early stopping.

    Args:
        lr: peak learning rate.
        weight_decay: L2 weight decay of Adam.
        amsgrad: use AMSGrad (Reddi, Kale, Kumar, ICLR 2018).
        batch_size: structures per optimisation step (the global batch under DDP).
        epochs: maximum number of epochs.
        warmup_steps: steps of linear learning-rate warm-up.
        schedule: the learning rate after the warm-up. ``"plateau"``: reduced by
            ``plateau_factor`` when the validation loss has not improved for
            ``plateau_patience`` epochs (PyTorch's ``ReduceLROnPlateau``). ``"cosine"``:
            annealed from ``lr`` to ``min_lr`` along half a cosine over the whole budget,
            ``epochs`` × batches per epoch (Loshchilov and Hutter, "SGDR", ICLR 2017, without
            restarts), a function of the step alone, so that every run of a budget ends
            annealed whatever its validation curve did.
        plateau_factor: learning-rate factor when the validation loss stops improving.
        plateau_patience: epochs without improvement before reducing the learning rate.
        min_lr: learning rate floor (and the cosine schedule's end).
        ema_decay: decay of the exponential moving average of the weights (0 disables it).
        clip_grad_norm: maximum gradient norm (``None``: no clipping).
        early_stopping_patience: epochs without improvement before stopping (``None``: never).
        time_limit_minutes: stop cleanly after the epoch during which this wall time passes;
            ``--resume`` continues.
        checkpoint_minutes: also save ``last.pt`` within an epoch once this many minutes
            have passed since the last save, so that a killed run resumes from there and not
            from the epoch's start (``None``: at the end of each epoch only). The resumed
            run takes exactly the steps the uninterrupted one would have taken.
        final_epochs: the last this many epochs of the budget are a final stage (0: none),
            as mace-torch's stage two (``--swa``, without the weight averaging): the
            learning rate is ``final_lr`` at every step, the energy weight of the loss is
            ``final_energy_weight`` (training and validation alike), the best model and the
            early-stopping count start afresh when the stage begins (its validation loss is
            on another scale; the best model so far is kept as
            ``best_model_before_final.pt``), and neither the plateau rule nor the cosine
            applies (the cosine anneals to ``min_lr`` over the epochs before the stage).
            Early stopping waits for the stage: before it the run goes on to it whatever
            the validation curve does.
        final_lr: the final stage's learning rate (``None``: ``min_lr``).
        final_energy_weight: the final stage's ``loss.energy_weight`` (``None``: unchanged).
    """

    lr: float = 1e-3
    weight_decay: float = 0.0
    amsgrad: bool = True
    batch_size: int = 8
    epochs: int = 100
    warmup_steps: int = 100
    schedule: str = "plateau"
    plateau_factor: float = 0.5
    plateau_patience: int = 5
    min_lr: float = 1e-6
    ema_decay: float = 0.99
    clip_grad_norm: float | None = 10.0
    early_stopping_patience: int | None = 30
    time_limit_minutes: float | None = None
    checkpoint_minutes: float | None = 15.0
    final_epochs: int = 0
    final_lr: float | None = None
    final_energy_weight: float | None = None

    def check(self) -> None:
        """Raise :class:`MuSEConfigError` for impossible values."""
        if self.lr <= 0:
            raise MuSEConfigError("optim.lr must be positive")
        if self.batch_size < 1 or self.epochs < 1:
            raise MuSEConfigError("optim.batch_size and optim.epochs must be at least 1")
        if self.schedule not in SCHEDULES:
            raise MuSEConfigError(
                f"optim.schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}"
            )
        if not 0 < self.plateau_factor < 1:
            raise MuSEConfigError("optim.plateau_factor must be in (0, 1)")
        if not 0 <= self.ema_decay < 1:
            raise MuSEConfigError("optim.ema_decay must be in [0, 1)")
        if self.warmup_steps < 0 or self.plateau_patience < 0:
            raise MuSEConfigError("optim.warmup_steps and optim.plateau_patience must be >= 0")
        if self.min_lr < 0 or self.weight_decay < 0:
            raise MuSEConfigError("optim.min_lr and optim.weight_decay must be >= 0")
        if self.clip_grad_norm is not None and self.clip_grad_norm <= 0:
            raise MuSEConfigError("optim.clip_grad_norm must be positive (or null: no clipping)")
        if self.checkpoint_minutes is not None and not self.checkpoint_minutes >= 0:
            raise MuSEConfigError("optim.checkpoint_minutes must be >= 0 (or null: epoch ends)")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise MuSEConfigError("optim.early_stopping_patience must be >= 1 (or null: never)")
        if not 0 <= self.final_epochs < self.epochs:
            raise MuSEConfigError(
                f"optim.final_epochs must be in [0, optim.epochs = {self.epochs}), got "
                f"{self.final_epochs}: the final stage is the end of the budget"
            )
        if self.final_lr is not None and self.final_lr <= 0:
            raise MuSEConfigError("optim.final_lr must be positive (or null: min_lr)")
        if self.final_energy_weight is not None and self.final_energy_weight < 0:
            raise MuSEConfigError("optim.final_energy_weight must be >= 0 (or null: unchanged)")
        if not self.final_epochs and (
            self.final_lr is not None or self.final_energy_weight is not None
        ):
            raise MuSEConfigError(
                "optim.final_lr and optim.final_energy_weight need optim.final_epochs > 0"
            )


@dataclass
class TrainConfig:
    """A whole training run.

    Args:
        run_dir: folder of the run (splits, metrics, checkpoints, TensorBoard logs).
        data: :class:`DataConfig`.
        model: the model's :class:`muse_explore.MuSEConfig`; from YAML, a mapping of its fields
            (``elements`` required), whose ``seed`` defaults to the run's.
        loss: :class:`LossConfig`.
        optim: :class:`OptimConfig`.
        seed: seed of the weights, the split and the data order.
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        dtype: training precision, ``"float32"`` or ``"float64"``.
        eval_dtype: precision of validation and test evaluation.
        fit_shifts: fit per-element energy shifts by least squares on the training set.
        num_threads: CPU threads of torch (``None``: the cores that the load leaves idle,
            or ``OMP_NUM_THREADS`` / ``MUSE_EXPLORE_THREADS`` when set;
            :func:`muse_explore.calc.threads.apply_thread_default`).
        init_from: a model file whose weights and energy shifts start the run (fine-tuning
            or continuing a shipped model); the model section must describe the same
            architecture.
    """

    run_dir: str
    data: DataConfig
    model: MuSEConfig
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    seed: int = 0
    device: str = "auto"
    dtype: str = "float32"
    eval_dtype: str = "float32"
    fit_shifts: bool = True
    num_threads: int | None = None
    init_from: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = model_from_section(self.model, self.seed)
        elif not isinstance(self.model, MuSEConfig):
            raise MuSEConfigError(
                f"model must be a mapping of MuSEConfig fields, got {self.model!r}"
            )

    def check(self) -> None:
        """Validate every section, the model included (builds its :class:`MuSEConfig`)."""
        for section in ("data", "loss", "optim"):  # configs built in Python skip _coerce
            for f in fields(getattr(self, section)):
                value = getattr(getattr(self, section), f.name)
                if isinstance(value, float):
                    _finite(value, f"{section}.{f.name}")
        self.data.check()
        self.loss.check()
        self.optim.check()
        for name in ("dtype", "eval_dtype"):
            if getattr(self, name) not in ("float32", "float64"):
                raise MuSEConfigError(f"{name} must be 'float32' or 'float64'")
        if self.num_threads is not None and self.num_threads < 1:
            raise MuSEConfigError("num_threads must be >= 1")
        if not 0 <= self.seed < 2**63:  # NumPy takes none below zero, torch none above
            raise MuSEConfigError(f"seed must be in 0 .. 2**63 - 1, got {self.seed}")
        if self.data.split_seed is not None and self.data.split_seed < 0:
            raise MuSEConfigError(f"data.split_seed must be 0 or more, got {self.data.split_seed}")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise MuSEConfigError(f"device must be auto, cpu, cuda or cuda:N, got {self.device!r}")
        if self.data.augment_hops:
            own = [lev.hops for lev in self.model.levels[1:]]
            if not own:
                raise MuSEConfigError(
                    "data.augment_hops needs a model with coarse levels (this one has none)"
                )
            wrong = [h for h in self.data.augment_hops if len(h) != len(own)]
            if wrong:
                raise MuSEConfigError(
                    f"data.augment_hops: the model has {len(own)} coarse level(s), so each set "
                    f"needs {len(own)} hop radii; got {wrong}"
                )
            if own in [list(h) for h in self.data.augment_hops]:
                raise MuSEConfigError(
                    f"data.augment_hops: {own} are the model's own hops, which are always one "
                    "of the partitions drawn"
                )
        if self.loss.interaction_weight > 0 and not self.data.group_by:
            raise MuSEConfigError(
                "loss.interaction_weight needs data.group_by (the key that ties a complex to "
                "its parts, e.g. 'config')"
            )

    def reseeded(self, seed: int) -> TrainConfig:
        """The same run with another seed, in ``RUN_DIR-seedN`` (``train --seed N``).

        The model's seed follows when it was the run's; a model section with its own seed
        keeps it.
        """
        model = replace(self.model, seed=seed) if self.model.seed == self.seed else self.model
        out = replace(self, seed=seed, run_dir=seeded_run_dir(self.run_dir, seed), model=model)
        out.check()
        return out

    def to_dict(self) -> dict:
        """Plain-Python dictionary (what ``config.yaml`` in the run folder holds)."""
        d = asdict(self)
        d["model"] = self.model.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict, *, base_dir: str | os.PathLike | None = None) -> TrainConfig:
        """Build and validate from a nested dictionary.

        Relative paths are taken from ``base_dir`` when it is given.
        """
        if not isinstance(d, dict):
            raise MuSEConfigError("a training configuration must be a mapping of sections")
        cfg = _build(cls, d, "")
        if base_dir is not None:
            base = Path(base_dir)
            cfg.data.files = [str(_resolve(base, f)) for f in cfg.data.files]
            cfg.run_dir = str(_resolve(base, cfg.run_dir))
            if cfg.init_from is not None:
                cfg.init_from = str(_resolve(base, cfg.init_from))
        cfg.check()
        return cfg

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> TrainConfig:
        """Read a YAML file; relative paths in it are relative to the current directory."""
        import yaml

        path = Path(path)
        if not path.is_file():
            raise MuSEConfigError(f"no training configuration at {path}")
        try:
            d = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise MuSEConfigError(f"{path} is not valid YAML: {err}") from None
        return cls.from_dict(d)


def _resolve(base: Path, p: str) -> Path:
    q = Path(p)
    return q if q.is_absolute() else base / q


_SECTIONS = {"data": DataConfig, "loss": LossConfig, "optim": OptimConfig}


def _build(cls, d: dict, prefix: str):
    known = {f.name: f for f in fields(cls)}
    unknown = set(d) - set(known)
    if unknown:
        raise MuSEConfigError(
            f"unknown key(s) {sorted(prefix + k for k in unknown)}; "
            f"known: {sorted(prefix + k for k in known)}"
        )
    kwargs = {}
    for name, f in known.items():
        key = prefix + name
        if name not in d:
            if f.default is MISSING and f.default_factory is MISSING:
                raise MuSEConfigError(f"missing required key {key!r}")
            continue
        value = d[name]
        if name == "model" and cls is TrainConfig:
            if not isinstance(value, dict):
                raise MuSEConfigError(f"{key} must be a mapping of MuSEConfig fields")
        elif name in _SECTIONS and cls is TrainConfig:
            if not isinstance(value, dict):
                raise MuSEConfigError(f"{key} must be a mapping")
            value = _build(_SECTIONS[name], value, key + ".")
        else:
            value = _coerce(value, f.type, key)
        kwargs[name] = value
    return cls(**kwargs)


_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "dict": dict, "list[str]": list,
          "list[list[int]]": list}  # fmt: skip


def _finite(value: float, key: str) -> float:
    """A NaN would pass every range check (each comparison is False) and train on NaN."""
    if not math.isfinite(value):
        raise MuSEConfigError(f"{key} must be a finite number, got {value}")
    return value


def _coerce(value, annotation, key):
    """Check a YAML value against a field's annotation (ints are accepted for floats)."""
    options = [a.strip() for a in str(annotation).split("|")]
    if value is None:
        if "None" in options:
            return None
        raise MuSEConfigError(f"{key} must not be empty")
    for opt in options:
        t = _TYPES.get(opt)
        if t is None:
            continue
        if t is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return _finite(float(value), key)
        if t is float and isinstance(value, str):
            try:  # YAML 1.1 reads 1e-3 as a string
                number = float(value)
            except ValueError:
                continue
            return _finite(number, key)
        if t is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if t is list and isinstance(value, (list, str)):
            return value
        if t in (str, bool, dict) and isinstance(value, t):
            return value
    raise MuSEConfigError(f"{key} must be of type {annotation}, got {value!r}")


def model_from_section(section: dict, seed: int) -> MuSEConfig:
    """The :class:`MuSEConfig` of a YAML ``model`` section (its seed defaults to ``seed``)."""
    if not isinstance(section, dict):
        raise MuSEConfigError("model must be a mapping of MuSEConfig fields")
    kw = dict(section)
    kw.setdefault("seed", seed)
    if "elements" not in kw:
        raise MuSEConfigError("model.elements: list the chemical symbols of the data")
    try:
        return MuSEConfig.from_dict(kw)
    except (MuSEConfigError, TypeError) as err:
        raise MuSEConfigError(f"model: {err}") from None
