import torch

from muse_explore.backbones import build_backbone
from muse_explore.backbones.e3nn_compat import import_o3
from muse_explore.testing import random_rotation

from .graphs import complete_graph


def test_so3krates_euclidean_variables_are_equivariant():
    o3 = import_o3()
    torch.manual_seed(0)
    net = build_backbone("so3krates", [1, 6, 8], 5.0, hidden=8, num_interactions=2, lmax=2, heads=2)
    net = net.double()
    pos = torch.randn(7, 3, dtype=torch.float64) * 1.5
    species = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    rot = torch.as_tensor(random_rotation(1))
    a = net.interact(net.embed_atoms(species), complete_graph(pos, 5.0))
    b = net.interact(net.embed_atoms(species), complete_graph(pos @ rot.T, 5.0))
    torch.testing.assert_close(a.scalar, b.scalar)
    d = o3.Irreps("1x1o+1x2e").D_from_matrix(rot)
    torch.testing.assert_close(a.equivariant[..., 0] @ d.T, b.equivariant[..., 0])
