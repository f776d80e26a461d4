"""The model file: config + state_dict + elements + energy shifts + package version.

The model is rebuilt from its config on load (no pickled modules): files stay readable as the
code evolves, and ``torch.load(weights_only=True)`` refuses anything but tensors and plain data.
This module writes files (:func:`save_model`) and holds the format's constants;
:mod:`muse_explore.models.serialization` reads them back into a model.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from muse_explore.atomic import atomic_open

FORMAT = "muse_explore.model"
#: the header of a training checkpoint (:mod:`muse_explore.training.checkpoint`), kept here so
#: that a checkpoint handed to :func:`muse_explore.load_model` is recognised without importing
#: the training layer
CHECKPOINT_FORMAT = "muse_explore.checkpoint"
#: 2 (2026-12): seeds from the bond graph alone, smooth PaiNN vector norm. Format-1 files load
#: in legacy mode (their old seeding and norm, so their numbers do not change) with a warning.
#: 3 (2026-12): the config lists its levels one by one (``LevelConfig``); the flat per-level
#: lists of format 1 and 2 are read as they were.
#: 4 (2026-12): the soft assignment normalises its features (``assignment_norm``); files of
#: format 1 to 3 load without it, so their numbers do not change.
#: 5 (2026-12): coarse levels pool softly normalised features (``pool_norm``); files of format
#: 1 to 4 load without it.
FORMAT_VERSION = 5

LEGACY_MESSAGE = (
    "{path} was saved in model format 1 (before 2026-12): its coarse seeds depend on geometry "
    "and atom order and its PaiNN vector norm has unbounded curvature at zero. It is loaded "
    "unchanged in legacy mode (same numbers as before, so its energy is not single-valued "
    "along paths and not exactly permutation-invariant); retrain it to get the repaired "
    "core (docs/method.md)."
)


def migrate_format_1(config: dict) -> dict:
    """Config of a format-1 file with the legacy seeding and vector norm made explicit."""
    config = dict(config)
    config["seeding"] = "legacy"
    if config.get("backbone", "painn") == "painn":
        config["backbone_kwargs"] = {**config.get("backbone_kwargs", {}), "vector_norm": "legacy"}
    return config


def migrate_config(config: dict, version: int) -> dict:
    """A model config saved in model format ``version``, in the current format's terms.

    Also for training checkpoints, whose ``model_format`` records the version (checkpoints
    written before it was recorded are format 3).
    """
    if version < 2:
        config = migrate_format_1(config)
    if version < 4:
        config = {**config, "assignment_norm": False}
    if version < 5:
        config = {**config, "pool_norm": False}
    return config


def backbone_origin(name: str) -> dict:
    """``{"backbone_module": module}`` for a backbone of the user's own, else ``{}``.

    The module that registered ``name`` (``muse_explore.backbones.REGISTERED_BY``): a model
    file never imports it (files hold plain data only), but names it when it is loaded where
    nothing registered the backbone (:func:`unknown_backbone_hint`). Not a format change:
    older readers ignore it.
    """
    from muse_explore.backbones import BACKBONES, BUILT_IN, REGISTERED_BY

    if name in BUILT_IN or name not in BACKBONES:
        return {}
    return {"backbone_module": REGISTERED_BY.get(name, BACKBONES[name].__module__)}


def unknown_backbone_hint(payload: dict) -> str:
    """What to do when a file's backbone is not registered, from its recorded module.

    Only a dotted Python name is repeated (a file is data: anything else in it is not shown
    as a command to run).
    """
    module = payload.get("backbone_module")
    if not isinstance(module, str) or not all(p.isidentifier() for p in module.split(".")):
        return ""
    if module == "__main__":
        return (
            "; its backbone was registered in the notebook or script that saved it: run the "
            "code that registers it (mx.register_backbone) before loading"
        )
    return (
        f"; module {module!r} registered its backbone when it was saved: `import {module}` "
        f"before loading (for muse-explore commands: MUSE_EXPLORE_BACKBONES={module})"
    )


def trained_reach(value, levels: int, path) -> list[list[float]] | None:
    """A file's record of what the coarse nodes saw in training (``MuSE.trained_reach``).

    Per coarse level ``[atoms, nodes]``, checked. ``None`` where the file has none (files
    written before it was recorded: not a format change) or no training step filled it.

    Raises:
        MuSEFileError: the record is malformed.
    """
    import math

    from muse_explore.errors import MuSEFileError

    if value is None:
        return None
    try:
        rows = [[float(x) for x in row] for row in value]
    except (TypeError, ValueError):
        rows = None
    if (
        rows is None
        or len(rows) != levels
        or any(len(row) != 2 or not all(math.isfinite(x) and x >= 0 for x in row) for row in rows)
    ):
        raise MuSEFileError(
            f"{path}: its trained_reach is malformed (expected [atoms, nodes] for each of its "
            f"{levels} coarse level(s), got {value!r:.120})"
        )
    return rows if all(x > 0 for row in rows for x in row) else None


def save_model(model, path: str | os.PathLike) -> None:
    """Save ``model`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    from muse_explore.version import __version__

    path = Path(path)
    payload = {
        "format": FORMAT,
        **backbone_origin(model.config.backbone),
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "config": model.config.to_dict(),
        "elements": list(model.config.elements),
        "energy_shifts": dict(model.config.energy_shifts),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    if getattr(model, "trained_reach", None):
        payload["trained_reach"] = [[float(x) for x in row] for row in model.trained_reach]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as fh:
        torch.save(payload, fh)
