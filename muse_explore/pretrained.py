"""Pretrained models shipped in ``sample_data/models/``: ``NAME.pt`` and its card ``NAME.md``.

The folder is found next to the package (an editable install from the repository, as the
README sets up) or in ``$MUSE_EXPLORE_DATA/models``.
"""

from __future__ import annotations

import os
from pathlib import Path

from muse_explore.errors import MuSEFileError


def models_dir() -> Path:
    """The folder holding the pretrained models."""
    env = os.environ.get("MUSE_EXPLORE_DATA")
    if env:
        return Path(env) / "models"
    return Path(__file__).resolve().parents[1] / "sample_data" / "models"


def list_pretrained() -> list[str]:
    """Names of the pretrained models (sorted)."""
    folder = models_dir()
    return sorted(p.stem for p in folder.glob("*.pt")) if folder.is_dir() else []


def pretrained_path(name: str) -> Path:
    """The model file of ``name``; a clear error lists the names there are."""
    path = models_dir() / f"{name}.pt"
    if not path.is_file():
        names = list_pretrained()
        raise MuSEFileError(
            f"no pretrained model {name!r} in {models_dir()}; available: {names or 'none'}"
        )
    return path


def model_card(name: str) -> str:
    """The model card (Markdown) of ``name``."""
    path = pretrained_path(name).with_suffix(".md")
    return path.read_text() if path.is_file() else ""


def load_pretrained(name: str | os.PathLike, **calculator_kwargs):
    """A ready :class:`muse_explore.MuSECalculator` for a pretrained model.

    ``name`` is the name of a shipped model (:func:`list_pretrained`) or the path of a model
    file (``.pt``, e.g. a ``best_model.pt`` of your own training run). Keyword arguments go to
    the calculator (``dtype``, ``device``, ``freeze_topology``).
    """
    from muse_explore.calc import MuSECalculator
    from muse_explore.models import load_model

    text = os.fspath(name)
    is_path = isinstance(name, os.PathLike) or text.endswith(".pt") or os.sep in text
    path = Path(text) if is_path else pretrained_path(text)
    return MuSECalculator(load_model(path), **calculator_kwargs)
