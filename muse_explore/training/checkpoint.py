"""Training checkpoints ('last' and 'best'): weights, optimiser, scheduler, EMA, RNG, counters.

Written atomically (temporary file in the same folder, fsync, rename), so a run killed at any
moment leaves the previous checkpoint intact. Read with ``weights_only=True``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

from muse_explore.atomic import atomic_open
from muse_explore.errors import MuSEFileError
from muse_explore.models.file_format import CHECKPOINT_FORMAT as FORMAT
from muse_explore.models.file_format import FORMAT_VERSION

MODEL_FORMAT = FORMAT_VERSION  # the model format of the model config a checkpoint holds


def rng_state() -> dict:
    """Python, NumPy, torch (and CUDA) random states as tensors and plain data."""
    np_state = np.random.get_state()  # noqa: NPY002 - the global state, saved as is
    state = {
        "python": random.getstate(),
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned."""
    random.setstate(state["python"])
    name, key, *rest = state["numpy"]
    np.random.set_state((name, key.numpy().astype(np.uint32), *rest))  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_model_config(state: dict):
    """The model config of a checkpoint read with :func:`load_checkpoint`.

    Migrated from the model format the checkpoint was written in (:class:`MuSEConfig`).
    """
    from muse_explore.models.config import MuSEConfig
    from muse_explore.models.file_format import migrate_config

    return MuSEConfig.from_dict(migrate_config(state["model_config"], state.get("model_format", 3)))


def save_checkpoint(path: str | os.PathLike, state: dict) -> None:
    """Save ``state`` atomically to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, "wb") as fh:
        torch.save({"format": FORMAT, "model_format": MODEL_FORMAT, **state}, fh)


def load_checkpoint(path: str | os.PathLike, *, map_location="cpu") -> dict:
    """Read a checkpoint; a missing, corrupt or foreign file raises :class:`MuSEFileError`."""
    path = Path(path)
    if not path.is_file():
        raise MuSEFileError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - torch raises many types for damaged files
        raise MuSEFileError(
            f"{path} is not a readable checkpoint (corrupt or truncated?): {type(err).__name__}"
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise MuSEFileError(f"{path} is not a muse_explore training checkpoint")
    return state
