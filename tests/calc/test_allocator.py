"""The glibc tuning: freed memory is reused by the next evaluation instead of faulted in again."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")

_FAULTS = """
import resource
import torch
from muse_explore.calc.allocator import tune_cpu_allocator
tuned = tune_cpu_allocator()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
x = torch.empty(256 << 20, dtype=torch.uint8).fill_(1)  # 256 MB, then freed
del x
f0 = faults()
y = torch.empty(256 << 20, dtype=torch.uint8).fill_(1)  # the same size again
print(tuned, faults() - f0)
"""


def _run(**env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k != "MUSE_EXPLORE_TUNE_MALLOC"}
    clean.update(env)
    out = subprocess.run(
        [sys.executable, "-c", _FAULTS], env=clean, capture_output=True, text=True, check=True
    )
    tuned, faults = out.stdout.split()
    return tuned, int(faults)


def test_tuned_heap_reuses_freed_memory():
    pages = (256 << 20) // 4096
    tuned, faults = _run()
    assert tuned == "True"
    assert faults < pages // 10  # served from memory the process already has
    tuned, faults = _run(MUSE_EXPLORE_TUNE_MALLOC="0")
    assert tuned == "False"
    assert faults > pages // 2  # glibc's default: a fresh mmap, every page faulted in
