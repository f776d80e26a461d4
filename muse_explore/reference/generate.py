"""Checkpointed, reproducible generation of labelled reference data.

A generation is a list of job specifications (plain dicts drawn from a seed) and a function
that turns one specification into unlabelled structures. Jobs are labelled with GFN2-xTB in
chunks; each finished chunk is written atomically to ``<out>.parts/part-NNNNNN.extxyz``, so a
killed run loses at most one chunk and ``generate`` called again resumes where it stopped.
When every chunk exists the parts are joined into ``out`` (compressed when its name ends in
``.xz`` or ``.gz``), with a JSON summary beside it (``<name>.json``: counts, seed, CPU time,
tblite version), and the parts folder is removed.

With ``jobs > 1`` the chunks are labelled by that many worker processes at once (spawned, each
taking the next unfinished chunk; ``build`` and the calculator factory must then be picklable:
module-level functions or ``functools.partial`` of them). The parts, and so the joined file, are
the same as with one, given the same ``OMP_NUM_THREADS`` (a GFN2-xTB relaxation inside a
builder ends at slightly different geometries on one and on two threads). ``OMP_NUM_THREADS``
applies to every worker; unset, the cores are shared out among them. The workers die with
the parent process (Linux), and a failure or an interrupt starts no further chunk.
"""

from __future__ import annotations

import json
import os
import pickle
import platform
import shutil
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import ase.io
from ase import Atoms

from muse_explore.atomic import atomic_open, atomic_path
from muse_explore.errors import MuSEFileError
from muse_explore.reference.xtb import gfn2_calculator, single_point

_COMPRESSION = (".xz", ".gz", ".bz2")
#: File name endings of extxyz files, plain or compressed, that ``ase.io`` reads and writes.
EXTXYZ_NAMES = tuple(e + c for e in (".extxyz", ".xyz") for c in ("", *_COMPRESSION))


