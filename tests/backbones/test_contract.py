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
