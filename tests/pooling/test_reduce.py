import numpy as np
import torch
from ase import Atoms

from muse_explore.backbones.contract import NodeState
from muse_explore.calc.derivatives import compute_properties
from muse_explore.pooling.assignment import Assignment
from muse_explore.pooling.reduce import (
    coarse_positions,
    distribute,
    pool,
    soft_normalise,
    unpool,
)
from muse_explore.testing import random_rotation

from ..conftest import small_model


def _toy():
    # 3 fine nodes, 2 coarse nodes seeded at fine nodes 0 and 2
    fine = torch.tensor([0, 1, 1, 2])
    coarse = torch.tensor([0, 0, 1, 1])
    weight = torch.tensor([1.0, 0.25, 0.75, 1.0], dtype=torch.float64)
    pos = torch.tensor([[0.0, 0, 0], [1.0, 0, 0], [2.0, 0, 0]], dtype=torch.float64)
    seeds = torch.tensor([0, 2])
    vectors = pos[seeds][coarse] - pos[fine]
    return Assignment(fine, coarse, weight, vectors, 3, 2), pos, seeds


def test_centroid_pool_unpool_distribute():
    s, pos, seeds = _toy()
    c = coarse_positions(pos, seeds, s)
    torch.testing.assert_close(c[0], torch.tensor([0.2, 0, 0], dtype=torch.float64))
    torch.testing.assert_close(c[1], torch.tensor([2 - 0.75 / 1.75, 0, 0], dtype=torch.float64))
    x = torch.tensor([[1.0], [2.0], [4.0]], dtype=torch.float64)
    pooled = pool(NodeState(x, x.unsqueeze(1).repeat(1, 3, 1)), s)
    torch.testing.assert_close(
        pooled.scalar[:, 0], torch.tensor([1.2, (1.5 + 4) / 1.75], dtype=torch.float64)
    )
    back = unpool(NodeState(torch.zeros_like(x), None), pooled, s, lambda h: h)
    torch.testing.assert_close(
        back.scalar[1, 0], 0.25 * pooled.scalar[0, 0] + 0.75 * pooled.scalar[1, 0]
    )
    e = torch.tensor([3.0, 5.0], dtype=torch.float64)
    torch.testing.assert_close(distribute(e, s).sum(), e.sum())


def test_shared_unpool_adds_up_to_one_message_per_coarse_node():
    s, _, _ = _toy()
    message = torch.tensor([[1.0, -2.0], [3.0, 0.5]], dtype=torch.float64)
    vec = torch.randn(2, 3, 2, dtype=torch.float64)
    zero = NodeState(torch.zeros(3, 2, dtype=torch.float64), torch.zeros(3, 3, 2).double())
    copied = unpool(zero, NodeState(message, vec), s, lambda h: h)
    shared = unpool(zero, NodeState(message, vec), s, lambda h: h, share=True)
    # member: every member gets S_ik times the message, so the total grows with the mass M_k
    torch.testing.assert_close(copied.scalar.sum(0), (s.mass.unsqueeze(-1) * message).sum(0))
    # share: S_ik / M_k, so the members' increments add up to the message itself
    torch.testing.assert_close(shared.scalar.sum(0), message.sum(0))
    torch.testing.assert_close(shared.equivariant.sum(0), vec.sum(0))
    # fine node 1 sits in both coarse nodes, with 0.25 / 1.25 and 0.75 / 1.75 of each
    expected = 0.25 / s.mass[0] * message[0] + 0.75 / s.mass[1] * message[1]
    torch.testing.assert_close(shared.scalar[1], expected)


def test_coarse_positions_equivariant_and_minimum_image(periodic_sheet):
    model = small_model().double()
    conv = model.graph_converter(dtype=torch.float64)
    rot = random_rotation(2)
    a = compute_properties(model, conv.batch(periodic_sheet), forces=False)["output"]
    moved = periodic_sheet.copy()
    moved.positions = moved.positions @ rot.T + 1.0
    moved.cell = np.asarray(moved.cell) @ rot.T
    b = compute_properties(model, conv.batch(moved), forces=False)["output"]
    for pa, pb in zip(a.positions[1:], b.positions[1:], strict=False):
        torch.testing.assert_close(pa @ torch.as_tensor(rot).T + 1.0, pb)
    # every coarse node lies within the assignment radius of its seed atom, even across the cell
    anchor = periodic_sheet.positions[a.anchors[1].numpy()]
    assert np.linalg.norm(a.positions[1].detach().numpy() - anchor, axis=1).max() < 3.0


