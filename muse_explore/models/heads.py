"""Per-element energy shifts added to the learned atomic energies."""

from __future__ import annotations

import torch
from torch import nn

from muse_explore.models.outputs import AtomLevel


class ElementShift(nn.Module):
    """E_i += e0[species_i]; e0 in eV, fitted outside the network (e.g. by least squares).

    Shapes:
        species (n,) -> (n,).
    """

    def __init__(self, shifts: list[float]) -> None:
        super().__init__()
        # Python floats, not a buffer: a float32 buffer would round -13.6 eV for good, and
        # large shifts must stay exact when the model is evaluated in float64.
        self.values = [float(v) for v in shifts]
        self._table: torch.Tensor | None = None

    def table(self, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """The shifts as a tensor of the given dtype/device (cached)."""
        t = self._table
        if t is None or t.dtype != dtype or t.device != device:
            t = self._table = torch.tensor(self.values, dtype=dtype, device=device)
        return t

    def set(self, shifts: list[float]) -> None:
        """Replace the shifts (eV, one per element of the model)."""
        self.values = [float(v) for v in shifts]
        self._table = None

    def forward(self, species: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return self.table(dtype, species.device)[species]

    def atom_energies(self, atoms: AtomLevel) -> torch.Tensor:
        """The output-module interface (:mod:`muse_explore.models.outputs`)."""
        return self(atoms.species, atoms.scalar.dtype)
