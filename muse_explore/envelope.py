"""The smooth cutoff envelope shared by the backbones and the pooling."""

from __future__ import annotations

import torch


def polynomial_envelope(x: torch.Tensor, p: int = 6) -> torch.Tensor:
    r"""Smooth cutoff u(x) for x = r / r_c (Gasteiger et al., DimeNet, ICLR 2020).

    .. math::
        u(x) = 1 - \frac{(p+1)(p+2)}{2} x^p + p(p+2) x^{p+1} - \frac{p(p+1)}{2} x^{p+2}

    for x < 1 and 0 beyond. Value and first two derivatives vanish at x = 1, so energies,
    forces and Hessians are continuous when a neighbour crosses the cutoff.

    It is evaluated in the factored form :math:`u(x) = (1-x)^3 \sum_{k<p} \binom{k+2}{2} x^k`
    (the same polynomial): the expanded one cancels to rounding noise near x = 1 and dips
    below zero there (to -4e-6 in float32), which gave soft-assignment weights of -1e-6.
    """
    q = torch.zeros_like(x)
    for k in range(p - 1, -1, -1):  # Horner: sum over k < p of C(k + 2, 2) x^k
        q = q * x + (k + 1) * (k + 2) // 2
    u = (1.0 - x).pow(3) * q
    return torch.where(x < 1.0, u, torch.zeros_like(u))
