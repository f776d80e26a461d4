"""CPU memory-allocator tuning: the largest single speed-up for big structures on CPU.

A message-passing step allocates and frees many tensors of (edges × features) floats, each
tens to hundreds of MB for thousands of atoms. Two costs come with that, both measured with
benchmarks/bench_inference.py and the steps it documents:

- glibc serves blocks above 32 MB with fresh ``mmap`` pages and returns them on ``free``, so
  every evaluation pays page faults for gigabytes of memory (a 3,300-atom system: 1.6 s per
  energy + forces with the default settings, 0.5 s tuned). :func:`tune_cpu_allocator` keeps
  freed memory in the process for reuse: no ``mmap`` for large blocks and no trimming of the
  heap, as PyTorch's CUDA caching allocator keeps GPU memory. Trimming beyond 1 or 2 GB (the
  largest threshold glibc takes) made a 20,000-atom evaluation (12 GB) give memory back and
  fault it in again every time: 2.0-3.6 s per PaiNN energy + forces instead of 1.8 s.
  :class:`MuSECalculator` calls it on CPU.
- Memory that is new to the process is faulted in 4 kB pages. PyTorch can align its large
  CPU tensors (>= 2 MB) for transparent huge pages instead (its ``THP_MEM_ALLOC_ENABLE``
  switch), which takes 512 times fewer faults. At 10,000 atoms (PaiNN energy + forces, 2
  cores) the best of five evaluations went from 1.6 s to 1.2 s, and the page faults of a
  steady-state evaluation from about 0.5 M to zero. PyTorch reads the switch once, at its first
  allocation, so :func:`prefer_huge_pages` sets it when ``muse_explore`` is imported before
  ``torch``; otherwise export ``THP_MEM_ALLOC_ENABLE=1`` before starting Python.

The cost: resident memory stays at the peak of the largest evaluation for the life of the
process instead of shrinking between evaluations (about 13 GB after one 20,000-atom energy +
forces of MuSE-PaiNN). Set ``MUSE_EXPLORE_TUNE_MALLOC=0`` before starting Python to leave both
switches alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_MAX = -4
_done: bool | None = None


def _opted_out() -> bool:
    return os.environ.get("MUSE_EXPLORE_TUNE_MALLOC", "1") == "0"


def tune_cpu_allocator() -> bool:
    """Apply the glibc settings once per process; returns whether they are in effect."""
    global _done
    if _done is not None:
        return _done
    _done = False
    if _opted_out() or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    ok = mallopt(_M_MMAP_MAX, 0) == 1
    ok &= mallopt(_M_TRIM_THRESHOLD, -1) == 1  # glibc reads -1 as "never trim"
    ok &= mallopt(_M_TOP_PAD, 1 << 28) == 1
    _done = bool(ok)
    return _done


def prefer_huge_pages() -> bool:
    """Ask PyTorch for huge-page-aligned large CPU tensors; returns whether it will apply.

    Sets ``THP_MEM_ALLOC_ENABLE=1`` unless the user set it (either way) or opted out, and only
    while ``torch`` is not imported yet (PyTorch reads it once). Linux only.
    """
    if not sys.platform.startswith("linux") or _opted_out():
        return False
    if "THP_MEM_ALLOC_ENABLE" in os.environ:
        return os.environ["THP_MEM_ALLOC_ENABLE"] == "1" and "torch" not in sys.modules
    if "torch" in sys.modules:
        return False
    os.environ["THP_MEM_ALLOC_ENABLE"] = "1"
    return True
