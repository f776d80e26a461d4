"""Per-element energy shifts added to the learned atomic energies."""

from __future__ import annotations

import torch
from torch import nn


class ElementShift(nn.Module):
    """E_i += e0[species_i]; e0 in eV, fitted outside the network (e.g. by least squares).

    Shapes:
        species (n,) -> (n,).
    """

    def __init__(self, shifts: list[float]) -> None:
        super().__init__()
        self.register_buffer("shifts", torch.tensor(shifts, dtype=torch.get_default_dtype()))

    def forward(self, species: torch.Tensor) -> torch.Tensor:
        return self.shifts[species]
