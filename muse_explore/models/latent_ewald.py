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

Periodic cells (periodic in all three directions) use the same smeared interaction summed
over all periodic images, which is LES's own form: the reciprocal-space Ewald sum

.. math::
    E_{\mathrm{lr}} = \frac{k_e}{2V} \sum_{\mathbf k \ne 0} \frac{4\pi}{k^2}
        e^{-\sigma^2 k^2 / 2} \Big|\sum_i q_i e^{i \mathbf k \cdot \mathbf r_i}\Big|^2
        - \text{self energy},

computed by torch-pme's ``EwaldCalculator`` with a Coulomb potential of smearing σ and no
real-space part (there is no point-charge remainder to sum: the clouds are the physics). The
k = 0 term is dropped (a net charge sees a neutralising background, torch-pme's
correction), and wave vectors with :math:`e^{-\sigma^2 k^2/2} < 10^{-8}` are left out. A
neutral molecule in a cubic vacuum box of side L gives the finite sum above less the
tin-foil dipole term :math:`2\pi k_e |\mathbf M|^2 / 3L^3` (tested). Stress comes from
autograd through the cell, like everything else.

Neutrality. LES as published leaves the latent charges free (Cheng 2025; the reference
implementation, github.com/ChengUCB/les, has a charge-neutrality penalty only as commented-out
code). Then a neutral molecule and a neutral flake can carry net latent charges and couple as
1/r at any distance, which is spurious. ``neutral="structure"`` removes the mean charge of
each structure, ``neutral="fragment"`` that of each covalent fragment
(:math:`q_i \leftarrow q_i - \langle q \rangle_{F(i)}`), so neutral fragments interact
through dipoles and higher multipoles only. The fragments come from the covalent bond graph
(:mod:`muse_explore.pooling.seeding`), like MuSE's seeds.

Cost: the direct sum is O(N²) per structure, fine for the molecule–flake complexes here
(≈ 100 atoms); the Ewald sum is O(N · number of k-vectors), which grows with the cell volume.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch_geometric.utils import scatter, to_dense_batch

from muse_explore.errors import MuSEInputError
from muse_explore.models.outputs import AtomLevel
from muse_explore.models.zbl import COULOMB

#: Wave vectors whose Gaussian factor exp(-σ² k² / 2) falls below this are left out.
EWALD_TOLERANCE = 1e-8


