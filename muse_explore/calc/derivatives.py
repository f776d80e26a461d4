r"""Forces, stress and Hessians: the only place where derivatives of the energy are taken.

.. math::
    \mathbf{F}_i = -\frac{\partial E}{\partial \mathbf{r}_i},\qquad
    \sigma = \frac{1}{V}\frac{\partial E}{\partial \varepsilon}\Big|_{\varepsilon=0},\qquad
    H_{ab} = \frac{\partial^2 E}{\partial x_a \partial x_b}

The stress uses a symmetric strain ε applied to positions and cell, r -> r (1 + ε), and is
the derivative of the energy with respect to that strain divided by the volume, which is
ASE's convention (``atoms.get_stress()``, Voigt order xx, yy, zz, yz, xz, xy).
"""

from __future__ import annotations

import contextlib
import copy

import numpy as np
import torch
from torch_geometric.data import Batch

from muse_explore.calc.memory import check_memory


def compute_properties(
    model, batch: Batch, *, forces: bool = True, stress: bool = False, create_graph: bool = False
) -> dict[str, torch.Tensor]:
    """Run ``model`` on ``batch`` and differentiate its energy.

    Returns a dict with ``output`` (the model's output object), ``energy`` (B,), and
    ``forces`` (n, 3) eV/Å and ``stress`` (B, 3, 3) eV/Å³ when asked for (stress is NaN for
    structures without a periodic cell).
    """
    check_memory(model, batch, hessian=create_graph)
    b = copy.copy(batch)
    pos = batch.pos.detach().clone().requires_grad_(forces)
    inputs = [pos] if forces else []
    if stress:
        strain = torch.zeros_like(batch.cell).requires_grad_(True)
        sym = 0.5 * (strain + strain.transpose(1, 2))
        pos = pos + torch.einsum("ni,nij->nj", pos, sym[batch.batch])
        b.cell = batch.cell + torch.bmm(batch.cell, sym)
        inputs.append(strain)
    b.pos = pos
    # without derivatives the caller's grad mode decides (no graph under torch.no_grad())
    with torch.enable_grad() if inputs else contextlib.nullcontext():
        out = model(b)
        result = {"output": out, "energy": out.energy}
        if not inputs:
            return result
        grads = torch.autograd.grad(
            out.energy.sum(), inputs, create_graph=create_graph, allow_unused=True
        )
    if forces:
        g = grads[0] if grads[0] is not None else torch.zeros_like(pos)
        result["forces"] = -g
    if stress:
        g = grads[-1] if grads[-1] is not None else torch.zeros_like(batch.cell)
        volume = torch.linalg.det(batch.cell).abs()
        periodic = batch.pbc.any(dim=-1) & (volume > 0)
        vol = torch.where(periodic, volume, torch.ones_like(volume))
        s = g / vol[:, None, None]
        result["stress"] = torch.where(periodic[:, None, None], s, torch.full_like(s, float("nan")))
    return result


def hessian(
    model, batch: Batch, *, indices: torch.Tensor | None = None, chunk_size: int = 96
) -> torch.Tensor:
    """Hessian of the total energy of a one-structure ``batch``, in eV/Å².

    The forward pass runs once; rows are obtained ``chunk_size`` at a time by vectorised
    vector-Jacobian products (``torch.autograd.grad(..., is_grads_batched=True)``, which uses
    torch.func's vmap), so memory stays bounded by the chunk, not by 3N.

    Args:
        model: a MuSE model.
        batch: a batch holding one structure.
        indices: atoms whose coordinates form the (partial) Hessian, all atoms if ``None``;
            the other atoms stay fixed (as ASE's FixAtoms with Vibrations).
        chunk_size: Hessian rows per vectorised backward pass.

    Returns:
        (3m, 3m) tensor for m selected atoms, rows/columns ordered atom by atom (x, y, z).
    """
    n = int(batch.pos.shape[0])
    idx = torch.arange(n) if indices is None else _atom_indices(indices, n)
    dof = (idx.unsqueeze(-1) * 3 + torch.arange(3)).reshape(-1)
    return _hessian_rows(model, batch, dof, chunk_size)[:, dof.to(batch.pos.device)]


def _atom_indices(indices, n: int) -> torch.Tensor:
    """``indices`` as a 1-D int64 tensor of distinct atoms in 0..n-1, or a MuSEInputError."""
    from muse_explore.errors import MuSEInputError

    values = np.asarray(list(indices) if not np.isscalar(indices) else [indices])
    if values.size == 0:
        raise MuSEInputError("indices: no atoms chosen")
    if values.dtype.kind not in "iu" or values.ndim != 1:
        raise MuSEInputError(f"indices must be a list of atom numbers, got {indices!r}")
    bad = values[(values < 0) | (values >= n)]
    if bad.size:
        raise MuSEInputError(
            f"indices: atom {int(bad[0])} does not exist; the structure has {n} atoms (0..{n - 1})"
        )
    if len(np.unique(values)) != len(values):
        raise MuSEInputError("indices: an atom is listed more than once")
    return torch.as_tensor(values, dtype=torch.long)


