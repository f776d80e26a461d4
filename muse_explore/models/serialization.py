"""One-file model format: config + state_dict + elements + energy shifts + package version.

The model is rebuilt from its config on load (no pickled modules): files stay readable as the
code evolves, and ``torch.load(weights_only=True)`` refuses anything but tensors and plain data.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from muse_explore.atomic import atomic_open
from muse_explore.errors import MuSEConfigError, MuSEFileError, MuSELegacyModelWarning

FORMAT = "muse_explore.model"
#: 2 (2026-12): seeds from the bond graph alone, smooth PaiNN vector norm. Format-1 files load
#: in legacy mode (their old seeding and norm, so their numbers do not change) with a warning.
FORMAT_VERSION = 2

LEGACY_MESSAGE = (
    "{path} was saved in model format 1 (before 2026-12): its coarse seeds depend on geometry "
    "and atom order and its PaiNN vector norm has unbounded curvature at zero. It is loaded "
    "unchanged in legacy mode (same numbers as before, so its energy is not single-valued "
    "along paths and not exactly permutation-invariant); retrain it to get the repaired "
    "core (docs/method.md)."
)


def _migrate_format_1(config: dict) -> dict:
    """Config of a format-1 file with the legacy seeding and vector norm made explicit."""
    config = dict(config)
    config["seeding"] = "legacy"
    if config.get("backbone", "painn") == "painn":
        config["backbone_kwargs"] = {**config.get("backbone_kwargs", {}), "vector_norm": "legacy"}
    return config


def save_model(model, path: str | os.PathLike) -> None:
    """Save ``model`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    from muse_explore.version import __version__

    path = Path(path)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "config": model.config.to_dict(),
        "elements": list(model.config.elements),
        "energy_shifts": dict(model.config.energy_shifts),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as fh:
        torch.save(payload, fh)


def load_model(path: str | os.PathLike, *, map_location: str | torch.device = "cpu"):
    """Rebuild a model saved with :func:`save_model`; clear errors for wrong or corrupt files."""
    from muse_explore.models.config import MuSEConfig
    from muse_explore.models.muse import MuSE

    path = Path(path)
    if not path.is_file():
        raise MuSEFileError(f"no model file at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many types for truncated/corrupt archives
        # torch's own text suggests weights_only=False (arbitrary code execution): not repeated
        raise MuSEFileError(
            f"{path} is not a readable muse_explore model file (corrupt or truncated, or not a "
            f"model file): torch.load failed with {type(err).__name__}"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
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
            config_dict = _migrate_format_1(config_dict)
            warnings.warn(LEGACY_MESSAGE.format(path=path), MuSELegacyModelWarning, stacklevel=2)
        config = MuSEConfig.from_dict(config_dict)
        model = MuSE(config)
    except (KeyError, TypeError, MuSEConfigError) as err:
        raise MuSEFileError(f"{path} has an invalid model configuration: {err}") from None
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
    return model.to(map_location)
