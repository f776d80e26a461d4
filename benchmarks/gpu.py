"""The GPU path: agreement with the CPU, inference time and memory, a training step, DDP with NCCL.

    python benchmarks/gpu.py                 # all sections (about 4 minutes on one H100)
    python benchmarks/gpu.py --only infer    # one section: check, infer, scan, train, ddp, md
    python benchmarks/gpu.py --only md --device cpu --md-rings 3   # a dry run of ``md`` on a CPU

Needs a CUDA device. Sections:

* ``check``: the pretrained muse-painn-graphene model on benzene 3.4 Å above circumcoronene,
  energy, forces and a Hessian block on CUDA against the CPU (float64 and float32).
* ``infer``: energy + forces, float32, PaiNN alone and MuSE-PaiNN (random weights, 2 levels),
  on flakes and benzene+flake from ~100 to ~20,000 atoms. "prep" (Atoms -> graph, neighbour
  lists, seeds from the bond-graph cache) runs on the CPU; "model" is forward + backward on
  the GPU, synchronised; "peak MB" is the CUDA peak allocation over one evaluation.
* ``scan``: a 50-distance benzene/circumcoronene scan evaluated as one batch.
* ``train``: training steps of the graphene config (float32, batch of whole triples) on the
  GPU: steps and structures per second.
* ``md``: MD steps (ASE VelocityVerlet, 0.5 fs, 300 K, float32) of benzene on flakes of about
  1k, 10k, 20k and 100k atoms: PaiNN alone and MuSE-PaiNN through ``MuSECalculator`` with a
  0.5 Å Verlet skin, and mace-torch's own ``MACECalculator`` with a ScaleShiftMACE of
  comparable size (64 channels, L=1 features, 2 layers, random weights), in one run. It
  prints ms per step, µs per atom and step, the share of the step spent preparing the graph
  on the host (MuSE calculators; mace-torch's is not separated) and MuSE/backbone.
* ``ddp``: the same short training run launched by ``torchrun --nproc_per_node=1`` (a process
  group with the NCCL backend, DDP-wrapped model) and as a plain process; their metrics must
  agree.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _sync():
    import torch

    torch.cuda.synchronize()


def _pretrained():
    from muse_explore.models import load_model
    from muse_explore.pretrained import pretrained_path

    return load_model(pretrained_path("muse-painn-graphene"))


def check() -> None:
    import torch

    from muse_explore.calc.derivatives import compute_properties, hessian
    from muse_explore.reference import benzene_on_graphene

    atoms = benzene_on_graphene(3.4)
    res = {}
    for dev, dtype in [("cpu", torch.float64), ("cuda", torch.float64), ("cuda", torch.float32)]:
        model = _pretrained().to(dev, dtype).eval()
        conv = model.graph_converter(dtype=dtype)
        batch = conv.batch(atoms, targets=False).to(dev)
        out = compute_properties(model, batch, forces=True)
        h = hessian(model, batch, indices=torch.arange(6, device=dev))
        res[(dev, dtype)] = (
            out["energy"].detach().double().cpu().numpy(),
            out["forces"].detach().double().cpu().numpy(),
            h.detach().double().cpu().numpy(),
        )
    ref = res[("cpu", torch.float64)]
    print(f"benzene/circumcoronene ({len(atoms)} atoms), pretrained muse-painn-graphene")
    print(f"{'device':<8}{'dtype':<9}{'|dE| eV':>11}{'max|dF| eV/Å':>15}{'max|dH| eV/Å²':>15}")
    for (dev, dtype), (e, f, h) in res.items():
        print(
            f"{dev:<8}{str(dtype).split('.')[-1]:<9}{abs(e - ref[0]).max():>11.2e}"
            f"{abs(f - ref[1]).max():>15.2e}{abs(h - ref[2]).max():>15.2e}"
        )
    print(f"(reference: CPU float64, E = {ref[0][0]:.6f} eV)")


def infer(repeats: int = 10) -> None:
    import torch

    import muse_explore as mx
    from muse_explore.calc.derivatives import compute_properties
    from muse_explore.reference import graphene_flake, place_molecule

    head = (
        f"{'system':<15}{'atoms':>7}{'model':>12}{'prep ms':>9}{'model ms':>10}"
        f"{'total ms':>10}{'peak MB':>9}{'MuSE/bb':>9}"
    )
    print(f"energy + forces, float32, {torch.cuda.get_device_name()}, torch {torch.__version__}")
    print(head)
    print("-" * len(head))
    for system in ("flake", "benzene+flake"):
        for rings in (3, 12, 40, 57):
            atoms = graphene_flake(rings)
            if system != "flake":
                atoms = place_molecule("C6H6", atoms, 3.4)
            totals = {}
            for name, levels in (("painn", 0), ("muse-painn", 2)):
                model = mx.build_model(
                    backbone="painn", elements=["H", "C", "N", "O"], levels=levels, seed=0
                )
                model = model.to("cuda", torch.float32).eval()
                conv = model.graph_converter(dtype=torch.float32)
                conv.batch(atoms, targets=False)
                best_prep, best_model = np.inf, np.inf
                for _ in range(repeats + 2):
                    t0 = time.perf_counter()
                    batch = conv.batch(atoms, targets=False).to("cuda")
                    _sync()
                    t1 = time.perf_counter()
                    torch.cuda.reset_peak_memory_stats()
                    base = torch.cuda.memory_allocated()
                    compute_properties(model, batch, forces=True)
                    _sync()
                    t2 = time.perf_counter()
                    peak = (torch.cuda.max_memory_allocated() - base) / 2**20
                    best_prep, best_model = min(best_prep, t1 - t0), min(best_model, t2 - t1)
                totals[name] = best_prep + best_model
                ratio = f"{totals[name] / totals['painn']:.2f}" if name != "painn" else ""
                print(
                    f"{system:<15}{len(atoms):>7}{name:>12}{best_prep * 1e3:>9.1f}"
                    f"{best_model * 1e3:>10.1f}{totals[name] * 1e3:>10.1f}{peak:>9.0f}{ratio:>9}",
                    flush=True,
                )


def scan(repeats: int = 10) -> None:
    import torch

    from muse_explore.calc.derivatives import compute_properties
    from muse_explore.reference import benzene_on_graphene

    heights = np.linspace(2.5, 20.0, 50)
    frames = [benzene_on_graphene(float(d)) for d in heights]
    print(f"scan: 50 distances of benzene over circumcoronene ({len(frames[0])} atoms), one batch")
    for dev in ("cpu", "cuda"):
        model = _pretrained().to(dev, torch.float32).eval()
        conv = model.graph_converter(dtype=torch.float32)
        best = np.inf
        for _ in range(repeats + 1):
            t0 = time.perf_counter()
            batch = conv.batch(frames, targets=False).to(dev)
            compute_properties(model, batch, forces=False)
            if dev == "cuda":
                _sync()
            best = min(best, time.perf_counter() - t0)
        nt = torch.get_num_threads()
        print(f"  {dev:<5} energies of 50 frames: {best * 1e3:.1f} ms ({nt} CPU threads)")


def _short_config(tmp: Path, device: str, epochs: int, structures: int) -> Path:
    import yaml

    protocol = ROOT / "sample_data/configs/protocol/muse-painn-graphene.yaml"
    cfg = yaml.safe_load(protocol.read_text())
    cfg["data"]["files"] = [str(ROOT / "sample_data/data/graphene_thermal.extxyz.xz")]
    cfg["data"]["train_only_files"] = []
    cfg["data"]["max_structures"] = structures
    cfg["run_dir"] = str(tmp / f"run-{device}")
    cfg["device"] = device
    cfg["num_threads"] = 4
    cfg["optim"]["epochs"] = epochs
    cfg["optim"]["time_limit_minutes"] = None
    path = tmp / f"{device}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def train(structures: int = 1800, epochs: int = 2) -> None:
    import torch

    from muse_explore.training import TrainConfig, Trainer

    with tempfile.TemporaryDirectory() as tmp:
        cfg = TrainConfig.from_yaml(_short_config(Path(tmp), "cuda", epochs, structures))
        trainer = Trainer(cfg, progress=False)
        n_train = sum(1 for _ in trainer.sampler)
        t0 = time.perf_counter()
        trainer.fit()
        _sync()
        dt = time.perf_counter() - t0
        rows = list(csv.DictReader(open(Path(cfg.run_dir) / "metrics.csv")))
        trainer.close()
    steps = n_train * epochs
    print(
        f"training on {torch.cuda.get_device_name()}: {structures} structures "
        f"({n_train} steps/epoch, batch of 8 configurations as whole triples), {epochs} epochs"
    )
    print(f"  {dt:.1f} s in all incl. validation: {steps / dt:.1f} steps/s")
    for r in rows:
        print(
            "  epoch {epoch}: train loss {train_loss}, val E MAE {val_energy_mae} meV/atom, "
            "val F MAE {val_forces_mae} meV/Å, val E_int MAE {val_interaction_mae} meV, "
            "{epoch_seconds} s".format(**r)
        )


def ddp(structures: int = 600, epochs: int = 2) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        device = "cuda"
        cfg = _short_config(tmp, device, epochs, structures)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        run_dir = tmp / f"run-{device}"
        plain = [sys.executable, "-m", "muse_explore.cli.main", "train", str(cfg), "--quiet"]
        launch = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=1", "-m"]
        runs = {}
        for name, cmd in [
            ("plain", plain),
            ("plain again", plain),
            ("torchrun", [*launch, *plain[2:]]),
        ]:
            out = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if out.returncode:
                print(out.stdout[-3000:], out.stderr[-3000:])
                raise SystemExit(f"{name} run failed")
            runs[name] = list(csv.DictReader(open(run_dir / "metrics.csv")))
            if name == "torchrun":
                line = next((x for x in out.stdout.splitlines() if x.startswith("DDP:")), "?")
            run_dir.rename(tmp / name.replace(" ", "-"))
    print(f"torchrun --nproc_per_node=1 ({line}) against a plain process, {structures} structures")
    keys = ["train_loss", "val_energy_mae", "val_forces_mae"]

    def spread(a_rows, b_rows):
        worst = 0.0
        for a, b in zip(a_rows, b_rows, strict=True):
            for k in keys:
                worst = max(worst, abs(float(a[k]) - float(b[k])) / max(abs(float(a[k])), 1e-12))
        return worst

    for a, b in zip(runs["plain"], runs["torchrun"], strict=True):
        print(f"  epoch {a['epoch']}: " + ", ".join(f"{k} {a[k]} / {b[k]}" for k in keys))
    worst = spread(runs["plain"], runs["torchrun"])
    print(f"  largest relative difference, torchrun vs plain: {worst:.1e}")
    print(
        "  largest relative difference, plain vs plain (CUDA scatter-add order): "
        f"{spread(runs['plain'], runs['plain again']):.1e}"
    )


def _mace_torch_calculator(device: str):
    """mace-torch's calculator around a ScaleShiftMACE of MuSE-PaiNN's size (random weights)."""
    import torch

    from muse_explore.backbones.e3nn_compat import import_o3

    o3 = import_o3()  # e3nn under torch's weights-only default
    from mace import modules
    from mace.calculators import MACECalculator

    torch.manual_seed(0)
    model = modules.ScaleShiftMACE(
        r_max=5.0, num_bessel=8, num_polynomial_cutoff=5, max_ell=2,
        interaction_cls=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        interaction_cls_first=modules.interaction_classes["RealAgnosticResidualInteractionBlock"],
        num_interactions=2, num_elements=4, hidden_irreps=o3.Irreps("64x0e+64x1o"),
        MLP_irreps=o3.Irreps("16x0e"), atomic_energies=np.zeros(4), avg_num_neighbors=30.0,
        atomic_numbers=[1, 6, 7, 8], correlation=3, gate=torch.nn.functional.silu,
        radial_MLP=[64, 64, 64], atomic_inter_scale=1.0, atomic_inter_shift=0.0,
    )  # fmt: skip
    return MACECalculator(models=[model.float()], device=device, default_dtype="float32")


class _TimedConverter:
    """A converter that adds the seconds of each conversion to ``total[0]``."""

    def __init__(self, converter, total: list) -> None:
        self.converter, self.total = converter, total

    def __getattr__(self, name):
        return getattr(self.converter, name)

    def __call__(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return self.converter(*args, **kwargs)
        finally:
            self.total[0] += time.perf_counter() - t0


def md(steps: int = 20, device: str = "cuda", rings=(12, 40, 57, 128)) -> None:
    """MD steps per model and size (see the module docstring)."""
    import torch
    from ase import units
    from ase.md.velocitydistribution import thermalize_momenta
    from ase.md.verlet import VelocityVerlet

    import muse_explore as mx
    from muse_explore.reference import graphene_flake, place_molecule

    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    print(f"{'atoms':>7}{'model':>12}{'ms/step':>10}{'µs/atom':>9}{'prep %':>8}{'rebuilds':>10}"
          f"{'MuSE/bb':>9}")  # fmt: skip
    for r in rings:
        atoms = place_molecule("C6H6", graphene_flake(r), 3.4)
        times = {}
        for name in ("painn", "muse-painn", "mace-torch"):
            prep = [0.0]
            if name == "mace-torch":
                calc = _mace_torch_calculator(device)
            else:
                model = mx.build_model(levels=2 if name == "muse-painn" else 0, seed=0)
                calc = mx.MuSECalculator(model, dtype="float32", device=device, skin=0.5)
                calc.converter = _TimedConverter(calc.converter, prep)
            a = atoms.copy()
            a.calc = calc
            thermalize_momenta(a, temperature_K=300, rng=np.random.default_rng(0))
            dyn = VelocityVerlet(a, timestep=0.5 * units.fs)
            dyn.run(3)  # warm-up
            prep[0] = 0.0
            verlet = getattr(getattr(calc, "converter", None), "verlet", None)
            builds = verlet.builds if verlet is not None else 0
            sync()
            t0 = time.perf_counter()
            dyn.run(steps)
            sync()
            step = (time.perf_counter() - t0) / steps
            times[name] = step
            share = f"{100 * prep[0] / steps / step:.0f}" if name != "mace-torch" else "-"
            rebuilds = f"{verlet.builds - builds}/{steps}" if verlet is not None else "-"
            ratio = f"{step / times['painn']:.2f}" if name == "muse-painn" else ""
            print(f"{len(atoms):>7}{name:>12}{1e3 * step:>10.1f}{1e6 * step / len(atoms):>9.2f}"
                  f"{share:>8}{rebuilds:>10}{ratio:>9}", flush=True)  # fmt: skip
            del calc, a, dyn
            if device.startswith("cuda"):
                torch.cuda.empty_cache()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sections = ["check", "infer", "scan", "train", "ddp", "md"]
    p.add_argument("--only", nargs="+", choices=sections)
    p.add_argument("--device", default="cuda", help="md only: 'cpu' for a dry run")
    p.add_argument("--md-rings", type=int, nargs="+", default=[12, 40, 57, 128],
                   help="md: flake sizes in rings (12: ~1.1k atoms, 40: ~10k, 57: ~20k, "
                   "128: ~100k)")  # fmt: skip
    p.add_argument("--md-steps", type=int, default=20)
    args = p.parse_args()
    import torch

    if args.device != "cpu" and not torch.cuda.is_available():
        raise SystemExit("benchmarks/gpu.py needs a CUDA device")
    for name in args.only or sections:
        print(f"\n== {name} ==", flush=True)
        if name == "md":
            md(args.md_steps, args.device, args.md_rings)
        else:
            globals()[name]()


if __name__ == "__main__":
    main()
