import torch

from muse_explore.backbones import build_backbone
from muse_explore.backbones.contract import GeometricGraph
from muse_explore.testing import random_rotation


def _graph(pos, cutoff):
    n = pos.shape[0]
    i, j = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    mask = i != j
    ei = torch.stack([j[mask], i[mask]])
    vec = pos[ei[0]] - pos[ei[1]]
    d = vec.norm(dim=-1)
    keep = d < cutoff
    return GeometricGraph(
        pos, ei[:, keep], vec[keep], d[keep], torch.zeros(n, dtype=torch.long), 1, cutoff
    )


def test_painn_vector_features_are_equivariant():
    torch.manual_seed(0)
    net = build_backbone("painn", [1, 6, 8], 5.0, hidden=8, num_interactions=2).double()
    pos = torch.randn(7, 3, dtype=torch.float64) * 1.5
    species = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    rot = torch.as_tensor(random_rotation(1))
    a = net.interact(net.embed_atoms(species), _graph(pos, 5.0))
    b = net.interact(net.embed_atoms(species), _graph(pos @ rot.T, 5.0))
    torch.testing.assert_close(a.scalar, b.scalar)
    torch.testing.assert_close(torch.einsum("ij,njf->nif", rot, a.equivariant), b.equivariant)
