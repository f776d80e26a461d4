import pytest
import torch

from muse_explore.backbones import BACKBONES, build_backbone
from muse_explore.backbones.contract import Backbone, NodeState
from muse_explore.errors import MuSEConfigError

from .graphs import complete_graph


def test_all_backbones_honour_the_contract():
    for name, cls in BACKBONES.items():
        assert issubclass(cls, Backbone), name
        atom = build_backbone(name, [1, 6, 7, 8], 5.0, hidden=8, num_interactions=2)
        coarse = build_backbone(name, None, 10.0, hidden=8, num_interactions=1)
        assert atom.scalar_dim == coarse.scalar_dim == 8
        pos = (
            torch.randn(6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 1.5
        )
        atom, coarse = atom.double(), coarse.double()
        state = atom.interact(
            atom.embed_atoms(torch.tensor([0, 1, 2, 3, 1, 0])), complete_graph(pos, 5.0)
        )
        assert state.scalar.shape == (6, 8)
        assert atom.readout(state).shape == (6,)
        pooled = NodeState(
            state.scalar[:2], None if state.equivariant is None else state.equivariant[:2]
        )
        cs = coarse.interact(
            coarse.embed_coarse(pooled, torch.ones(2, dtype=torch.float64)),
            complete_graph(pos[:2], 10.0),
        )
        assert coarse.readout(cs).shape == (2,)


def test_a_backbone_without_the_contract_hyperparameters_is_refused(monkeypatch):
    class Narrow(BACKBONES["painn"]):
        def __init__(self, atomic_numbers, cutoff, *, width=8):
            super().__init__(atomic_numbers, cutoff, hidden=width, num_interactions=1)

    monkeypatch.setitem(BACKBONES, "narrow", Narrow)
    with pytest.raises(MuSEConfigError, match="'narrow' breaks the contract.*hidden, num_inter"):
        build_backbone("narrow", [1, 6], 5.0, hidden=8, num_interactions=1)


def _with_edge_weight(graph, weight):
    from dataclasses import replace

    return replace(graph, edge_weight=weight)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_a_node_of_weight_two_sends_what_two_nodes_of_weight_one_send(name):
    """``GeometricGraph.edge_weight``: messages are linear in it, for every backbone.

    Nodes A, B and C (weight 2) against A, B, C1 and C2 (weight 1 each, at C's place, with
    C's features, no edge between them): A and B end with the same features, C1 and C2 with
    C's, and two blocks deep, so the weight acts on every block's messages.
    """
    torch.manual_seed(0)
    coarse = build_backbone(name, None, 10.0, hidden=8, num_interactions=2).double()
    g = torch.Generator().manual_seed(1)
    pos = torch.randn(3, 3, dtype=torch.float64, generator=g) * 2.0
    pooled = torch.randn(3, 8, dtype=torch.float64, generator=g)
    eq = None
    if coarse.equivariant_shape is not None:
        eq = torch.randn(3, *coarse.equivariant_shape, dtype=torch.float64, generator=g)
    state = coarse.embed_coarse(NodeState(pooled, eq), torch.ones(3, dtype=torch.float64))

    three = complete_graph(pos, 10.0)
    weighted = coarse.interact(
        state, _with_edge_weight(three, torch.tensor([1.0, 1.0, 2.0]).double()[three.edge_index[0]])
    )

    split = [0, 1, 2, 2]  # C1 and C2 are copies of C
    four = complete_graph(pos[split], 10.0)
    keep = ~((four.edge_index[0] >= 2) & (four.edge_index[1] >= 2))
    four = type(four)(
        four.pos, four.edge_index[:, keep], four.vectors[keep], four.lengths[keep],
        four.batch, 1, 10.0,
    )  # fmt: skip
    copies = NodeState(
        state.scalar[split],
        None if state.equivariant is None else state.equivariant[split],
        {k: v[split] for k, v in state.extra.items()},
    )
    plain = coarse.interact(copies, four)

    assert torch.allclose(plain.scalar[split], weighted.scalar[[0, 1, 2, 2]], atol=1e-10)
    assert torch.allclose(plain.scalar[:2], weighted.scalar[:2], atol=1e-10)
    e_weighted = coarse.readout(weighted)
    e_plain = coarse.readout(plain)
    assert torch.allclose(e_plain[2] + e_plain[3], 2 * e_weighted[2], atol=1e-10)
    # and the weight matters: unweighted, C counts once
    once = coarse.interact(state, three)
    assert not torch.allclose(once.scalar[:2], weighted.scalar[:2], atol=1e-6)


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_unit_edge_weights_change_nothing(name):
    torch.manual_seed(0)
    atom = build_backbone(name, [1, 6], 5.0, hidden=8, num_interactions=2).double()
    pos = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    graph = complete_graph(pos * 1.2, 5.0)
    state = atom.embed_atoms(torch.tensor([0, 1, 1, 0, 1]))
    a = atom.interact(state, graph)
    b = atom.interact(state, _with_edge_weight(graph, torch.ones_like(graph.lengths)))
    assert torch.equal(a.scalar, b.scalar)
