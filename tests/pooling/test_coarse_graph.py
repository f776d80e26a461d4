import numpy as np
import pytest
import torch

from muse_explore.errors import MuSENumericalError
from muse_explore.pooling.coarse_graph import radius_graph


def _two_structures(pos):
    batch = torch.tensor([0, 0, 1, 1])
    cell = torch.zeros(2, 3, 3, dtype=torch.float64)
    pbc = torch.zeros(2, 3, dtype=torch.bool)
    return radius_graph(pos, batch, cell, pbc, 5.0, 2)


def test_pairs_within_the_cutoff_and_vectors_from_the_positions():
    pos = torch.tensor(
        [[0.0, 0, 0], [3.0, 0, 0], [0.0, 0, 0], [6.0, 0, 0]], dtype=torch.float64
    ).requires_grad_(True)
    g = _two_structures(pos)
    assert sorted(map(tuple, g.edge_index.T.tolist())) == [(0, 1), (1, 0)]
    assert torch.allclose(g.lengths, torch.full((2,), 3.0, dtype=torch.float64))
    g.lengths.sum().backward()  # gradients reach the positions
    assert np.allclose(pos.grad[:2, 0].numpy(), [-2.0, 2.0])


def test_non_finite_coarse_positions_are_a_numerical_error():
    # atom positions are checked before the model: a NaN here comes from the features
    pos = torch.tensor([[0.0, 0, 0], [3.0, 0, 0], [0.0, 0, 0], [np.nan, 0, 0]])
    with pytest.raises(MuSENumericalError, match=r"1 coarse node position.*structure\(s\) \[1\]"):
        _two_structures(pos.double())
