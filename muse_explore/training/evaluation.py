"""Evaluate a model on labelled structures: a metric table and per-structure predictions."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from muse_explore.atomic import atomic_open
from muse_explore.calc.evaluate import evaluate_batches
from muse_explore.errors import MuSEFileError, MuSEInputError
from muse_explore.models.muse import MuSE
from muse_explore.training import dataset as ds
from muse_explore.training.metrics import UNITS, ErrorAccumulator


def load_for_evaluation(path: str | os.PathLike) -> MuSE:
    """A model from a model file (``best_model.pt``) or a training checkpoint (EMA weights)."""
    from torch.optim.swa_utils import AveragedModel

    from muse_explore.errors import MuSEConfigError, MuSEUnknownBackboneError
    from muse_explore.models.file_format import trained_reach, unknown_backbone_hint
    from muse_explore.models.serialization import FORMAT as MODEL_FORMAT
    from muse_explore.models.serialization import model_from_payload, read_payload
    from muse_explore.training.checkpoint import FORMAT as CKPT_FORMAT
    from muse_explore.training.checkpoint import checkpoint_model_config

    path = Path(path)
    if not path.is_file():
        raise MuSEFileError(f"no model or checkpoint at {path}")
    head = read_payload(path)  # read once: a model file is rebuilt from what was read
    if isinstance(head, dict) and head.get("format") == CKPT_FORMAT:
        try:
            model = MuSE(checkpoint_model_config(head))
            if head.get("ema") is not None:
                ema = AveragedModel(model, use_buffers=True)
                ema.load_state_dict(head["ema"])
                model = ema.module
            else:
                model.load_state_dict(head["model"])
        except (KeyError, TypeError, RuntimeError, MuSEConfigError) as err:
            hint = unknown_backbone_hint(head) if isinstance(err, MuSEUnknownBackboneError) else ""
            raise MuSEFileError(
                f"{path}: a checkpoint this model code cannot rebuild: {err}{hint}"
            ) from None
        model.trained_reach = trained_reach(head.get("reach_seen"), model.levels, path)
        return model
    if isinstance(head, dict) and head.get("format") == MODEL_FORMAT:
        return model_from_payload(head, path)
    raise MuSEFileError(f"{path} is neither a muse_explore model file nor a checkpoint")


def evaluate(
    model: MuSE,
    structures: Sequence[Atoms],
    *,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
    batch_size: int = 8,
) -> tuple[dict, list[dict]]:
    """Errors of ``model`` on labelled ``structures``.

    Returns:
        ``(metrics, rows)``: MAE/RMSE of energy per atom (meV/atom), forces (meV/Å) and
        stress (meV/Å³), and one dict per structure (``energy_ref``, ``energy_pred`` in eV,
        ``forces_pred`` (n, 3) eV/Å, ``forces_mae`` meV/Å, ``index``).
    """
    graphs = ds.to_graphs(structures, range(len(structures)), model.graph_converter(dtype))
    acc = ErrorAccumulator()
    rows: list[dict] = []
    for _, batch, pred in evaluate_batches(
        model, graphs, dtype=dtype, device=device, forces=True, stress=True,
        batch_size=batch_size,
    ):  # fmt: skip
        acc.update(pred, batch)
        rows += prediction_rows(pred, batch)
    return acc.result(), rows


def format_metrics(metrics: dict) -> str:
    """The metric table as text."""
    lines = [f"  {'quantity':<10}{'MAE':>12}{'RMSE':>12}  unit"]
    for name, (_, unit) in UNITS.items():
        mae, rmse = metrics.get(f"{name}_mae"), metrics.get(f"{name}_rmse")
        if mae is None or not np.isfinite(mae):
            continue
        lines.append(f"  {name:<10}{mae:>12.3f}{rmse:>12.3f}  {unit}")
    return "\n".join(lines)


def prediction_format(path: str | os.PathLike) -> str:
    """``"csv"`` or ``"extxyz"`` from the name of a predictions file.

    Raises:
        MuSEInputError: for any other name (a ``.json`` once got extxyz text), naming it.
    """
    from muse_explore.reference.generate import EXTXYZ_NAMES

    suffixes = (".csv", *EXTXYZ_NAMES)  # a table, or the structures with predicted labels
    name = Path(path).name.lower()
    if not name.endswith(suffixes):
        raise MuSEInputError(f"{path}: a predictions file is {', '.join(suffixes)}")
    return "csv" if name.endswith(".csv") else "extxyz"


def write_predictions(path: str | os.PathLike, structures: Sequence[Atoms], rows) -> None:
    """Per-structure predictions: an extxyz (``.extxyz``) or a CSV table (``.csv``).

    The extxyz holds each structure with the *predicted* energy and forces as its labels
    and the reference in ``info["energy_ref"]`` / ``arrays["forces_ref"]``; the CSV has
    one row per structure (source, atoms, reference and predicted energy, force MAE).
    Written atomically.
    """
    from muse_explore.reference.generate import atomic_write_structures

    path = Path(path)
    by_index = {r["index"]: r for r in rows}
    if prediction_format(path) == "csv":
        with atomic_open(path, newline="") as fh:
            w = csv.writer(fh)
            w.writerow(
                [
                    "source",
                    "natoms",
                    "energy_ref_eV",
                    "energy_pred_eV",
                    "energy_error_meV_per_atom",
                    "forces_mae_meV_per_A",
                ]
            )
            for i, a in enumerate(structures):
                r = by_index[i]
                err = 1000 * (r["energy_pred"] - r["energy_ref"]) / r["natoms"]
                w.writerow(
                    [
                        a.info.get("source", i),
                        r["natoms"],
                        f"{r['energy_ref']:.6f}",
                        f"{r['energy_pred']:.6f}",
                        f"{err:.4f}",
                        f"{r['forces_mae']:.4f}",
                    ]
                )
        return
    out = []
    for i, a in enumerate(structures):
        r = by_index[i]
        b = a.copy()
        b.info = dict(a.info, energy_ref=r["energy_ref"])
        b.arrays["forces_ref"] = np.asarray(a.get_forces())
        b.calc = SinglePointCalculator(b, energy=r["energy_pred"], forces=r["forces_pred"])
        out.append(b)
    atomic_write_structures(path, out)


def prediction_rows(pred: dict, batch) -> list[dict]:
    """Per-structure reference and predicted energies, predicted forces and force MAE."""
    rows = []
    natoms = torch.bincount(batch.batch, minlength=batch.num_graphs)
    ptr = batch.ptr.tolist()
    for s in range(batch.num_graphs):
        f_err = (pred["forces"] - batch.forces)[ptr[s] : ptr[s + 1]]
        rows.append(
            {
                "index": int(batch.idx[s]),
                "natoms": int(natoms[s]),
                "energy_ref": float(batch.energy[s]),
                "energy_pred": float(pred["energy"][s].detach()),
                "forces_mae": float(f_err.abs().mean()) * 1000.0,
                "forces_pred": pred["forces"][ptr[s] : ptr[s + 1]].detach().cpu().double().numpy(),
            }
        )
    return rows