def hessian_rows(model, batch: Batch, atoms, *, chunk_size: int = 96) -> torch.Tensor:
    """Rows of the full Hessian for the coordinates of ``atoms``: (3m, 3N) in eV/Å².

    Row ``3a + c`` holds ∂²E/∂r_{atoms[a], c} ∂r_j for every atom j: how each atom couples
    to the chosen ones (the influence map), at the cost of 3m backward passes, not 3N.
    """
    idx = _atom_indices(np.asarray(atoms).reshape(-1).tolist(), int(batch.pos.shape[0]))
    dof = (idx.unsqueeze(-1) * 3 + torch.arange(3)).reshape(-1)
    return _hessian_rows(model, batch, dof, chunk_size)


def atom_energy_gradient(model, batch: Batch, atom: int) -> torch.Tensor:
    """∂E_atom/∂r_j (N, 3) in eV/Å: how every atom moves one atom's energy."""
    if int(batch.num_graphs) != 1:
        raise ValueError("atom_energy_gradient() takes a batch with exactly one structure")
    b = copy.copy(batch)
    pos = batch.pos.detach().clone().requires_grad_(True)
    b.pos = pos
    with torch.enable_grad():
        (g,) = torch.autograd.grad(model(b).atom_energies[int(atom)], pos, allow_unused=True)
    return torch.zeros_like(pos) if g is None else g.detach()


def scale_forces(model, batch: Batch) -> torch.Tensor:
    """Each scale's share of the forces, (n, L+1, 3) in eV/Å: −∂E_l/∂r_i per level l, atoms first.

    The energy is the sum of the scale energies (``MuSEOutput.scale_energies``), so the
    shares sum over levels to the forces of :func:`compute_properties`. A share is what one
    scale's energy term pulls on each atom; with a shared down pass the atom scale's term
    already depends on the coarse levels, so a share is not "the forces the atoms alone
    would give".
    """
    b = copy.copy(batch)
    pos = batch.pos.detach().clone().requires_grad_(True)
    b.pos = pos
    with torch.enable_grad():
        scales = model(b).scale_energies
        shares = []
        for level in range(scales.shape[1]):
            (g,) = torch.autograd.grad(
                scales[:, level].sum(), pos, retain_graph=level + 1 < scales.shape[1],
                allow_unused=True,
            )  # fmt: skip
            shares.append(torch.zeros_like(pos) if g is None else -g.detach())
    return torch.stack(shares, dim=1)


def long_range_forces(model, batch: Batch) -> torch.Tensor:
    """The long-range term's share of the forces, (n, 3) in eV/Å: −∂E_LR/∂r_i.

    ``E_LR`` is the latent Ewald energy of a model with ``long_range="les"`` (docs/method.md,
    Section 9), which the model adds to its atom level. Its share is what that term pulls on
    each atom, through the pair geometry and through the latent charges, which the local
    features set; the forces less it are the rest of the model's (the local part's) share,
    as :func:`scale_forces` splits a MuSE model by level.
    """
    from muse_explore.errors import MuSEInputError

    module = getattr(model, "long_range", None)
    if module is None:
        raise MuSEInputError(
            "the model has no long-range term (long_range: les in its model section)"
        )
    b = copy.copy(batch)
    pos = batch.pos.detach().clone().requires_grad_(True)
    b.pos = pos
    terms = []
    handle = module.register_forward_hook(lambda _module, _args, out: terms.append(out))
    try:
        with torch.enable_grad():
            model(b)
            if len(terms) != 1:
                raise RuntimeError(
                    f"the long-range term ran {len(terms)} times in one forward pass; "
                    "long_range_forces needs it called exactly once, as a module"
                )
            (g,) = torch.autograd.grad(terms[0].sum(), pos, allow_unused=True)
    finally:
        handle.remove()
    return torch.zeros_like(pos) if g is None else -g.detach()


def _hessian_rows(model, batch: Batch, dof: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """Rows ``dof`` (flattened coordinates) of the Hessian, all 3N columns."""
    if int(batch.num_graphs) != 1:
        raise ValueError("hessian() takes a batch with exactly one structure")
    check_memory(model, batch, hessian=True)
    b = copy.copy(batch)
    pos = batch.pos.detach().clone().requires_grad_(True)
    b.pos = pos
    dof = dof.to(pos.device)
    with torch.enable_grad():
        energy = model(b).energy.sum()
        grad = torch.autograd.grad(energy, pos, create_graph=True)[0].reshape(-1)[dof]
        rows = []
        eye = torch.eye(dof.numel(), dtype=pos.dtype, device=pos.device)
        for start in range(0, dof.numel(), chunk_size):
            block = eye[start : start + chunk_size]
            try:
                (h,) = torch.autograd.grad(
                    grad, pos, grad_outputs=block, retain_graph=True, is_grads_batched=True
                )
            except RuntimeError:  # an op without a batching rule: fall back to a loop
                h = torch.stack(
                    [
                        torch.autograd.grad(grad, pos, grad_outputs=v, retain_graph=True)[0]
                        for v in block
                    ]
                )
            rows.append(h.reshape(block.shape[0], -1).detach())
    return torch.cat(rows)