def test_centroid_across_periodic_boundary():
    """A node whose members straddle the cell boundary sits between them, not mid-cell."""
    cell = np.diag([10.0, 10.0, 10.0])
    atoms = Atoms(
        "CCCC", positions=[[9.3, 5, 5], [0.7, 5, 5], [2.1, 5, 5], [7.9, 5, 5]], cell=cell, pbc=True
    )
    model = small_model(levels=1, hops=(1,)).double()
    out = compute_properties(
        model, model.graph_converter(dtype=torch.float64).batch(atoms), forces=False
    )["output"]
    x = out.positions[1][:, 0].detach().numpy() % 10.0
    assert np.all((x > 6.5) | (x < 3.5)), x


def test_soft_normalise_bounds_features_smoothly_and_equivariantly():
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(5, 8, generator=gen, dtype=torch.float64)
    v = torch.randn(5, 3, 8, generator=gen, dtype=torch.float64)
    # tiny features pass almost unchanged; huge ones end with a root mean square just below 1
    small = soft_normalise(NodeState(1e-4 * s, 1e-4 * v))
    torch.testing.assert_close(small.scalar, 1e-4 * s, rtol=1e-7, atol=0)
    torch.testing.assert_close(small.equivariant, 1e-4 * v, rtol=1e-7, atol=0)
    for scale, strict in ((1e6, True), (1e150, False)):
        big = soft_normalise(NodeState(scale * s, scale * v))
        rms_s = big.scalar.square().mean(-1).sqrt()
        rms_v = big.equivariant.square().sum(1).mean(-1).sqrt()
        for rms in (rms_s, rms_v):
            below = rms < 1 if strict else rms <= 1  # 1 - 1e-300 rounds to 1
            assert bool((below & (rms > 1 - 1e-9)).all()), (scale, rms)
    # the factor is invariant: rotating the input rotates the output
    rot = torch.as_tensor(random_rotation(np.random.default_rng(3)), dtype=torch.float64)
    turned = soft_normalise(NodeState(s, torch.einsum("ij,njf->nif", rot, v)))
    plain = soft_normalise(NodeState(s, v))
    torch.testing.assert_close(turned.scalar, plain.scalar)
    torch.testing.assert_close(
        turned.equivariant, torch.einsum("ij,njf->nif", rot, plain.equivariant)
    )
    # smooth, also where the features vanish (the symmetric minima of the Hessian tests)
    for x in (v[:2].clone(), torch.zeros(2, 3, 4, dtype=torch.float64)):
        x.requires_grad_(True)
        f = lambda t: soft_normalise(NodeState(t.sum(1), t)).equivariant  # noqa: E731
        assert torch.autograd.gradcheck(f, (x,))
        assert torch.autograd.gradgradcheck(f, (x,))
    # SO3krates' shape: spherical-harmonic components of one channel
    chi = 1e6 * torch.randn(4, 8, 1, generator=gen, dtype=torch.float64)
    out = soft_normalise(NodeState(s[:4], chi)).equivariant
    assert bool((out.square().sum((1, 2)) < 1).all())
    # pool(normalise=True) pools the normalised features
    a, _, _ = _toy()
    x = 1e8 * torch.tensor([[1.0, -2.0], [2.0, 0.5], [4.0, 1.0]], dtype=torch.float64)
    state = NodeState(x, x.unsqueeze(1).repeat(1, 3, 1))
    direct = pool(soft_normalise(state), a)
    via = pool(state, a, normalise=True)
    torch.testing.assert_close(via.scalar, direct.scalar)
    torch.testing.assert_close(via.equivariant, direct.equivariant)
    assert float(via.scalar.abs().max()) < 2
