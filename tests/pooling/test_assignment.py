import numpy as np
import pytest
import torch

from muse_explore.calc.derivatives import compute_properties
from muse_explore.errors import MuSEInputError
from muse_explore.pooling.assignment import SoftAssignment
from muse_explore.reference import graphene_flake, place_molecule
from muse_explore.testing import rattle

from ..conftest import small_model


def _output(model, atoms):
    conv = model.graph_converter(dtype=torch.float64)
    return compute_properties(model.double(), conv.batch(atoms), forces=False)["output"]


def test_rows_sum_to_one_and_entries_in_unit_interval(water_on_coronene):
    out = _output(small_model(), water_on_coronene)
    for s in out.assignments:
        dense = s.dense().detach()
        torch.testing.assert_close(dense.sum(1), torch.ones(s.num_fine, dtype=torch.float64))
        assert dense.min() >= 0 and dense.max() <= 1


def test_local_and_within_fragment(water_on_coronene):
    model = small_model()
    out = _output(model, water_on_coronene)
    s = out.assignments[0]
    assert s.vectors.norm(dim=-1).max() < model.config.levels[1].assign_radius
    frag = model.graph_converter().topology(water_on_coronene).fragment
    anchors = out.anchors[1].numpy()
    np.testing.assert_array_equal(frag[s.fine.numpy()], frag[anchors[s.coarse.numpy()]])


def test_sparse_pairs_grow_linearly():
    model = small_model()
    pairs = []
    for rings in (3, 6, 9):
        flake = rattle(graphene_flake(rings), 0.02)
        out = _output(model, flake)
        pairs.append([s.fine.numel() / s.num_fine for s in out.assignments])
    # pairs per fine node stay bounded (no dense N x K matrix) as the flake grows 8-fold;
    # symmetric seeding packs whole orbits, so the count varies a little from size to size
    pairs = np.array(pairs)
    assert (pairs[2] <= 1.2 * pairs[:2].max(0)).all()
    assert pairs[1:].max() < 10  # (the smallest flake: every seed within reach of every node)