def summary_path(out: Path) -> Path:
    """The JSON summary written beside a data file (``graphene.extxyz.xz`` -> ``graphene.json``)."""
    name = out.name
    for ext in _COMPRESSION + (".extxyz", ".xyz"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    return out.with_name(name + ".json")


def atomic_write_structures(path: Path, structures: Sequence[Atoms]) -> None:
    """Write ``structures`` as extxyz to ``path`` atomically (compressed by the name's suffix)."""
    with atomic_path(path) as tmp:
        ase.io.write(tmp, list(structures), format="extxyz")


def _atomic_write_json(path: Path, data: dict) -> None:
    with atomic_open(path) as fh:
        fh.write(json.dumps(data, indent=2) + "\n")


def generate(
    specs: Sequence[dict],
    build: Callable[[dict], list[Atoms]],
    out: str | os.PathLike,
    *,
    chunk: int = 20,
    stress: bool = False,
    calculator: Callable[[], object] = gfn2_calculator,
    meta: dict | None = None,
    progress: bool = True,
    labelled: bool = False,
    jobs: int = 1,
) -> Path:
    """Label every structure of every job with GFN2-xTB and write them to ``out``.

    Args:
        specs: job specifications; the same list must be passed when resuming.
        build: turns one specification into a list of unlabelled structures.
        out: the final extxyz file (``.extxyz``, ``.extxyz.xz``, ...).
        chunk: jobs per checkpointed part.
        stress: also label the stress (periodic structures).
        calculator: factory of the reference calculator; a fresh one labels each structure
            (tblite starts from its previous solution otherwise, which makes the labels
            depend on the order of the jobs).
        meta: extra fields for the JSON summary (seed, command, ...).
        progress: show a tqdm progress bar.
        labelled: ``build`` returns structures already labelled (e.g. MD frames carrying
            the energies and forces of the run itself): they are stored as they are.
        jobs: worker processes labelling chunks at once (1: in this process).

    Returns:
        ``out``.

    Raises:
        MuSEFileError: when ``<out>.parts`` holds a different, unfinished generation.
        ValueError: when ``jobs`` is below 1.
    """
    if int(jobs) < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    out = Path(out)
    parts = out.with_name(out.name + ".parts")
    _open_plan(parts, {"specs": list(specs), "chunk": int(chunk), "stress": bool(stress)})
    starts = range(0, len(specs), chunk)
    _label_parts(specs, build, parts, starts, chunk, out.name, progress, labelled,
                 partial(_label_one, calculator=calculator, stress=stress), int(jobs))  # fmt: skip
    _assemble(parts, starts, out, {"jobs": len(specs), **(meta or {})})
    shutil.rmtree(parts)
    return out


def _open_plan(parts: Path, plan: dict) -> None:
    """Start ``parts`` with its plan, or check that an unfinished generation had this one."""
    parts.mkdir(parents=True, exist_ok=True)
    plan_file = parts / "plan.json"
    if plan_file.exists():
        if json.loads(plan_file.read_text()) != json.loads(json.dumps(plan)):
            raise MuSEFileError(
                f"{parts} holds an unfinished generation with other settings; "
                "remove that folder to start over"
            )
    else:
        _atomic_write_json(plan_file, plan)


def _label_one(atoms: Atoms, calculator: Callable[[], object], stress: bool) -> Atoms:
    """One GFN2-xTB single point with a fresh calculator."""
    return single_point(atoms, calculator(), stress=stress)


def _label_chunk(specs, build, label, labelled: bool, part: Path) -> int:
    """Label one chunk of jobs into its part file (and its timing); returns its job count."""
    t0, w0 = time.process_time(), time.perf_counter()
    built = [atoms for spec in specs for atoms in build(spec)]
    frames = built if labelled else [label(a) for a in built]
    _atomic_write_json(
        part.with_suffix(".json"),
        {
            "cpu_seconds": time.process_time() - t0,
            "wall_seconds": time.perf_counter() - w0,
            "structures": len(frames),
        },
    )
    atomic_write_structures(part, frames)
    return len(specs)


def _label_parts(specs, build, parts, starts, chunk, name, progress, labelled, label, jobs=1):
    """Label the chunks not yet on disk, one checkpointed part file (and its timing) each."""
    from tqdm.auto import tqdm

    todo = [s for s in starts if not (parts / f"part-{s:06d}.extxyz").exists()]
    bar = tqdm(
        total=len(specs),
        initial=len(specs) - sum(min(chunk, len(specs) - s) for s in todo),
        desc=name,
        disable=not progress,
    )
    args = [(specs[s : s + chunk], build, label, labelled, parts / f"part-{s:06d}.extxyz")
            for s in todo]  # fmt: skip
    try:
        if jobs == 1 or len(todo) <= 1:
            for a in args:
                bar.update(_label_chunk(*a))
        else:
            _label_in_workers(args, jobs, bar)
    finally:
        bar.close()


def _exit_with_parent() -> None:
    """Worker initializer: on Linux, die when the parent does (no orphan labelling on)."""
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no prctl: orphans possible
            pass


def _label_in_workers(args, jobs: int, bar) -> None:
    """Label the chunks in ``jobs`` spawned processes (a forked one can hang in OpenMP).

    At most ``jobs`` chunks are handed out at a time, the next one only when a chunk has
    finished cleanly, so that a failure or an interrupt starts no further chunk. Where
    ``OMP_NUM_THREADS`` is unset, each worker gets an equal share of the cores.
    """
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    try:
        pickle.dumps(args[0][1:3])
    except Exception as exc:  # noqa: BLE001 - any pickling failure means the same thing
        raise ValueError(
            "jobs > 1 needs a picklable build function and calculator factory "
            f"(module-level functions or functools.partial of them): {exc}"
        ) from exc
    workers = min(jobs, len(args))
    threads_unset = "OMP_NUM_THREADS" not in os.environ
    if threads_unset:  # spawned workers read it at start: K workers share the cores
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    ctx = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_exit_with_parent) as pool:
            queue = list(args)
            running = {pool.submit(_label_chunk, *queue.pop(0)) for _ in range(workers)}
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    bar.update(future.result())  # a failed chunk raises here: none starts
                    if queue:
                        running.add(pool.submit(_label_chunk, *queue.pop(0)))
    finally:
        if threads_unset:
            del os.environ["OMP_NUM_THREADS"]


def _assemble(parts: Path, starts, out: Path, meta: dict) -> None:
    """Join the parts into ``out`` and write its JSON summary (timings, machine, tblite)."""
    structures: list[Atoms] = []
    cpu = wall = 0.0
    for start in starts:
        structures += ase.io.read(parts / f"part-{start:06d}.extxyz", ":")
        timing = json.loads((parts / f"part-{start:06d}.json").read_text())
        cpu += timing["cpu_seconds"]
        wall += timing["wall_seconds"]
    atomic_write_structures(out, structures)
    try:
        from importlib.metadata import version

        tblite_version = version("tblite")
    except Exception:  # noqa: BLE001 - the summary is informative only
        tblite_version = None
    summary = {
        "file": out.name,
        "jobs": meta.pop("jobs"),
        "structures": len(structures),
        "cpu_seconds": round(cpu, 1),
        "wall_seconds": round(wall, 1),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores visible",
        "reference": "GFN2-xTB (tblite)",
        "tblite_version": tblite_version,
        **meta,
    }
    _atomic_write_json(summary_path(out), summary)
