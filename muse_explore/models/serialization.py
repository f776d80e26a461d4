"""Reading model files back into a :class:`~muse_explore.models.muse.MuSE` model.

The format itself, and writing it, are in :mod:`muse_explore.models.file_format`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from muse_explore.errors import (
    MuSEConfigError,
    MuSEFileError,
    MuSELegacyModelWarning,
    MuSEUnknownBackboneError,
)
from muse_explore.models.config import MuSEConfig
from muse_explore.models.file_format import (
    CHECKPOINT_FORMAT,
    FORMAT,
    FORMAT_VERSION,
    LEGACY_MESSAGE,
    migrate_config,
    save_model,
    trained_reach,
    unknown_backbone_hint,
)
from muse_explore.models.muse import MuSE

__all__ = ["FORMAT", "FORMAT_VERSION", "load_model", "save_model"]


def load_model(path: str | os.PathLike, *, map_location: str | torch.device = "cpu"):
    """Rebuild a model saved with :func:`save_model`; clear errors for wrong or corrupt files."""
    if not isinstance(path, (str, os.PathLike)):
        raise MuSEFileError(
            f"load_model takes the path of a model file, got {type(path).__name__} "
            "(a pretrained model by name: muse_explore.load_pretrained(NAME))"
        )
    path = Path(path)
    if path.is_dir():
        best = path / "best_model.pt"  # a training run's folder
        hint = f": load {best}" if best.is_file() else ""
        raise MuSEFileError(f"{path} is a folder, not a model file{hint}")
    if not path.is_file():
        raise MuSEFileError(f"no model file at {path}")
    return model_from_payload(read_payload(path, map_location=map_location), path, map_location)


def read_payload(path: Path, *, map_location: str | torch.device = "cpu"):
    """What ``torch.load`` reads from a model file or checkpoint (tensors and plain data only)."""
    try:
        with warnings.catch_warnings():
            # torch warns about the pickle protocol of foreign files before refusing them;
            # the error below says what is wrong
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many types for truncated/corrupt archives
        # torch's own text suggests weights_only=False (arbitrary code execution): not repeated
        raise MuSEFileError(
            f"{path} is not a readable muse_explore model file (corrupt or truncated, or not a "
            f"model file): torch.load failed with {type(err).__name__}"
        ) from None


def model_from_payload(payload, path: Path, map_location: str | torch.device = "cpu"):
    """The model of a model file's payload (:func:`read_payload`); ``path`` names it in errors."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        if isinstance(payload, dict) and payload.get("format") == CHECKPOINT_FORMAT:
            raise MuSEFileError(
                f"{path} is a training checkpoint, not a model file: load the run's "
                "best_model.pt, or this checkpoint's EMA weights with "
                "muse_explore.training.evaluation.load_for_evaluation (as `muse-explore "
                "evaluate` does)"
            )
        raise MuSEFileError(f"{path} is not a muse_explore model file (no '{FORMAT}' header)")
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise MuSEFileError(
            f"{path} uses model format {payload['format_version']}, newer than this muse_explore "
            f"understands ({FORMAT_VERSION}); upgrade muse_explore"
        )
    version = payload.get("format_version", 0)
    try:
        config_dict = payload["config"]
        if version < 2:
            warnings.warn(LEGACY_MESSAGE.format(path=path), MuSELegacyModelWarning, stacklevel=2)
        config_dict = migrate_config(config_dict, version)
        config = MuSEConfig.from_dict(config_dict)
        model = MuSE(config)
    except (KeyError, TypeError, MuSEConfigError) as err:
        hint = unknown_backbone_hint(payload) if isinstance(err, MuSEUnknownBackboneError) else ""
        raise MuSEFileError(f"{path} has an invalid model configuration: {err}{hint}") from None
    state = payload.get("state_dict")
    if not isinstance(state, dict):
        raise MuSEFileError(f"{path} has no weights (state_dict)")
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        # torch's first line is only "Error(s) in loading state_dict for MuSE:"; the details
        # (missing and unexpected keys, size mismatches) follow it
        details = [line.strip() for line in str(err).splitlines()[1:] if line.strip()]
        shown = "; ".join(details[:4])
        if len(details) > 4:
            shown += f"; ... ({len(details) - 4} more)"
        raise MuSEFileError(
            f"{path}: weights do not match the saved configuration: {shown or err}"
        ) from None
    model.trained_reach = trained_reach(payload.get("trained_reach"), model.levels, path)
    return model.to(map_location)
