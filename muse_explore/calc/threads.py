"""A thread count that does not oversubscribe a small or busy machine.

torch starts one intra-op thread per physical core. When other processes already keep the
cores busy (a training run beside a notebook, tests beside an MD run), threads that meet at
every operation wait for each other: on a 2-core machine under load, MD ran at 7.3 s per step
with the default threads and 0.31 s with one thread (docs/speed.md, Threads).

:func:`apply_thread_default` is called by :class:`~muse_explore.calc.MuSECalculator` (on CPU)
and by the CLI. It only ever *lowers* torch's count, to the cores that the 1-minute load
average leaves free (at least one), and does nothing when the user has said what they want:
``OMP_NUM_THREADS`` set (torch honours it) or ``MUSE_EXPLORE_THREADS=N`` (used as given).
"""

from __future__ import annotations

import os

_applied = False


def free_cores() -> int:
    """Cores available to this process that the 1-minute load average leaves idle (>= 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cores
    return max(1, min(cores, int(cores - load + 0.5)))


def apply_thread_default() -> int:
    """Set torch's thread count once per process (see the module docstring); returns it.

    Raises:
        MuSEConfigError: ``MUSE_EXPLORE_THREADS`` set to anything but a whole number >= 1
            (on every call until it is fixed, not only the first).
    """
    global _applied
    import torch

    if _applied:
        return torch.get_num_threads()
    chosen = os.environ.get("MUSE_EXPLORE_THREADS")
    if chosen:
        torch.set_num_threads(_chosen_threads(chosen))  # raises (every call) on a bad value
    elif "OMP_NUM_THREADS" not in os.environ:
        free = free_cores()
        if free < torch.get_num_threads():
            torch.set_num_threads(free)
    _applied = True
    return torch.get_num_threads()


def _chosen_threads(chosen: str) -> int:
    from muse_explore.errors import MuSEConfigError

    try:
        n = int(chosen)
    except ValueError:
        raise MuSEConfigError(
            f"MUSE_EXPLORE_THREADS must be a whole number, got {chosen!r}"
        ) from None
    if n < 1:
        raise MuSEConfigError(f"MUSE_EXPLORE_THREADS must be at least 1, got {n}")
    return n
