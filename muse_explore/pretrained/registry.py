"""The registry of a pretrained-models folder: ``registry.json`` with each model's size and sha256.

The file maps each name to its files and the model file's checksum::

    {"format": 1,
     "models": {"NAME": {"file": "NAME.pt", "sha256": "…", "bytes": 1164175,
                         "card": "NAME.md", "splits": "NAME.splits.json",
                         "data": {"files": […], "train_only_files": […]}}}}

``data`` names the data files (relative to the repository root, as the training config gave
them) that the split indexes into, so that benchmarks evaluate on the right structures.

A model is loaded only after its size and sha256 match, so that a git-lfs pointer, a truncated
download or a model retrained without updating the registry fails with a message saying
which, rather than with a torch unpickling traceback.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from muse_explore.atomic import atomic_open
from muse_explore.errors import MuSEFileError

REGISTRY = "registry.json"
FORMAT = 1
_LFS_POINTER = b"version https://git-lfs"


def sha256(path: Path) -> str:
    """The hex sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_registry(folder: Path) -> dict[str, dict]:
    """The entries of ``folder/registry.json`` by name; empty when there is no registry."""
    path = folder / REGISTRY
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
        models = data["models"]
        if data.get("format") != FORMAT or not isinstance(models, dict):
            raise ValueError(f"expected format {FORMAT} with a 'models' mapping")
    except (ValueError, KeyError, TypeError) as err:
        raise MuSEFileError(
            f"{path} is not a pretrained-models registry ({err}); restore it from the "
            "repository or the installed package, or rewrite it with `muse-explore export`"
        ) from err
    return models


def register(
    folder: Path, name: str, data: dict | None = None, trained_reach: list | None = None
) -> dict:
    """Add or update the entry of ``folder/NAME.pt`` in ``folder/registry.json``; return it.

    ``data`` (``files`` and ``train_only_files`` of the training config) replaces the entry's
    data files; ``None`` keeps the ones registered before. ``trained_reach`` records what
    the model's coarse nodes saw in training, for a model file that does not hold it (see
    :mod:`muse_explore.calc.reach`); ``None`` keeps the one registered before if the file is
    the same.

    The registry is rewritten atomically (a temporary file, then a rename), so a reader sees
    either the old registry or the new one.
    """
    model = folder / f"{name}.pt"
    entry = {
        "file": model.name,
        "sha256": sha256(model),
        "bytes": model.stat().st_size,
        "card": f"{name}.md" if (folder / f"{name}.md").is_file() else None,
        "splits": f"{name}.splits.json" if (folder / f"{name}.splits.json").is_file() else None,
    }
    models = read_registry(folder)
    before = models.get(name, {})
    previous = before.get("data")
    if data is not None or previous is not None:
        entry["data"] = data if data is not None else previous
    if trained_reach is None and before.get("sha256") == entry["sha256"]:
        trained_reach = before.get("trained_reach")
    if trained_reach is not None:
        entry["trained_reach"] = [[float(x) for x in row] for row in trained_reach]
    models[name] = entry
    with atomic_open(folder / REGISTRY) as fh:
        json.dump({"format": FORMAT, "models": dict(sorted(models.items()))}, fh, indent=2)
        fh.write("\n")
    return entry


def with_registered_reach(model, path: Path):
    """``model`` (loaded from ``path``) with its registry's ``trained_reach`` if it has none.

    The record is the one that a ``registry.json`` beside the file keeps for it: shipped and
    exported models trained before the trainer recorded it carry it in their registry entry
    (:func:`register`). The entry counts only if it names this file with its sha256.
    """
    from muse_explore.models.file_format import trained_reach

    path = Path(path)
    if model.trained_reach is not None or not model.levels:
        return model
    if not (path.parent / REGISTRY).is_file():
        return model
    try:
        entries = read_registry(path.parent)
    except MuSEFileError:
        return model  # a damaged registry is reported where it is used as one
    mine = [e for e in entries.values() if isinstance(e, dict) and e.get("file") == path.name]
    if mine and "trained_reach" in mine[0] and mine[0].get("sha256") == sha256(path):
        model.trained_reach = trained_reach(
            mine[0]["trained_reach"], model.levels, path.parent / REGISTRY
        )
    return model


def verify(folder: Path, name: str, entry: dict) -> Path:
    """The model file of ``entry`` after checking its size and sha256 against the registry.

    Raises:
        MuSEFileError: naming the file, the registered and the actual size and hash, and
            the likely cause with what to do about it.
    """
    path = folder / entry["file"]
    if not path.is_file():
        raise MuSEFileError(
            f"pretrained model {name!r} is registered in {folder / REGISTRY} but {path} is "
            "missing; reinstall muse-explore or restore the file"
        )
    size, actual = path.stat().st_size, sha256(path)
    if size == entry["bytes"] and actual == entry["sha256"]:
        return path
    with open(path, "rb") as fh:
        head = fh.read(len(_LFS_POINTER))
    if head == _LFS_POINTER:
        cause = (
            "it is a git-lfs pointer, not the model: run `git lfs pull` in the checkout, "
            "or install muse-explore from a wheel"
        )
    elif size < entry["bytes"]:
        cause = (
            "it is shorter than registered, a truncated download or copy: reinstall "
            "muse-explore (`pip install --force-reinstall muse-explore`) or restore the file"
        )
    else:
        cause = (
            "its content differs: a damaged copy, or a model replaced by hand without "
            f"updating {REGISTRY}; restore the file, or export the new model with "
            f"`muse-explore export RUN {name}`, which updates the registry"
        )
    raise MuSEFileError(
        f"{path} does not match its registry entry: expected {entry['bytes']} bytes with "
        f"sha256 {entry['sha256']}, found {size} bytes with sha256 {actual}; {cause}"
    )
