r"""The training loss: weighted Huber terms on energy per atom, forces and stress.

.. math::
    \mathcal{L} = w_E\,\overline{h_\delta\!\left(\frac{\hat E - E}{N}\right)}
    + w_F\,\overline{h_\delta(\hat F_{i\alpha} - F_{i\alpha})}
    + w_\sigma\,\overline{h_\delta(\hat\sigma_{\alpha\beta} - \sigma_{\alpha\beta})}

with :math:`h_\delta` the Huber function (Huber, Ann. Math. Statist. 35, 1964) and the bars
means over structures, force components and stress components of structures with a stress.

The terms are returned as sums with their counts, so that data-parallel training divides by
the counts of the *global* batch and reproduces a single-process run exactly.
"""

from __future__ import annotations

import torch
from torch.nn.functional import huber_loss

from muse_explore.training.config import LossConfig


def loss_terms(pred: dict, batch, delta: float) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """(sum of Huber values, count) for ``energy``, ``forces`` and ``stress``."""
    natoms = torch.bincount(batch.batch, minlength=batch.num_graphs).to(pred["energy"].dtype)
    e = huber_loss(pred["energy"] / natoms, batch.energy / natoms, reduction="sum", delta=delta)
    terms = {"energy": (e, torch.tensor(float(batch.num_graphs)))}
    f = huber_loss(pred["forces"], batch.forces, reduction="sum", delta=delta)
    terms["forces"] = (f, torch.tensor(float(batch.forces.numel())))
    if "stress" in pred:
        known = ~torch.isnan(batch.stress)
        s = huber_loss(pred["stress"][known], batch.stress[known], reduction="sum", delta=delta)
        terms["stress"] = (s, known.sum().to(torch.float64))
    return terms


def combine(terms: dict, counts: dict, cfg: LossConfig) -> torch.Tensor:
    """Weighted sum of the terms, each divided by its (global) count."""
    weights = {
        "energy": cfg.energy_weight,
        "forces": cfg.forces_weight,
        "stress": cfg.stress_weight,
    }
    total = 0.0
    for name, (value, _) in terms.items():
        n = float(counts[name])
        if n > 0 and weights[name] > 0:
            total = total + weights[name] * value / n
    return total
