"""Training on several coarse partitions (``data.augment_hops``)."""

import torch
from ase.build import molecule
from torch_geometric.data import Batch

import muse_explore as mx
from muse_explore.reference import graphene_flake
from muse_explore.training.partitions import attach_partitions, draw_partitions


def _graphs(hops):
    """C54H18, benzene and coronene as a default two-level MuSE converts them, with the
    partitions of ``hops`` attached; the first two share group 0, coronene is group 1."""
    model = mx.build_model(backbone="painn", levels=2, hidden=8)
    conv = model.graph_converter(torch.float64)
    structures = [graphene_flake(2), molecule("C6H6"), graphene_flake(1)]
    graphs = []
    for k, (atoms, group) in enumerate(zip(structures, (0, 0, 1), strict=True)):
        g = conv(atoms, targets=False)
        g.idx, g.group = torch.tensor([k]), torch.tensor([group])
        graphs.append(g)
    attach_partitions(graphs, structures, hops, model.config.seeding)
    return graphs


def test_attach_keeps_the_own_seeds_first_and_adds_each_other_cut():
    graphs = _graphs([[2, 3], [3, 4]])
    flake = graphs[0]
    assert flake.seed_masks.shape == (72, 2, 3)
    assert torch.equal(flake.seed_masks[..., 0], flake.seed_mask)
    # circumcoronene: 12 level-1 nodes in every cut; 6 level-2 nodes with hops 4, 12 with 3
    assert flake.seed_masks.sum(dim=0).tolist() == [[12, 12, 12], [6, 12, 6]]


def test_draws_one_partition_per_group_reproducibly():
    graphs = _graphs([[2, 3], [3, 4]])
    batch = Batch.from_data_list(graphs)
    seen = set()
    for step in range(30):
        mask = draw_partitions(batch, seed=7, step=step)
        assert torch.equal(mask, draw_partitions(batch, seed=7, step=step))
        chosen = []
        for g in range(batch.num_graphs):
            nodes = batch.batch == g
            options = batch.seed_masks[nodes]
            ks = [k for k in range(3) if torch.equal(mask[nodes], options[..., k])]
            assert ks, "the drawn mask is none of the graph's partitions"
            chosen.append(set(ks))
        # the flake and benzene (one group) read one partition: some k fits both
        assert chosen[0] & chosen[1]
        seen |= chosen[0]
    assert seen == {0, 1, 2}  # every cut is drawn over the steps
    other = [draw_partitions(batch, seed=8, step=s) for s in range(30)]
    assert any(not torch.equal(a, draw_partitions(batch, seed=7, step=s))
               for s, a in enumerate(other))  # fmt: skip
