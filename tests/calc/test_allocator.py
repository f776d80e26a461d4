"""The glibc tuning: freed memory is reused by later evaluations instead of faulted in again."""

import os
import subprocess
import sys

import pytest

# page-fault counts depend on the machine and its load: opt-in (`pytest -m perf`), run by CI
pytestmark = [
    pytest.mark.perf,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only"),
]

# Ten rounds of allocate 256 MB, touch, free, as in repeated evaluations; the minor page faults
# of each round. The tuned heap settles within a few rounds (measured: by the fourth at the
# latest in 40 runs); glibc's default serves every round with a fresh mmap.
_ROUNDS = """
import resource
import torch
from muse_explore.calc.allocator import tune_cpu_allocator
tuned = tune_cpu_allocator()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
out = []
for _ in range(10):
    f0 = faults()
    x = torch.empty(256 << 20, dtype=torch.uint8).fill_(1)
    del x
    out.append(faults() - f0)
print(tuned, *out)
"""
_PAGES = (256 << 20) // 4096


def _rounds(**env: str) -> tuple[str, list[int]]:
    clean = {k: v for k, v in os.environ.items() if k != "MUSE_EXPLORE_TUNE_MALLOC"}
    clean.update(env)
    out = subprocess.run(
        [sys.executable, "-c", _ROUNDS], env=clean, capture_output=True, text=True, check=True
    )
    tuned, *faults = out.stdout.split()
    return tuned, [int(f) for f in faults]


def test_tuned_heap_reaches_a_steady_state():
    # Up to three processes: once in a clean-clone CI run (2026-11-26) a process faulted every
    # round after the second, which 50 runs by hand did not reproduce; a broken tuning fails
    # all three, as the default heap below does.
    runs = []
    for _ in range(3):
        tuned, faults = _rounds()
        assert tuned == "True"
        assert faults[0] > _PAGES // 2  # the first round faults its memory in
        runs.append(faults)
        if all(f < _PAGES // 10 for f in faults[-3:]):  # later rounds reuse it
            return
    pytest.fail(f"no process reached a steady state: {runs}")


def test_default_heap_faults_every_round():
    tuned, faults = _rounds(MUSE_EXPLORE_TUNE_MALLOC="0")
    assert tuned == "False"
    assert all(f > _PAGES // 2 for f in faults[-3:]), faults
