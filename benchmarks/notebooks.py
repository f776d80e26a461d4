"""How long each teaching notebook takes, run top to bottom in a fresh kernel.

    python benchmarks/notebooks.py                      # all five; writes notebooks.json
    python benchmarks/notebooks.py --names 05_folding   # one (nothing written)

Each notebook of ``notebooks/`` is executed as ``tests/notebooks`` executes it (nbclient, a
new ``python3`` kernel, the notebook's folder as working directory), one after the other. The
table gives the wall time from the kernel's start to its last cell, the CPU time of the
kernel (its process and threads, read from the finished children's usage) and the 1-minute
load average before each run, so that a time measured beside other jobs says so. The
notebooks choose their own thread count (``muse_explore/calc/threads.py``: on a busy machine,
one thread). The README and docs/explorer.md quote these times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def run(path: Path) -> dict:
    """Execute one notebook; its wall and kernel CPU seconds, and the load before it."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    client = nbclient.NotebookClient(
        nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    errors = [
        o.get("ename", "error")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    if errors:
        raise SystemExit(f"{path.name} failed: {errors}")
    return {"notebook": path.stem, "wall_s": wall, "kernel_cpu_s": cpu, "load_before": load}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--names", nargs="+", default=None, help="notebooks (default: all)")
    p.add_argument("--json", default=str(ROOT / "benchmarks" / "notebooks.json"))
    args = p.parse_args()
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.names:
        paths = [NOTEBOOKS / f"{n.removesuffix('.ipynb')}.ipynb" for n in args.names]
        missing = [q.name for q in paths if not q.is_file()]
        if missing:
            raise SystemExit(f"no such notebook(s): {missing}")
    print(f"{'notebook':<40}{'wall s':>8}{'kernel CPU s':>14}{'load before':>13}")
    rows = []
    for path in paths:
        row = run(path)
        rows.append(row)
        print(
            f"{row['notebook']:<40}{row['wall_s']:>8.1f}{row['kernel_cpu_s']:>14.1f}"
            f"{row['load_before']:>13.2f}",
            flush=True,
        )
    total = sum(r["wall_s"] for r in rows)
    print(f"{'all':<40}{total:>8.1f}")
    if args.names:
        return
    from muse_explore.atomic import atomic_open

    result = {
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "time": time.strftime("%Y-%m-%d"),
        "rows": rows,
    }
    with atomic_open(args.json, "w") as fh:
        json.dump(result, fh, indent=1)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