class LatentEwald(nn.Module):
    """Latent charges from atom features and their smeared Coulomb energy per atom.

    Args:
        hidden: size of the atom-level scalar features.
        sigma: Gaussian smearing width in Å (LES uses 1 Å).

    Args:
        hidden: size of the atom-level scalar features.
        sigma: Gaussian smearing width in Å (LES uses 1 Å).
        neutral: ``"none"``, ``"structure"`` or ``"fragment"``: whose mean charge is removed.

    Shapes: ``scalar`` (n, hidden), ``pos`` (n, 3), ``batch`` (n,), ``pbc`` (B, 3), ``cell``
    (B, 3, 3), ``fragment`` (n,) fragment label within each structure (``neutral="fragment"``
    only) ->
    per-atom energies (n,) in eV; :meth:`charges` gives q (n,) in units of e.
    """

    def __init__(self, hidden: int, sigma: float = 1.0, neutral: str = "none") -> None:
        super().__init__()
        if sigma <= 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        if neutral not in ("none", "structure", "fragment"):
            raise ValueError(f"neutral must be 'none', 'structure' or 'fragment', got {neutral!r}")
        self.sigma = float(sigma)
        self.neutral = neutral
        self.charge = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 1))
        # small charges at the start (the model starts close to its backbone); not zero: the
        # energy is quadratic in q, so q = 0 is a stationary point that training never leaves
        with torch.no_grad():
            self.charge[-1].weight.mul_(1e-3)
        nn.init.zeros_(self.charge[-1].bias)

    def atom_energies(self, atoms: AtomLevel) -> torch.Tensor:
        """The output-module interface (:mod:`muse_explore.models.outputs`)."""
        g = atoms.graph
        return self(atoms.scalar, g.pos, g.batch, atoms.pbc, atoms.cell, atoms.fragment)

    def charges(
        self,
        scalar: torch.Tensor,
        batch: torch.Tensor | None = None,
        fragment: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Latent charges q (n,), neutral per structure or fragment as configured."""
        q = self.charge(scalar).squeeze(-1)
        if self.neutral == "none":
            return q
        group = torch.zeros_like(q, dtype=torch.long) if batch is None else batch
        if self.neutral == "fragment":
            if fragment is None:
                raise ValueError(
                    "neutral='fragment' needs the fragment of every atom: build the batch "
                    "with model.graph_converter()"
                )
            pair = torch.stack([group, fragment], dim=-1)
            group = torch.unique(pair, dim=0, return_inverse=True)[1]
        size = int(group.max()) + 1 if group.numel() else 0
        mean = scatter(q, group, 0, dim_size=size, reduce="mean")
        return q - mean[group]

    def forward(
        self,
        scalar: torch.Tensor,
        pos: torch.Tensor,
        batch: torch.Tensor,
        pbc: torch.Tensor,
        cell: torch.Tensor | None = None,
        fragment: torch.Tensor | None = None,
    ) -> torch.Tensor:
        q = self.charges(scalar, batch, fragment)
        periodic = pbc.any(-1)  # (B,)
        if not bool(periodic.any()):
            return self._finite(q, pos, batch)
        if cell is None:
            raise ValueError("periodic structures need their cells")
        partial = periodic & ~pbc.all(-1)
        if bool(partial.any()):
            raise MuSEInputError(
                f"long_range='les' sums periodic images in all three directions or none; "
                f"structure {int(partial.nonzero()[0, 0])} is periodic along "
                f"{pbc[partial][0].tolist()} only (use a full 3-D cell with vacuum instead)"
            )
        energy = torch.zeros_like(q)
        atom_periodic = periodic[batch]
        if bool((~atom_periodic).any()):
            keep = ~atom_periodic
            energy = energy.index_put((keep,), self._finite(q[keep], pos[keep], batch[keep]))
        for g in periodic.nonzero()[:, 0].tolist():
            idx = (batch == g).nonzero()[:, 0]
            energy = energy.index_put((idx,), self._ewald(q[idx], pos[idx], cell[g]))
        return energy

    def _ewald(self, q: torch.Tensor, pos: torch.Tensor, cell: torch.Tensor) -> torch.Tensor:
        """Per-atom energies of one periodic structure: reciprocal-space Ewald of the clouds."""
        import torchpme

        volume = torch.linalg.det(cell).abs()
        if not bool(volume > 1e-6):
            raise MuSEInputError("long_range='les': a periodic cell has zero volume")
        if not hasattr(self, "_pme"):
            k_max = math.sqrt(2.0 * math.log(1.0 / EWALD_TOLERANCE)) / self.sigma
            potential = torchpme.CoulombPotential(smearing=self.sigma)
            # torch-pme keeps wave vectors up to pi / lr_wavelength along each reciprocal axis
            calc = torchpme.EwaldCalculator(potential, lr_wavelength=math.pi / k_max)
            object.__setattr__(self, "_pme", calc)  # a plain attribute: not in the state dict
        calc = self._pme.to(device=q.device, dtype=q.dtype)
        empty = torch.empty(0, 2, dtype=torch.long, device=q.device)
        phi = calc(
            charges=q.unsqueeze(-1), cell=cell, positions=pos, neighbor_indices=empty,
            neighbor_distances=torch.empty(0, dtype=q.dtype, device=q.device),
        )  # fmt: skip
        return COULOMB * q * phi.squeeze(-1)  # torch-pme's potential carries the 1/2

    def _finite(self, q: torch.Tensor, pos: torch.Tensor, batch: torch.Tensor) -> torch.Tensor:
        """Per-atom energies of finite structures: the direct smeared-Coulomb pair sum."""
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
