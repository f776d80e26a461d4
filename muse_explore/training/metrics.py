"""Error metrics accumulated over batches: MAE and RMSE of energy per atom, forces, stress."""

from __future__ import annotations

import math

import torch

from muse_explore.training.loss import interaction_energies

#: metric name -> (factor from eV units, reported unit)
UNITS = {
    "energy": (1000.0, "meV/atom"),
    "forces": (1000.0, "meV/Å"),
    "stress": (1000.0, "meV/Å³"),
    "interaction": (1000.0, "meV"),
}


class ErrorAccumulator:
    """Sums of absolute and squared errors and counts (``sums`` is summed across processes)."""

    def __init__(self) -> None:
        self.sums = torch.zeros(len(UNITS), 3, dtype=torch.float64)  # rows: UNITS

    def update(self, pred: dict, batch) -> None:
        """Add one batch's errors (energy per atom, forces, known stress, E_int of groups)."""
        natoms = torch.bincount(batch.batch, minlength=batch.num_graphs)
        diffs = [
            ((pred["energy"] - batch.energy) / natoms).detach(),
            (pred["forces"] - batch.forces).detach(),
        ]
        if "stress" in pred:
            known = ~torch.isnan(batch.stress)
            diffs.append((pred["stress"] - batch.stress)[known].detach())
        else:
            diffs.append(pred["energy"].new_zeros(0))
        p, r = interaction_energies(pred["energy"].detach(), batch)
        diffs.append(p - r)
        for k, d in enumerate(diffs):
            d = d.double().cpu()
            self.sums[k] += torch.stack([d.abs().sum(), (d**2).sum(), torch.tensor(d.numel())])

    def result(self) -> dict[str, float]:
        """``{energy,forces,stress}_{mae,rmse}`` in meV units; NaN where nothing was seen."""
        out = {}
        for k, name in enumerate(UNITS):
            abs_sum, sq_sum, n = self.sums[k].tolist()
            factor = UNITS[name][0]
            out[f"{name}_mae"] = factor * abs_sum / n if n else math.nan
            out[f"{name}_rmse"] = factor * math.sqrt(sq_sum / n) if n else math.nan
        return out
