"""The explorer's interactive paths, timed on this machine: scans, the distance slider, views.

    python benchmarks/bench_explorer.py      # about 30 s on 2 CPU cores

Targets (the explorer issue, 2-core CPU): a 50-distance scan of a ~100-atom complex in <= 1 s
per model, the distance slider answering in <= 150 ms and a σ change in <= 300 ms at 100
atoms (the dashboard's time to show after "Run All" is measured by the browser test). Each
row is the best of several repeats (the least disturbed by other load), in a process with
the pretrained models loaded; "scan" is the data path (`interaction_curves`: build the
frames, convert, evaluate in float32 batches, E_int in float64); "scan widget" is the same
through `ScanExplorer.run` with two models (MuSE and the baseline) and the plot; "slider" is
`ScanExplorer`'s distance-slider callback (move the molecule in the 3D view, move the marker
on the curve).
"""

from __future__ import annotations

import os
import time

import numpy as np
import torch


def best(fn, repeats: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    import muse_explore as mx
    from muse_explore.explore import ScanSetup, interaction_curves, snapshots
    from muse_explore.reference import benzene_on_graphene

    threads = int(os.environ.get("BENCH_THREADS", "2"))
    torch.set_num_threads(threads)
    muse = mx.load_model(mx.pretrained.pretrained_path("muse-painn-graphene"))
    base = mx.load_model(mx.pretrained.pretrained_path("painn-graphene"))
    setup = ScanSetup(molecule="benzene", rings=2, distances=np.linspace(2.8, 14.0, 50))
    n_atoms = len(benzene_on_graphene(3.4))
    rows = [
        (
            "scan, MuSE-PaiNN (50 distances)",
            best(lambda: interaction_curves({"m": muse}, setup)),
            1,
        ),
        (
            "scan, PaiNN baseline (50 distances)",
            best(lambda: interaction_curves({"b": base}, setup)),
            1,
        ),
    ]
    atoms = benzene_on_graphene(3.4)
    rows.append(("snapshot of one structure", best(lambda: snapshots(muse, atoms)), None))
    try:
        from muse_explore import widgets
    except ImportError:
        widgets = None
    if widgets is not None:
        s = widgets.ScanExplorer({"MuSE": muse, "baseline": base})
        rows.append(("scan widget, 2 models + plot", best(s.run, 3), 2.0))
        opts = s.distance.options

        def slide():
            for v in (opts[10], opts[30]):
                s.distance.value = v

        rows.append(("distance slider (one move)", best(slide) / 2, 0.15))
        v = widgets.AssignmentViewer(muse, atoms)

        def move_sigma():
            v.sigma.value = 2.0 if v.sigma.value != 2.0 else 1.5

        rows.append(("assignment viewer: change σ (evaluate, repaint)", best(move_sigma), 0.3))
    print(f"explorer timings, {n_atoms}-atom benzene/circumcoronene, CPU, {threads} threads, "
          f"torch {torch.__version__}, {os.cpu_count()} cores visible")  # fmt: skip
    print()
    print(f"{'path':<52}{'ms':>9}{'target ms':>11}")
    print("-" * 72)
    for name, t, target in rows:
        tgt = f"{1000 * target:.0f}" if target else ""
        print(f"{name:<52}{1000 * t:>9.1f}{tgt:>11}")
    # the interactive default is float32; its E_int against a float64 evaluation of the scan
    e32 = interaction_curves({"m": muse}, setup)["m"]["e_int"]
    e64 = interaction_curves({"m": muse}, setup, dtype=torch.float64)["m"]["e_int"]
    print()
    print(f"scan E_int, float32 against float64: max |difference| "
          f"{1000 * np.abs(np.asarray(e32) - np.asarray(e64)).max():.3f} meV")  # fmt: skip


if __name__ == "__main__":
    main()
