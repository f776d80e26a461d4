"""Radial basis and smooth cutoff envelope shared by backbones and pooling."""

from __future__ import annotations

import math

import torch
from torch import nn


def polynomial_envelope(x: torch.Tensor, p: int = 6) -> torch.Tensor:
    r"""Smooth cutoff u(x) for x = r / r_c (Gasteiger et al., DimeNet, ICLR 2020).

    .. math::
        u(x) = 1 - \frac{(p+1)(p+2)}{2} x^p + p(p+2) x^{p+1} - \frac{p(p+1)}{2} x^{p+2}

    for x < 1 and 0 beyond. Value and first two derivatives vanish at x = 1, so energies,
    forces and Hessians are continuous when a neighbour crosses the cutoff.
    """
    xp = x.pow(p)
    u = 1.0 - 0.5 * (p + 1) * (p + 2) * xp + p * (p + 2) * xp * x - 0.5 * p * (p + 1) * xp * x * x
    return torch.where(x < 1.0, u, torch.zeros_like(u))


class BesselBasis(nn.Module):
    """Radial basis sin(n π r / r_c) / r, n = 1..K (Klicpera et al., DimeNet; PaiNN).

    Shapes:
        r (E,) -> (E, K).
    """

    def __init__(self, cutoff: float, num_basis: int = 20) -> None:
        super().__init__()
        self.cutoff = float(cutoff)
        # integers as the buffer, so that the frequencies are exact in float64 after .double()
        self.register_buffer("n", torch.arange(1, num_basis + 1, dtype=torch.get_default_dtype()))

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        r = r.unsqueeze(-1)
        # sin(k r)/r is smooth at r -> 0 (limit k); clamp keeps autograd finite there.
        safe = r.clamp_min(1e-9)
        return torch.sin(self.n.to(safe.dtype) * (math.pi / self.cutoff) * safe) / safe
