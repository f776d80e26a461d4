"""The smooth cutoff envelope shared by the backbones and the pooling."""

from __future__ import annotations

import torch


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
