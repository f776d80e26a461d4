"""Labelled structures from extxyz files or ASE databases, their split, and their graphs."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import ase.io
import numpy as np
import torch
from ase import Atoms
from torch_geometric.data import Data

from muse_explore.atomic import atomic_open
from muse_explore.data.graph import AtomsToGraph
from muse_explore.errors import MuSEConfigError, MuSEFileError, MuSEInputError

SPLITS = ("train", "val", "test")


def read_structures(paths: Sequence[str | os.PathLike]) -> list[Atoms]:
    """Read every structure of extxyz files (``.xz``/``.gz`` too) or ASE databases (``.db``).

    Each structure must have finite coordinates and carry an energy and forces, finite and
    of the right shape (and a stress, if it has one, finite); ``info["source"]`` records
    ``file:index``.

    Raises:
        MuSEFileError: a missing, unreadable or malformed file, or a structure with NaN or
            infinite coordinates, without labels, or with NaN, infinite or misshapen ones
            (named by file, index and atom).
    """
    out: list[Atoms] = []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise MuSEFileError(f"no data file at {path}")
        try:
            frames = _read_frames(path)
        except Exception as err:  # noqa: BLE001 - ASE raises many types for bad files
            where = _where_unreadable(path)
            raise MuSEFileError(
                f"{path} is not a readable extxyz file or ASE database "
                f"({where or f'{type(err).__name__}: {err}'})"
            ) from None
        if isinstance(frames, Atoms):
            frames = [frames]
        if not frames:
            raise MuSEFileError(f"{path} holds no structures")
        for i, atoms in enumerate(frames):
            results = atoms.calc.results if atoms.calc is not None else {}
            if "energy" not in results:
                raise MuSEFileError(f"{path}: structure {i} has no energy")
            if "forces" not in results:
                raise MuSEFileError(f"{path}: structure {i} has no forces")
            _check_frame(path, i, atoms, results)
            atoms.info["source"] = f"{path.name}:{i}"
            out.append(atoms)
    return out


def _check_frame(path: Path, i: int, atoms: Atoms, results: dict) -> None:
    """Refuse non-finite coordinates and NaN, infinite or misshapen labels.

    A NaN label turns every loss it enters into NaN; NaN coordinates make ASE's single-point
    results unreadable (the structure never equals itself), deep inside the trainer.
    """
    bad = np.flatnonzero(~np.isfinite(atoms.positions).all(axis=1))
    if bad.size:
        raise MuSEFileError(
            f"{path}: structure {i} has non-finite coordinates: atom {bad[0]} "
            f"({atoms[bad[0]].symbol}) at {atoms.positions[bad[0]].tolist()} "
            f"({bad.size} atom(s) affected)"
        )
    energy = np.asarray(results["energy"], dtype=float)
    if energy.size != 1 or not np.isfinite(energy).all():
        shown = energy.item() if energy.size == 1 else energy.tolist()
        raise MuSEFileError(f"{path}: structure {i} has energy {shown} (one finite number wanted)")
    forces = np.asarray(results["forces"], dtype=float)
    if forces.shape != (len(atoms), 3):
        raise MuSEFileError(
            f"{path}: structure {i} has forces of shape {forces.shape} for {len(atoms)} atoms"
        )
    bad = np.flatnonzero(~np.isfinite(forces).all(axis=1))
    if bad.size:
        raise MuSEFileError(
            f"{path}: structure {i} has non-finite forces on atom {bad[0]} "
            f"({forces[bad[0]].tolist()}; {bad.size} atom(s) affected)"
        )
    if "stress" in results:
        stress = np.asarray(results["stress"], dtype=float)
        if stress.shape not in ((6,), (3, 3)):
            raise MuSEFileError(
                f"{path}: structure {i} has a stress of shape {stress.shape} (6 Voigt components "
                "or 3 × 3 wanted)"
            )
        if not np.isfinite(stress).all():
            raise MuSEFileError(f"{path}: structure {i} has a non-finite stress")


#: the module that opens each compressed extxyz suffix
_OPENERS = {".xz": "lzma", ".gz": "gzip", ".bz2": "bz2"}


def _text(path: Path) -> str:
    """The whole text of an extxyz file, decompressed first where its suffix says so."""
    if path.suffix in _OPENERS:
        import importlib

        with importlib.import_module(_OPENERS[path.suffix]).open(path, "rt") as fh:
            return fh.read()
    return path.read_text()


def _read_frames(path: Path):
    """All frames of a file; compressed extxyz is decompressed in memory first.

    ASE seeks back and forth in the file it reads, which in an xz or gzip stream means
    decompressing from the start again each time: quadratic in the file size.
    """
    if path.suffix in _OPENERS:
        import io

        return ase.io.read(io.StringIO(_text(path)), index=":", format="extxyz")
    return ase.io.read(path, index=":")


def _where_unreadable(path: Path) -> str | None:
    """Which structure and lines of an extxyz file ASE cannot read, and why.

    ``None`` when the file is no extxyz text (a database, binary junk) or every frame reads
    alone.
    """
    import io

    if path.suffix == ".db":
        return None
    try:
        lines = _text(path).splitlines()
    except (OSError, UnicodeDecodeError, EOFError, ValueError):
        return None
    while lines and not lines[-1].strip():
        lines.pop()
    start, k = 0, 0
    while start < len(lines):
        head = lines[start].split()
        if len(head) != 1 or not head[0].isdigit():
            return f"structure {k}, line {start + 1}: {lines[start][:60]!r} is not an atom count"
        end = start + int(head[0]) + 2
        if end > len(lines):
            return (
                f"structure {k}, line {start + 1}: {head[0]} atoms announced, but the file "
                f"ends {max(0, len(lines) - start - 2)} atom line(s) later"
            )
        try:
            ase.io.read(io.StringIO("\n".join(lines[start:end]) + "\n"), format="extxyz")
        except Exception as err:  # noqa: BLE001 - ASE raises many types for bad frames
            return f"structure {k}, lines {start + 1}-{end}: {type(err).__name__}: {err}"
        start, k = end, k + 1
    return None


def select(structures: Sequence[Atoms], criteria: dict) -> list[int]:
    """Indices of the structures whose ``info`` matches every key/value of ``criteria``."""
    return [
        i for i, a in enumerate(structures) if all(a.info.get(k) == v for k, v in criteria.items())
    ]


def split(
    structures: Sequence[Atoms],
    indices: Sequence[int],
    *,
    val_fraction: float,
    test_fraction: float,
    seed: int,
    group_by: str | None = None,
    max_structures: int | None = None,
) -> dict[str, list[int]]:
    """Random train/val/test split of ``indices`` that keeps each group in one split.

    Groups (equal ``info[group_by]`` values, or single structures) are shuffled with
    ``numpy.random.default_rng(seed)``; the first ``test_fraction`` of them form the test
    set, the next ``val_fraction`` the validation set, the rest the training set.
    ``max_structures`` keeps whole groups, in the shuffled order, up to that many structures.
    """
    groups: dict[object, list[int]] = {}
    for i in indices:
        if group_by is None:
            key = i
        else:
            if group_by not in structures[i].info:
                raise MuSEConfigError(
                    f"data.group_by: structure {structures[i].info.get('source', i)} "
                    f"has no info key {group_by!r}"
                )
            key = group_key(structures[i], group_by, i)
        groups.setdefault(key, []).append(i)
    keys = list(groups)
    order = np.random.default_rng(seed).permutation(len(keys))
    keys = [keys[k] for k in order]
    if max_structures is not None:
        kept, count = [], 0
        for k in keys:
            if count >= max_structures:
                break
            kept.append(k)
            count += len(groups[k])
        keys = kept
    n_test = int(round(test_fraction * len(keys)))
    n_val = int(round(val_fraction * len(keys)))
    parts = {
        "test": keys[:n_test],
        "val": keys[n_test : n_test + n_val],
        "train": keys[n_test + n_val :],
    }
    if not parts["train"]:
        raise MuSEConfigError("the training split is empty: more data or smaller fractions")
    return {name: sorted(i for k in ks for i in groups[k]) for name, ks in parts.items()}


def run_data(data, seed: int, splits: dict[str, list[int]] | None = None):
    """A run's structures and their split, as training sees them.

    Reads ``data.files`` and then ``data.train_only_files`` (one list, in that order), keeps
    what ``data.select`` matches and splits the main files' structures with :func:`split`
    (seed ``data.split_seed``, else ``seed``); the train-only structures join the training
    split. ``splits`` (a resumed run's, from :func:`load_splits`) is used instead of a new
    split. ``data`` is a :class:`~muse_explore.training.config.DataConfig`.

    Returns:
        (structures, splits): every structure read, and ``{"train", "val", "test"}`` index
        lists into it.

    Raises:
        MuSEConfigError: when ``data.select`` matches none of the main files' structures.
    """
    structures = read_structures(data.files)
    n_main = len(structures)
    if data.train_only_files:
        structures += read_structures(data.train_only_files)
    picked = select(structures, data.select) if data.select else range(len(structures))
    extra = [i for i in picked if i >= n_main]
    picked = [i for i in picked if i < n_main]
    if not picked:
        raise MuSEConfigError(f"data.select {data.select} matches no structure")
    if splits is None:
        splits = split(
            structures,
            picked,
            val_fraction=data.val_fraction,
            test_fraction=data.test_fraction,
            group_by=data.group_by,
            seed=data.split_seed if data.split_seed is not None else seed,
            max_structures=data.max_structures,
        )
        splits["train"] = sorted(splits["train"] + extra)
    return structures, splits


def save_splits(path: Path, splits: dict[str, list[int]], sources: list[str]) -> None:
    """Write the split (structure indices and their ``file:index`` sources) as JSON, atomically."""
    data = {
        name: {"indices": idx, "sources": [sources[i] for i in idx]} for name, idx in splits.items()
    }
    with atomic_open(path) as fh:
        fh.write(json.dumps(data) + "\n")


def load_splits(path: Path) -> dict[str, list[int]]:
    """Read a split written by :func:`save_splits`."""
    return {name: idx for name, (idx, _) in _read_splits(path).items()}


def load_split_sources(path: Path, subset: str) -> tuple[list[int], list | None]:
    """One subset of a split written by :func:`save_splits`, from one read of the file.

    Its structure indices and their ``file:index`` sources (``None`` where the file lists none).
    """
    return _read_splits(path)[subset]


def _read_splits(path: Path) -> dict[str, tuple[list[int], list | None]]:
    try:
        data = json.loads(Path(path).read_text())
        return {name: (list(map(int, data[name]["indices"])), data[name].get("sources"))
                for name in SPLITS}  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise MuSEFileError(f"{path} is not a valid split file: {err}") from None


#: ``info["part"]`` -> sign in E_int = E(complex) - E(flake) - E(molecule)
PART_SIGNS = {"complex": 1, "flake": -1, "molecule": -1}


def group_key(atoms: Atoms, group_by: str, index: int):
    """The group of a structure: its file, its data set (``info["set"]``) and ``info[group_by]``.

    Sets number their configurations independently, so the value alone would merge
    configuration k of one set with configuration k of another; and two files may hold two
    draws of one set (``make-data SET --seed S --out FILE``), numbered alike, so the file
    (``info["source"]``, ``file:index``, from :func:`read_structures`) is part of the key too.
    A structure without the key is a group of its own.
    """
    if group_by not in atoms.info:
        return ("", "structure", index)
    value = atoms.info[group_by]
    source = str(atoms.info.get("source", "")).rpartition(":")[0]
    return (source, str(atoms.info.get("set", "")),
            value.item() if hasattr(value, "item") else value)  # fmt: skip


def group_ids(structures: Sequence[Atoms], group_by: str | None) -> list[int]:
    """An integer per structure, equal within a group (:func:`group_key`)."""
    if group_by is None:
        return list(range(len(structures)))
    ids: dict = {}
    return [ids.setdefault(group_key(a, group_by, i), len(ids)) for i, a in enumerate(structures)]


def to_graphs(
    structures: Sequence[Atoms],
    indices: Sequence[int],
    converter: AtomsToGraph,
    groups: Sequence[int] | None = None,
) -> list[Data]:
    """Graphs with targets, global indices and, optionally, group labels.

    Each graph has its structure's index ``idx`` and, with ``groups`` (from
    :func:`group_ids`), its ``group`` and ``part_sign`` (:data:`PART_SIGNS`).
    Targets are ``energy``, ``forces`` and ``stress`` (NaN where no stress is known, so that
    periodic and molecular structures batch together).
    """
    graphs = []
    for i in indices:
        atoms = structures[i]
        try:
            g = converter(atoms)
        except MuSEInputError as err:
            raise MuSEInputError(f"structure {atoms.info.get('source', i)}: {err}") from None
        if "stress" not in g:
            g.stress = torch.full((1, 3, 3), float("nan"), dtype=g.pos.dtype)
        g.idx = torch.tensor([i])
        if groups is not None:
            g.group = torch.tensor([groups[i]])
            g.part_sign = torch.tensor([PART_SIGNS.get(atoms.info.get("part"), 0)])
        graphs.append(g)
    return graphs
