import torch

from muse_explore.backbones import build_backbone
from muse_explore.testing import random_rotation

from .graphs import complete_graph


def test_painn_vector_features_are_equivariant():
    torch.manual_seed(0)
    net = build_backbone("painn", [1, 6, 8], 5.0, hidden=8, num_interactions=2).double()
    pos = torch.randn(7, 3, dtype=torch.float64) * 1.5
    species = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    rot = torch.as_tensor(random_rotation(1))
    a = net.interact(net.embed_atoms(species), complete_graph(pos, 5.0))
    b = net.interact(net.embed_atoms(species), complete_graph(pos @ rot.T, 5.0))
    torch.testing.assert_close(a.scalar, b.scalar)
    torch.testing.assert_close(torch.einsum("ij,njf->nif", rot, a.equivariant), b.equivariant)