def test_sigma_temperature_and_hard_switch_change_assignments(water_on_coronene):
    model = small_model()
    soft = _output(model, water_on_coronene).assignments[0].dense().detach()
    model.set_pooling(sigma=0.5)
    sharp = _output(model, water_on_coronene).assignments[0].dense().detach()
    assert sharp.max(1).values.mean() > soft.max(1).values.mean()
    model.set_pooling(sigma=1.5, temperature=5.0)
    warm = _output(model, water_on_coronene).assignments[0].dense().detach()
    assert warm.max(1).values.mean() < soft.max(1).values.mean()
    model.set_pooling(temperature=1.0, hard=True)
    hard = _output(model, water_on_coronene).assignments[0].dense().detach()
    assert set(hard.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(hard.sum(1), torch.ones(len(hard), dtype=torch.float64))
    # the hard partition picks each row's most probable soft column
    assert (hard.argmax(1) == soft.argmax(1)).float().mean() > 0.95
    with pytest.raises(ValueError, match="sigma"):
        model.set_pooling(sigma=-1)


def test_uncovered_node_is_a_clear_error():
    a = SoftAssignment(4)
    scalar = torch.zeros(3, 4)
    fine = torch.tensor([0, 1])  # node 2 has no pair
    coarse = torch.tensor([0, 0])
    vectors = torch.tensor([[0.0, 0, 0], [0.5, 0, 0]])
    with pytest.raises(MuSEInputError, match="no coarse seed"):
        a(scalar, fine, coarse, vectors, torch.tensor([0]), radius=1.0, sigma=1.0)


def test_learned_term_starts_at_zero_and_moves_assignments():
    model = small_model()
    atoms = rattle(place_molecule("C6H6", graphene_flake(1), 3.0))
    before = _output(model, atoms).assignments[0].dense().detach()
    with torch.no_grad():
        model.assignments[0].key.weight.normal_(0, 3.0)
    after = _output(model, atoms).assignments[0].dense().detach()
    assert (before - after).abs().max() > 1e-3


def test_hard_assignments_leave_no_node_empty():
    """With strong learned terms an argmax can take a seed away from its own node; the hard
    ablation keeps every seed in its node, so every node has members and a centroid."""
    model = small_model()
    model.set_pooling(hard=True)
    with torch.no_grad():
        gen = torch.Generator().manual_seed(0)
        for a in model.assignments:
            a.key.weight.copy_(torch.randn(a.key.weight.shape, generator=gen) * 30.0)
            a.query.weight.copy_(torch.randn(a.query.weight.shape, generator=gen) * 30.0)
    atoms = rattle(place_molecule("C6H6", graphene_flake(1), 3.0), 0.05)
    out = _output(model, atoms)
    for s in out.assignments:
        assert (s.dense().sum(0) >= 1.0 - 1e-12).all()  # every node holds at least its seed
    assert all(torch.isfinite(p).all() for p in out.positions)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_saturated_logits_give_finite_weights_and_no_empty_node(dtype):
    # Seen in training (float32): level-1 features of 1e4 made the learned logits span 1e8,
    # the largest one on a pair at the edge of the radius (envelope 0). A shift by the logits
    # alone then underflows every other weight of the row to 0 (0/0); and a node whose
    # members all go elsewhere has mass 0.
    # (without the feature normalisation, as in files before model format 4: with it, learned
    # logits this large need weights of 1e4, but the rows must stay finite all the same)
    a = SoftAssignment(1, key_dim=1, normalize=False).to(dtype)
    with torch.no_grad():
        a.query.weight.fill_(1.0)
        a.key.weight.fill_(1.0)
    # learned logit of a pair = s_fine * s_seed; coarse nodes A, B, C seeded at nodes 1, 2, 3
    scalar = torch.tensor([[1e4], [-1e4], [1e4], [2e4]], dtype=dtype, requires_grad=True)
    fine = torch.tensor([0, 0, 1, 2, 2, 3])
    coarse = torch.tensor([0, 1, 0, 1, 2, 2])
    d = [0.5, 1.0, 0.0, 0.0, 0.5, 0.0]  # node 0 meets B exactly at the radius (envelope 0)
    vectors = torch.tensor([[x, 0.0, 0.0] for x in d], dtype=dtype, requires_grad=True)
    s = a(scalar, fine, coarse, vectors, torch.tensor([1, 2, 3]), radius=1.0, sigma=1.0)
    assert torch.isfinite(s.weight).all()
    rows = torch.zeros(4, dtype=dtype).index_add(0, fine, s.weight)
    assert torch.allclose(rows, torch.ones(4, dtype=dtype))
    assert s.weight[1] == 0  # at the radius: no share, however large its logit
    assert s.weight[0] == 1 and s.weight[4] == 1  # node 0 to A; B's own seed goes to C
    mass = s.mass
    assert torch.isfinite(mass).all() and (mass > 0).all()  # B is empty: floored, not 0
    grads = torch.autograd.grad(s.weight.sum() + mass.sum(), [scalar, vectors])
    assert all(torch.isfinite(g).all() for g in grads)


def test_normalised_features_make_the_learned_term_scale_free():
    # A node's features grew to 1e4 on one unusual structure in training and its logits to
    # 1e8. Normalised features give the same weights for any scale (and offset) of the
    # features, so the learned term stays bounded by the weights alone.
    gen = torch.Generator().manual_seed(0)
    scalar = torch.randn(6, 8, generator=gen, dtype=torch.float64)
    fine = torch.tensor([0, 0, 1, 2, 2, 3, 4, 5, 5])
    coarse = torch.tensor([0, 1, 0, 1, 2, 2, 1, 2, 0])
    vectors = torch.randn(9, 3, generator=gen, dtype=torch.float64)
    seeds = torch.tensor([1, 2, 3])
    weights = {}
    for normalize in (True, False):
        a = SoftAssignment(8, normalize=normalize).double()
        with torch.no_grad():
            a.query.weight.copy_(torch.randn(a.query.weight.shape, generator=gen))
            a.key.weight.copy_(torch.randn(a.key.weight.shape, generator=gen))
        weights[normalize] = [
            a(h, fine, coarse, vectors, seeds, radius=4.0, sigma=1.5).weight
            for h in (scalar, 1e4 * scalar + 3.0)
        ]
    # the same up to the LayerNorm epsilon (1e-5 of the variance)
    torch.testing.assert_close(weights[True][0], weights[True][1], atol=1e-4, rtol=1e-4)
    assert (weights[False][0] - weights[False][1]).abs().max() > 0.1
    assert (weights[True][0] - weights[False][0]).abs().max() > 1e-3  # it is a real change
