r"""The training loss: weighted Huber terms on energy per atom, forces and stress.

.. math::
    \mathcal{L} = w_E\,\overline{h_\delta\!\left(\frac{\hat E - E}{N}\right)}
    + w_F\,\overline{h_\delta(\hat F_{i\alpha} - F_{i\alpha})}
    + w_\sigma\,\overline{h_\delta(\hat\sigma_{\alpha\beta} - \sigma_{\alpha\beta})}

plus, with ``interaction_weight`` > 0, :math:`w_I\,\overline{h_\delta(\hat E_\mathrm{int} -
E_\mathrm{int})}` over the groups of the batch that hold a complex and its parts
(E_int = E(complex) − Σ E(parts), in eV), and with ``coarse_energy_weight`` > 0,
:math:`w_C\,\overline{h_\delta(\sum_{l\ge1} E_l / N)}`, the coarse levels' energy per atom
pulled toward zero, with :math:`h_\delta` the Huber function
(Huber, Ann. Math. Statist. 35, 1964) and the bars
means over structures, force components and stress components of structures with a stress.

The terms are returned as sums with their counts, so that data-parallel training divides by
the counts of the *global* batch and reproduces a single-process run exactly.
"""

from __future__ import annotations

import torch
from torch.nn.functional import huber_loss

from muse_explore.training.config import LossConfig


def interaction_energies(energy: torch.Tensor, batch) -> tuple[torch.Tensor, torch.Tensor]:
    """(predicted, reference) E_int of every complex whose group has parts in the batch, eV.

    Uses the graphs' ``group`` and ``part_sign`` (+1 complex, -1 part, 0 other): each complex
    gets E(complex) − Σ E(parts of its group), so a group may hold one complex (a triple) or
    many (a scan over one flake and one molecule).
    """
    if "part_sign" not in batch or batch.num_graphs == 0:
        empty = energy.new_zeros(0)
        return empty, empty
    sign = batch.part_sign
    _, gid = torch.unique(batch.group, return_inverse=True)
    n = int(gid.max()) + 1
    part = (sign < 0).to(energy.dtype)
    parts_pred = energy.new_zeros(n).index_add(0, gid, part * energy)
    parts_ref = energy.new_zeros(n).index_add(0, gid, part * batch.energy.to(energy.dtype))
    n_parts = energy.new_zeros(n).index_add(0, gid, part)
    keep = (sign > 0) & (n_parts[gid] > 0)
    pred = energy[keep] - parts_pred[gid[keep]]
    ref = batch.energy.to(energy.dtype)[keep] - parts_ref[gid[keep]]
    return pred, ref


def loss_terms(pred: dict, batch, cfg: LossConfig) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """(sum of Huber values, count) of each term, with ``cfg.huber_delta``.

    The terms are ``energy``, ``forces``, ``stress`` (structures with a stress target),
    ``interaction`` (only when ``cfg.interaction_weight`` > 0) and ``coarse`` (the coarse
    levels' energy per atom, from ``pred["output"].scale_energies``; only when
    ``cfg.coarse_energy_weight`` > 0).
    """
    delta = cfg.huber_delta
    natoms = torch.bincount(batch.batch, minlength=batch.num_graphs).to(pred["energy"].dtype)
    e = huber_loss(pred["energy"] / natoms, batch.energy / natoms, reduction="sum", delta=delta)
    terms = {"energy": (e, torch.tensor(float(batch.num_graphs)))}
    f = huber_loss(pred["forces"], batch.forces, reduction="sum", delta=delta)
    terms["forces"] = (f, torch.tensor(float(batch.forces.numel())))
    if "stress" in pred:
        known = ~torch.isnan(batch.stress)
        s = huber_loss(pred["stress"][known], batch.stress[known], reduction="sum", delta=delta)
        terms["stress"] = (s, known.sum().to(torch.float64))
    if cfg.interaction_weight > 0:
        p, r = interaction_energies(pred["energy"], batch)
        terms["interaction"] = (
            huber_loss(p, r, reduction="sum", delta=delta),
            torch.tensor(float(p.numel())),
        )
    if cfg.coarse_energy_weight > 0:
        c = pred["output"].scale_energies[:, 1:].sum(dim=1) / natoms
        terms["coarse"] = (
            huber_loss(c, torch.zeros_like(c), reduction="sum", delta=delta),
            torch.tensor(float(batch.num_graphs)),
        )
    return terms


def combine(terms: dict, counts: dict, cfg: LossConfig, *, allow_empty: bool = False):
    """Weighted sum of the terms, each divided by its (global) count.

    Raises:
        MuSEConfigError: when no weighted data term (all but ``coarse``, which fits no
            reference) has data in the batch (nothing to learn from), unless ``allow_empty``.
    """
    weights = {
        "energy": cfg.energy_weight,
        "forces": cfg.forces_weight,
        "stress": cfg.stress_weight,
        "interaction": cfg.interaction_weight,
        "coarse": cfg.coarse_energy_weight,
    }
    total, fitted = 0.0, False
    for name, (value, _) in terms.items():
        n = float(counts[name])
        if n > 0 and weights[name] > 0:
            total = total + weights[name] * value / n
            fitted = fitted or name != "coarse"
    if not fitted and not allow_empty:
        from muse_explore.errors import MuSEConfigError

        raise MuSEConfigError(
            "no weighted loss term has data in this batch (e.g. stress weights on molecules "
            "only, or an interaction weight without complexes and their parts)"
        )
    return total
