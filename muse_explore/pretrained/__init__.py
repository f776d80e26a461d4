"""Pretrained models, shipped inside the package: ``NAME.pt``, its card ``NAME.md`` and split.

Where models live: in this package's folder (``muse_explore/pretrained/``, found with
:func:`importlib.resources.files`, so a wheel install has them as well as an editable one),
listed in its ``registry.json`` with each model file's size and sha256
(:mod:`muse_explore.pretrained.registry`). Only registered models are listed and loaded, and
only after their size and sha256 match: a git-lfs pointer, a truncated download or a model
replaced without updating the registry raises :class:`muse_explore.MuSEFileError` saying so.
``muse-explore export RUN NAME`` writes a model here and registers it.

Setting the environment variable ``MUSE_EXPLORE_DATA`` to a folder makes
``$MUSE_EXPLORE_DATA/models/`` the models folder instead: it holds its own ``registry.json``
beside the files (``muse-explore export RUN NAME --out $MUSE_EXPLORE_DATA/models`` writes
both).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from muse_explore.errors import MuSEFileError
from muse_explore.pretrained.registry import (
    REGISTRY,
    read_registry,
    verify,
    with_registered_reach,
)


def models_dir() -> Path:
    """The folder holding the pretrained models and their ``registry.json``."""
    env = os.environ.get("MUSE_EXPLORE_DATA")
    if env:
        return Path(env) / "models"
    folder = resources.files(__name__)
    if not isinstance(folder, Path):  # e.g. imported from a zip archive
        raise MuSEFileError(
            f"the pretrained models in {folder} are not plain files; install muse-explore "
            "unzipped (pip does) or set MUSE_EXPLORE_DATA to a folder with models/"
        )
    return folder


def list_pretrained() -> list[str]:
    """Names of the registered pretrained models (sorted)."""
    return sorted(read_registry(models_dir()))


def _entry(name: str) -> tuple[Path, dict]:
    """The models folder and the registry entry of ``name``; a clear error otherwise."""
    folder = models_dir()
    models = read_registry(folder)
    if name in models:
        return folder, models[name]
    if (folder / f"{name}.pt").is_file():
        raise MuSEFileError(
            f"{folder / name}.pt is not in {folder / REGISTRY}: register it with "
            f"`muse-explore export RUN {name}`, or load it by its path"
        )
    raise MuSEFileError(
        f"no pretrained model {name!r} in {folder}; available: {sorted(models) or 'none'}"
    )


def pretrained_path(name: str) -> Path:
    """The model file of ``name``, its size and sha256 checked against the registry."""
    folder, entry = _entry(name)
    return verify(folder, name, entry)


def model_data(name: str) -> dict:
    """The data files a shipped model was trained on (``files``, ``train_only_files``).

    Paths are relative to the repository root (where ``make-data`` writes them); the model's
    split (``NAME.splits.json``) indexes into ``files`` read in order.
    """
    _, entry = _entry(name)
    if "data" not in entry:
        raise MuSEFileError(f"the registry entry of {name!r} names no data files")
    return entry["data"]


def model_card(name: str) -> str:
    """The model card (Markdown) of ``name``."""
    folder, entry = _entry(name)
    path = folder / entry["card"] if entry.get("card") else None
    return path.read_text(encoding="utf-8") if path is not None and path.is_file() else ""


def load_pretrained(name: str | os.PathLike, **calculator_kwargs):
    """A ready :class:`muse_explore.MuSECalculator` for a pretrained model.

    ``name`` is the name of a shipped model (:func:`list_pretrained`; its file is checked
    against the registry first) or the path of a model file (``.pt``, e.g. a
    ``best_model.pt`` of your own training run). Keyword arguments go to the calculator
    (``dtype``, ``device``, ``freeze_topology``).
    """
    from muse_explore.calc import MuSECalculator
    from muse_explore.models import load_model

    text = os.fspath(name)
    is_path = isinstance(name, os.PathLike) or text.endswith(".pt") or os.sep in text
    if is_path:
        model = with_registered_reach(load_model(Path(text)), Path(text))
    else:
        model = load_shipped(text)
    return MuSECalculator(model, **calculator_kwargs)


def load_shipped(name: str):
    """The :class:`~muse_explore.models.MuSE` model of the shipped model ``name``.

    Its file is checked against the registry first; where the file does not record what
    its coarse nodes saw in training (models trained before the trainer recorded it), the
    registry's record is used (:mod:`muse_explore.calc.reach`).
    """
    from muse_explore.models import load_model

    folder, entry = _entry(name)
    path = verify(folder, name, entry)
    return with_registered_reach(load_model(path), path)
