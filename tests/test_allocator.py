"""The allocator switches: huge pages for large tensors (set before torch) and glibc tuning."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

_THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _run(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("THP_MEM_ALLOC_ENABLE",)}
    clean.pop("MUSE_EXPLORE_TUNE_MALLOC", None)
    clean.update(env)
    out = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


_REPORT = "import os; print(os.environ.get('THP_MEM_ALLOC_ENABLE'))"


def test_import_before_torch_sets_the_switch():
    assert _run("import muse_explore\n" + _REPORT) == "1"


def test_torch_first_is_left_alone():
    code = "import torch\nfrom muse_explore.allocator import prefer_huge_pages\n"
    code += "print(prefer_huge_pages(), os.environ.get('THP_MEM_ALLOC_ENABLE'))"
    assert _run("import os\n" + code) == "False None"


def test_user_choice_and_opt_out_are_kept():
    assert _run("import muse_explore\n" + _REPORT, THP_MEM_ALLOC_ENABLE="0") == "0"
    assert _run("import muse_explore\n" + _REPORT, MUSE_EXPLORE_TUNE_MALLOC="0") == "None"


def test_glibc_tuning_applies():
    code = "from muse_explore.allocator import tune_cpu_allocator\nprint(tune_cpu_allocator())"
    assert _run(code) == "True"
    assert _run(code, MUSE_EXPLORE_TUNE_MALLOC="0") == "False"


_FAULTS = """
import resource
import muse_explore, torch
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
torch.empty(1 << 20).fill_(1.0)  # warm-up: the switch is read at the first allocation
f0 = faults()
x = torch.empty(64 << 20, dtype=torch.uint8).fill_(1)
print(faults() - f0)
"""


@pytest.mark.skipif(
    not _THP.exists() or "[never]" in _THP.read_text(), reason="no transparent huge pages"
)
def test_huge_pages_take_fewer_page_faults():
    pages = (64 << 20) // 4096  # a 64 MB tensor in 4 kB pages
    assert int(_run(_FAULTS, THP_MEM_ALLOC_ENABLE="0")) > pages // 2
    assert int(_run(_FAULTS)) < pages // 4
