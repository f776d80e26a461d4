"""CPU memory-allocator tuning: the largest single speed-up for big structures on CPU.

A message-passing step allocates and frees many tensors of (edges × features) floats, each
tens to hundreds of MB for thousands of atoms. glibc serves blocks above 32 MB with fresh
``mmap`` pages and returns them on ``free``, so every evaluation pays page faults for
gigabytes of memory: PaiNN energy + forces on a 3,312-atom flake took 0.78 s with glibc's
defaults and 0.35 s tuned (``MUSE_EXPLORE_TUNE_MALLOC=0 python benchmarks/bench_inference.py
--rings 22`` against the default run).

:func:`tune_cpu_allocator` keeps freed memory in the process for reuse: no ``mmap`` for large
blocks and no trimming of the heap, as PyTorch's CUDA caching allocator keeps GPU memory.
With trimming beyond 1 GB (the setting before), a 20,000-atom evaluation gave memory back and
faulted it in again every time and never reached a steady state; ``python
benchmarks/bench_inference.py --faults`` prints the page faults of a repeated evaluation
(zero in the steady state). :class:`MuSECalculator` calls it on CPU.

The cost: resident memory stays at the peak of the largest evaluation for the life of the
process instead of shrinking between evaluations (about 12 GB after one energy + forces of
MuSE-PaiNN on 20,000 atoms: the "peak MB" column of benchmarks/bench_inference.py). Set
``MUSE_EXPLORE_TUNE_MALLOC=0`` to keep glibc's defaults.
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


def tune_cpu_allocator() -> bool:
    """Apply the glibc settings once per process; returns whether they are in effect."""
    global _done
    if _done is not None:
        return _done
    _done = False
    if os.environ.get("MUSE_EXPLORE_TUNE_MALLOC", "1") == "0" or not sys.platform.startswith(
        "linux"
    ):
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
