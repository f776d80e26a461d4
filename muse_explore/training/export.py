"""Turn a finished (or time-limited) training run into a pretrained model with a model card."""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import shutil
from pathlib import Path

import torch
import yaml

from muse_explore.atomic import atomic_open, atomic_path
from muse_explore.calc.reach import CARD_PHRASE, describe
from muse_explore.errors import MuSEFileError
from muse_explore.training.config import unseeded_run_dir


def _count_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def _rel(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _shipped_config(run: Path) -> str | None:
    """The repository's config that trains into ``run`` (or ``None``).

    With `` --seed N`` appended when ``run`` is the ``RUN_DIR-seedN`` that ``muse-explore
    train CONFIG --seed N`` trains into. Searched in ``sample_data/configs/`` and its
    subfolders (the protocol's). A config's ``run_dir`` is relative to where training ran:
    the repository root or the working directory.
    """
    from muse_explore.samples import repository_root

    try:
        root = repository_root()
    except MuSEFileError:
        return None
    seeded = unseeded_run_dir(run.name)
    for path in sorted((root / "sample_data" / "configs").rglob("*.yaml")):
        try:
            run_dir = yaml.safe_load(path.read_text()).get("run_dir")
        except (yaml.YAMLError, AttributeError):
            continue
        if not run_dir:
            continue
        places = {Path(run_dir).resolve(), (root / run_dir).resolve()}
        if run.resolve() in places:
            return _rel(path)
        # `train CONFIG --seed N` trains into RUN_DIR-seedN
        if seeded and (run.parent / seeded[0]).resolve() in places:
            return f"{_rel(path)} --seed {seeded[1]}"
    return None


def check_model_name(name: str) -> None:
    """A pretrained model's name is a plain file name: letters, digits, ``.``, ``_``, ``-``.

    The name becomes ``NAME.pt``, ``NAME.md`` and ``NAME.splits.json`` in the models folder and
    a key of its registry, so an empty name, a path (``../x``) or ``x.pt`` is refused before
    anything is written.
    """
    from muse_explore.errors import MuSEConfigError

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise MuSEConfigError(
            f"model name {name!r} must be a plain name (letters, digits, '.', '_', '-', "
            "starting with a letter or digit; no '/'): it becomes NAME.pt in the models folder"
        )
    if name.endswith(".pt"):
        raise MuSEConfigError(f"model name {name!r} ends in .pt: give the name without it")


def export_pretrained(
    run_dir: str | os.PathLike, name: str, out_dir=None, *, hardware: str | None = None
) -> Path:
    """Copy ``run_dir/best_model.pt`` to ``out_dir/NAME.pt``, write ``NAME.md`` and register it.

    ``out_dir`` defaults to the pretrained-models folder (:func:`muse_explore.pretrained.
    models_dir`: the package's ``muse_explore/pretrained/``, or ``$MUSE_EXPLORE_DATA/models``).
    The run's split goes beside the model as ``NAME.splits.json``, so that benchmarks can use
    exactly the structures the model never saw, and NAME's entry in the folder's
    ``registry.json`` (size and sha256 of ``NAME.pt``) is added or updated last, atomically,
    so that :func:`muse_explore.load_pretrained` accepts the new file.

    The card states the model's configuration, the data and its split, the training length,
    time and hardware (from ``metrics.csv`` and the checkpoint; ``hardware`` describes it
    for runs whose checkpoint predates that record) and the test-set metrics,
    computed here in float64 with :func:`muse_explore.training.evaluation.evaluate`.
    """
    from muse_explore.models import load_model
    from muse_explore.pretrained import models_dir
    from muse_explore.pretrained.registry import register
    from muse_explore.training.evaluation import evaluate

    check_model_name(name)
    run = Path(run_dir)
    cfg, rows, last, splits, structures = _read_run(run)
    model = load_model(run / "best_model.pt")
    test = [structures[i] for i in splits["test"]]
    metrics, _ = evaluate(model, test, dtype=torch.float64) if test else ({}, [])
    out = Path(out_dir) if out_dir is not None else models_dir()
    out.mkdir(parents=True, exist_ok=True)
    for source, target in (
        (run / "best_model.pt", f"{name}.pt"),
        (run / "splits.json", f"{name}.splits.json"),
    ):
        with atomic_path(out / target) as tmp:
            shutil.copyfile(source, tmp)
    data = {k: list(cfg["data"].get(k) or []) for k in ("files", "train_only_files")}
    reach = None
    if model.levels and model.trained_reach is None:
        # trained before the trainer recorded it: measured on the training split now, and
        # registered beside the file (which stays a byte copy of the run's)
        from muse_explore.calc.reach import most_seen
        from muse_explore.training import dataset as ds

        everything = ds.read_structures(data["files"] + data["train_only_files"])
        reach = most_seen(model, [everything[i] for i in splits["train"]])
        model.trained_reach = reach
    card = _card(
        name, run, out, cfg=cfg, rows=rows, last=last, splits=splits, model=model,
        metrics=metrics if test else None, hardware=hardware,
        is_pretrained=out.resolve() == models_dir().resolve(),
    )  # fmt: skip
    with atomic_open(out / f"{name}.md", "w", encoding="utf-8") as fh:
        fh.write(card)
    register(out, name, data, trained_reach=reach)
    return out / f"{name}.pt"


def _read_run(run: Path) -> tuple[dict, list[dict], dict, dict, list]:
    """The configuration, metrics rows, last checkpoint, split and structures of a run."""
    from muse_explore.training import dataset as ds
    from muse_explore.training.checkpoint import load_checkpoint

    if not (run / "best_model.pt").is_file():
        raise MuSEFileError(f"{run} has no best_model.pt (has it trained an epoch?)")
    for needed in ("config.yaml", "metrics.csv", "splits.json", "checkpoints/last.pt"):
        if not (run / needed).is_file():
            raise MuSEFileError(f"{run} is not a complete run folder: {needed} is missing")
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    with (run / "metrics.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    last = load_checkpoint(run / "checkpoints" / "last.pt")
    splits = ds.load_splits(run / "splits.json")
    structures = ds.read_structures(cfg["data"]["files"])
    return cfg, rows, last, splits, structures


def _down_pass(mc) -> str:
    """The coarse levels' down pass and weighting, where there are any (docs/method.md, 4)."""
    if not mc.coarse_levels:
        return ""
    how = {
        "member": "each coarse node's message copied to every member atom",
        "share": "each coarse node's message shared among its members, S_ik / M_k",
    }[mc.unpool]
    mass = (
        "; mass-weighted coarse levels (`mass_weighted: true`): each coarse node's messages "
        "and energy scaled by the atoms it stands for"
        if mc.mass_weighted
        else ""
    )
    return f"; down pass `unpool: {mc.unpool}`: {how}{mass}"


def _stopped(rows: list[dict], optim: dict, best_epoch: int) -> str:
    """Why a run ended before its epoch budget, if it did: ``" of N (early stopping)"``."""
    budget = optim.get("epochs")
    if not budget or len(rows) >= int(budget):
        return ""
    patience = optim.get("early_stopping_patience")
    if patience and int(rows[-1]["epoch"]) - best_epoch >= int(patience):
        return f" of {budget} (early stopping: no better validation loss in {patience} epochs)"
    return f" of {budget} (stopped before its budget)"


def _cpu_hours(rows: list[dict]) -> str:
    """The run's CPU time in words, for the card's wall time (which includes pauses)."""
    total = rows[-1].get("cpu_seconds") or ""
    if total:
        return f" ({float(total) / 3600:.2f} CPU core-hours)"
    known = [float(r["epoch_cpu_seconds"]) for r in rows if r.get("epoch_cpu_seconds")]
    if not known:  # trained before the trainer recorded CPU time
        return ""
    return (
        f" (CPU time recorded for {len(known)} of its {len(rows)} epochs: "
        f"{sum(known) / 3600:.2f} core-hours)"
    )


def _hardware(last: dict, cfg: dict, hardware: str | None) -> str:
    """The training hardware in words: given, or from the checkpoint's record."""
    device = last.get("device", "cpu")
    if hardware:
        return f"{hardware} ({device})"
    if device == "cpu":
        return (
            f"{platform.machine()} CPU ({os.cpu_count()} cores visible, "
            f"{cfg.get('num_threads')} torch thread(s))"
        )
    return f"{last.get('device_name') or device} x {last.get('world_size', 1)} process(es)"


def _split_seed(cfg: dict) -> int:
    """The seed that drew the split.

    ``data.split_seed`` where the config sets it (one split for every training seed), else the
    run's seed.
    """
    split_seed = cfg["data"].get("split_seed")
    return cfg["seed"] if split_seed is None else split_seed


def _data_lines(cfg: dict) -> list[str]:
    """One line per data file: structures, reference, the command that made it."""
    from muse_explore.reference.generate import summary_path

    lines = []
    train_only = list(cfg["data"].get("train_only_files") or [])
    for f in list(cfg["data"]["files"]) + train_only:
        s = summary_path(Path(f))
        info = json.loads(s.read_text()) if s.is_file() else {}
        lines.append(
            f"- `{Path(f).name}`: {info.get('structures', '?')} structures, "
            f"{info.get('reference', 'reference labels')}, made by "
            f"`{info.get('command', '?')}` in {info.get('wall_seconds', '?')} s of labelling "
            "(the wall times of its checkpointed chunks, summed)"
            + (" (training split only)" if f in train_only else "")
        )
    return lines


def state_reach_on_card(card: Path, model) -> bool:
    """Write ``model``'s training record (:func:`describe`) onto its card ``card``.

    For cards exported before the record existed: the line goes after the model section's
    parameter count, or replaces the card's earlier statement of it. Returns whether the card
    changed; it is rewritten atomically.
    """
    card = Path(card)
    line = _reach_line(model)
    if not line:
        raise ValueError(f"{card.name}: the model has no training record (trained_reach)")
    text = card.read_text(encoding="utf-8")
    stated = re.search(rf"\n- {re.escape(CARD_PHRASE)}[^\n]*", text)
    if stated:
        new = text[: stated.start()] + line + text[stated.end() :]
    else:
        count = re.search(r"\n {2}[\d,]+ parameters[^\n]*", text)
        if count is None:
            raise MuSEFileError(f"{card}: no parameter count in its model section to follow")
        new = text[: count.end()] + line + text[count.end() :]
    if new == text:
        return False
    with atomic_open(card, "w", encoding="utf-8") as fh:
        fh.write(new)
    return True


def _reach_line(model) -> str:
    """What the coarse nodes saw in training (the extrapolation warning's yardstick)."""
    text = describe(model)
    return f"\n- {text}" if text else ""


def _kind(mc) -> str:
    """What the model is, in words."""
    if mc.coarse_levels:
        return f"MuSE-{mc.backbone} with {mc.coarse_levels} coarse level(s)"
    if mc.long_range == "les":
        charges = {
            "none": "latent charges, unconstrained as in the LES paper",
            "structure": "latent charges neutral per structure",
            "fragment": "latent charges neutral per covalent fragment",
        }[mc.long_range_neutral]
        return (
            f"{mc.backbone} with the LES long-range head ({charges}, Gaussian-smeared "
            f"Coulomb sum, σ = {mc.long_range_sigma:g} Å; the long-range baseline), "
            "no coarse levels"
        )
    return f"{mc.backbone} alone, no coarse levels (the baseline)"


def _card(
    name, run, out, *, cfg, rows, last, splits, model, metrics, hardware, is_pretrained
) -> str:
    """The model card (Markdown); ``metrics`` is ``None`` without a test split."""
    from muse_explore.training.evaluation import format_metrics

    mc = model.config
    best_epoch = int(
        last.get("best_epoch") or min(rows, key=lambda r: float(r["val_loss"]))["epoch"]
    )
    best_row = next(r for r in rows if int(r["epoch"]) == best_epoch)
    torch_version = last.get("torch_version", "version not recorded")
    hw = _hardware(last, cfg, hardware)
    load = (
        f'`mx.load_pretrained("{name}")`, which returns a ready `MuSECalculator`'
        if is_pretrained
        else f'`mx.load_model("{_rel(out / name)}.pt")`'
    )
    hours = float(rows[-1]["elapsed_seconds"]) / 3600
    cpu = _cpu_hours(rows)
    config_file = _shipped_config(run) or str(run / "config.yaml")
    init = cfg.get("init_from")
    stage = (
        f"\n- initial weights: `{init}` (the previous training stage; its card is beside it)"
        if init
        else ""
    )
    files = " ".join(cfg["data"]["files"])
    extra_note = (
        "; the training count includes every structure of the training-only file(s), "
        "which leave the validation and test splits unchanged"
        if cfg["data"].get("train_only_files")
        else ""
    )
    if cfg["data"].get("augment_hops"):
        extra_note += (
            "; each training step cut every group into coarse nodes with the model's own "
            f"hops or one of {cfg['data']['augment_hops']}, drawn uniformly "
            "(`data.augment_hops`)"
        )
    shifts = ", ".join(f"{k} {v:.4f}" for k, v in mc.energy_shifts.items())
    o, lo = cfg["optim"], cfg["loss"]
    interaction = (
        f" and interaction energies of the triples (weight {lo['interaction_weight']})"
        if lo.get("interaction_weight")
        else ""
    )
    if lo.get("coarse_energy_weight"):
        interaction += (
            f", and the coarse levels' energy per atom toward zero"
            f" (weight {lo['coarse_energy_weight']})"
        )
    limit = (
        f"; training time limited to {o['time_limit_minutes']:g} min"
        if o.get("time_limit_minutes")
        else ""
    )
    stopped = _stopped(rows, o, best_epoch)
    return f"""# {name}

{_kind(mc)}, trained on GFN2-xTB data with muse_explore's trainer. Load it with
{load}.

## Model
- backbone `{mc.backbone}`, hidden {mc.hidden}, {mc.coarse_levels} coarse level(s), cutoffs
  {list(mc.cutoffs)} Å, interaction blocks {[lev.num_interactions for lev in mc.levels]},
  {_count_params(model):,} parameters{_down_pass(mc)}{_reach_line(model)}
- elements {mc.elements}; per-element energy shifts (eV, least squares on the training
  split): {shifts}

## Data
{chr(10).join(_data_lines(cfg))}
- split by `{cfg["data"]["group_by"]}` with seed {_split_seed(cfg)}:
  {len(splits["train"])} training, {len(splits["val"])} validation and
  {len(splits["test"])} test structures (`{name}.splits.json`){extra_note}

## Training
- command: `muse-explore train {config_file}`{stage}
- loss: Huber (δ = {lo["huber_delta"]}) on energy per atom (weight {lo["energy_weight"]}),
  forces (weight {lo["forces_weight"]}){interaction}; Adam with AMSGrad, learning rate
  {o["lr"]}, batch {o["batch_size"]}, EMA decay {o["ema_decay"]}{limit}
- {len(rows)} epochs{stopped} ({rows[-1]["step"]} steps) in {hours:.2f} h wall time{cpu} on {hw},
  {cfg["dtype"]}, torch {torch_version}
- best validation loss {float(best_row["val_loss"]):.5f} at epoch {best_row["epoch"]}; the
  shipped weights are the EMA weights of that epoch

## Test set: {len(splits["test"])} structures never used in training (float64)
```
{format_metrics(metrics) if metrics is not None else "no test split"}
```
Reproduce:
```bash
muse-explore evaluate {_rel(out / name)}.pt {files} \\
    --split {_rel(out / name)}.splits.json
```
"""
