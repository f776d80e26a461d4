import numpy as np
import torch
from ase import Atoms

from muse_explore.backbones.contract import NodeState
from muse_explore.calc.derivatives import compute_properties
from muse_explore.pooling.assignment import Assignment
from muse_explore.pooling.reduce import coarse_positions, distribute, pool, unpool
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
