"""Radial basis of the backbones (the smooth envelope lives in :mod:`muse_explore.envelope`)."""

from __future__ import annotations

import math

import torch
from torch import nn

from muse_explore.envelope import polynomial_envelope

__all__ = ["BesselBasis", "polynomial_envelope"]


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
