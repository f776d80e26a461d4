r"""Latent Ewald summation (LES), the long-range baseline (Cheng, npj Comput. Mater. 2025).

Every atom gets a *latent charge* :math:`q_i`, a learned function (a small MLP) of its
atom-level scalar features, with no reference charges to fit. The long-range energy is the
electrostatic energy of Gaussian charge clouds of width σ,

.. math::
    E_{\mathrm{lr}} = \frac{k_e}{2} \sum_{i \ne j} q_i q_j
        \frac{\operatorname{erf}\!\left(r_{ij} / (\sqrt{2}\,\sigma)\right)}{r_{ij}},

summed over all pairs of a structure, which is the Ewald sum of a finite system (LES's
real-space limit); the Gaussian smearing keeps it smooth at short range. It is added to the
atom level as a per-atom energy :math:`E_i = \tfrac{k_e}{2} q_i \sum_{j \ne i} q_j
\operatorname{erf}(\cdot)/r_{ij}`. The charges see only the local environment (the
backbone's receptive field), so the coupling between far fragments is Coulombic: it decays
as 1/r between charged fragments and faster between neutral ones, and it is not exactly zero
at any finite separation (unlike MuSE's, which ends at the last coarse cutoff).

Cost: the direct sum is O(N²) per structure, fine for the molecule–flake complexes here
(≈ 100 atoms). Periodic cells need the reciprocal-space part (an Ewald or PME sum, e.g.
torch-pme); they are refused with a clear error rather than summed wrongly.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch_geometric.utils import to_dense_batch

from muse_explore.errors import MuSEInputError
from muse_explore.models.zbl import COULOMB


class LatentEwald(nn.Module):
    """Latent charges from atom features and their smeared Coulomb energy per atom.

    Args:
        hidden: size of the atom-level scalar features.
        sigma: Gaussian smearing width in Å (LES uses 1 Å).

    Shapes: ``scalar`` (n, hidden), ``pos`` (n, 3), ``batch`` (n,), ``pbc`` (B, 3) ->
    per-atom energies (n,) in eV; :meth:`charges` gives q (n,) in units of e.
    """

    def __init__(self, hidden: int, sigma: float = 1.0) -> None:
        super().__init__()
        if sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        self.sigma = float(sigma)
        self.charge = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1))
        # small charges at the start (the model starts close to its backbone); not zero: the
        # energy is quadratic in q, so q = 0 is a stationary point that training never leaves
        with torch.no_grad():
            self.charge[-1].weight.mul_(1e-3)
        nn.init.zeros_(self.charge[-1].bias)

    def charges(self, scalar: torch.Tensor) -> torch.Tensor:
        """Latent charges q (n,)."""
        return self.charge(scalar).squeeze(-1)

    def forward(
        self, scalar: torch.Tensor, pos: torch.Tensor, batch: torch.Tensor, pbc: torch.Tensor
    ) -> torch.Tensor:
        if bool(pbc.any()):
            raise MuSEInputError(
                "long_range='les' sums the Coulomb energy of finite structures only; periodic "
                "cells need an Ewald or PME sum, which this model does not have"
            )
        q = self.charges(scalar)
        qd, mask = to_dense_batch(q, batch)  # (B, N)
        xd, _ = to_dense_batch(pos, batch)  # (B, N, 3)
        diff = xd.unsqueeze(2) - xd.unsqueeze(1)
        n = qd.shape[1]
        pair = mask.unsqueeze(2) & mask.unsqueeze(1)
        pair = pair & ~torch.eye(n, dtype=torch.bool, device=q.device)
        r2 = (diff * diff).sum(-1)
        r = torch.sqrt(torch.where(pair, r2, torch.ones_like(r2)))  # safe where masked
        kernel = torch.where(pair, torch.erf(r / (math.sqrt(2.0) * self.sigma)) / r, 0.0)
        per_atom = 0.5 * COULOMB * qd * (kernel * qd.unsqueeze(1)).sum(-1)
        return per_atom[mask]
