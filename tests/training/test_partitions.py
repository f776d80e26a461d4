"""Training on several coarse partitions (``data.augment_hops``)."""

import torch
from torch_geometric.data import Batch

import muse_explore as mx
from muse_explore.reference import graphene_flake
from muse_explore.training.partitions import attach_partitions, draw_partitions

HOPS = [[2, 3], [1, 4]]  # with the model's own (2, 4): three cuts of C54H18 and C96H24


def _graphs(groups):
    """C54H18 and C96H24 pairs as a default two-level MuSE converts them, in ``groups``,
    with the partitions of HOPS attached."""
    model = mx.build_model(backbone="painn", levels=2, hidden=8)
    conv = model.graph_converter(torch.float64)
    structures = [graphene_flake(2 + k % 2) for k in range(len(groups))]
    graphs = []
    for k, group in enumerate(groups):
        g = conv(structures[k], targets=False)
        g.idx, g.group = torch.tensor([k]), torch.tensor([group])
        graphs.append(g)
    attach_partitions(graphs, structures, HOPS, model.config.seeding)
    return graphs


def _chosen(batch, mask) -> list[int]:
    """Which partition each graph of ``batch`` reads in ``mask`` (each is told apart)."""
    out = []
    for g in range(batch.num_graphs):
        nodes = batch.batch == g
        ks = [k for k in range(3) if torch.equal(mask[nodes], batch.seed_masks[nodes][..., k])]
        assert len(ks) == 1, ks
        out.append(ks[0])
    return out


def test_attach_keeps_the_own_seeds_first_and_adds_each_other_cut():
    flake = _graphs([0])[0]
    assert flake.seed_masks.shape == (72, 2, 3)
    assert torch.equal(flake.seed_masks[..., 0], flake.seed_mask)
    # circumcoronene: hops 2, 3 cut level 2 into 12 nodes instead of 6; hops 1, 4 level 1
    # into 36 instead of 12
    assert flake.seed_masks.sum(dim=0).tolist() == [[12, 12, 36], [6, 12, 6]]


def test_draws_one_partition_per_group_per_step_and_repeat_them():
    batch = Batch.from_data_list(_graphs([0, 0, 5, 5]))
    chosen = [_chosen(batch, draw_partitions(batch, seed=7, step=s)) for s in range(30)]
    assert all(c[0] == c[1] and c[2] == c[3] for c in chosen)  # one cut per group
    assert any(c[0] != c[2] for c in chosen)  # the groups draw apart
    assert {c[0] for c in chosen} == {0, 1, 2}  # every cut is drawn over the steps
    again = [_chosen(batch, draw_partitions(batch, seed=7, step=s)) for s in range(30)]
    assert again == chosen
    other = [_chosen(batch, draw_partitions(batch, seed=8, step=s)) for s in range(30)]
    assert other != chosen
    # a shard of the batch (one DDP process's part) draws as the whole batch did
    shard = Batch.from_data_list(_graphs([0, 0, 5, 5])[2:])
    assert [_chosen(shard, draw_partitions(shard, seed=7, step=s)) for s in range(30)] == [
        c[2:] for c in chosen
    ]
