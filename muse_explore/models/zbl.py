r"""ZBL universal screened nuclear repulsion (Ziegler, Biersack, Littmark, 1985).

.. math::
    E = \frac{1}{2}\sum_{i \ne j} \frac{Z_i Z_j e^2}{4\pi\varepsilon_0 r_{ij}}
        \phi\!\left(\frac{r_{ij}}{a_{ij}}\right) u\!\left(\frac{r_{ij}}{r^{\mathrm{cov}}_i
        + r^{\mathrm{cov}}_j}\right),
    \qquad a_{ij} = \frac{0.46850\,\text{Å}}{Z_i^{0.23} + Z_j^{0.23}}

with the universal screening function φ and the polynomial envelope u switching the term off
at the sum of covalent radii (so it only acts when atoms are pushed together).
"""

from __future__ import annotations

import torch
from ase.data import covalent_radii
from torch import nn
from torch_geometric.utils import scatter

from muse_explore.envelope import polynomial_envelope
from muse_explore.models.outputs import AtomLevel

COULOMB = 14.399645  # e^2 / (4 pi eps0) in eV Å (also used by the LES head)
_PHI_C = (0.18175, 0.50986, 0.28022, 0.02817)
_PHI_D = (3.19980, 0.94229, 0.40290, 0.20162)


class ZBL(nn.Module):
    """Pairwise ZBL repulsion per atom.

    Shapes:
        z (n,), edge_index (2, E), lengths (E,) -> per-atom energies (n,) in eV.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("radii", torch.tensor(covalent_radii, dtype=torch.get_default_dtype()))

    def forward(
        self, z: torch.Tensor, edge_index: torch.Tensor, lengths: torch.Tensor
    ) -> torch.Tensor:
        j, i = edge_index
        zi, zj = z[i].to(lengths.dtype), z[j].to(lengths.dtype)
        a = 0.46850 / (zi.pow(0.23) + zj.pow(0.23))
        x = lengths / a
        phi = sum(c * torch.exp(-d * x) for c, d in zip(_PHI_C, _PHI_D, strict=True))
        rmax = self.radii.to(lengths.dtype)[z[i]] + self.radii.to(lengths.dtype)[z[j]]
        pair = 0.5 * COULOMB * zi * zj / lengths * phi * polynomial_envelope(lengths / rmax)
        return scatter(pair, i, 0, dim_size=z.shape[0])

    def atom_energies(self, atoms: AtomLevel) -> torch.Tensor:
        """The output-module interface (:mod:`muse_explore.models.outputs`)."""
        return self(atoms.z, atoms.graph.edge_index, atoms.graph.lengths)
