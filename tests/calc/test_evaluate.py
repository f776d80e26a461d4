import pytest
import torch

from muse_explore.calc.evaluate import evaluate_many, evaluation_model

from ..conftest import small_model


@pytest.mark.parametrize("mode", ["train", "eval", "mixed"])
def test_evaluation_model_runs_in_eval_mode_and_puts_the_mode_back(mode, benzene):
    model = small_model().double()
    model.train(mode == "train")
    if mode == "mixed":  # an eval model with one submodule left in training mode
        next(m for m in model.modules() if m is not model).train()
    before = [m.training for m in model.modules()]
    with evaluation_model(model) as run:
        assert run is model
        assert not any(m.training for m in run.modules())
    after = [m.training for m in model.modules()]
    assert after == (before if mode != "mixed" else [False] * len(before))
    # and the energy does not depend on the mode the model came in
    ref = evaluate_many(small_model().double().eval(), [benzene])[0].energy
    assert evaluate_many(model.train(mode == "train"), [benzene])[0].energy == pytest.approx(ref)


def test_evaluation_model_copies_to_another_precision():
    model = small_model().double()
    with evaluation_model(model, torch.float32) as run:
        assert run is not model and next(run.parameters()).dtype == torch.float32
    assert next(model.parameters()).dtype == torch.float64


@pytest.mark.parametrize("structure", ["water_on_coronene", "periodic_sheet", "exact"])
def test_float32_results_do_not_depend_on_where_the_structure_lies(structure, request):
    """A float32 model sees the same relative coordinates 10⁴ Å from the origin (and
    reports its coarse nodes where the structure is); rattled, periodic and exactly
    symmetric (benzene centred over circumcoronene) alike."""
    from muse_explore.reference import benzene_on_graphene

    if structure == "exact":
        atoms = benzene_on_graphene(3.4)
    else:
        atoms = request.getfixturevalue(structure)
    far = atoms.copy()
    far.positions += (1.0e4, -3.0e4, 2.5e4)
    model = small_model()
    near_rec, far_rec = evaluate_many(model, [atoms, far], dtype=torch.float32, forces=True)
    assert abs(far_rec.energy - near_rec.energy) < 1e-5
    assert abs(far_rec.forces - near_rec.forces).max() < 1e-5
    for near_p, far_p in zip(near_rec.positions, far_rec.positions, strict=True):
        assert abs(far_p - near_p - (1.0e4, -3.0e4, 2.5e4)).max() < 5e-3


def test_ready_graphs_with_and_without_an_origin_batch_together(water_on_coronene):
    """A graph built by hand has no origin; it batches with the converter's, either way round."""
    from muse_explore.calc.evaluate import evaluate_batches

    model = small_model()
    graph = model.graph_converter(dtype=torch.float64).batch(water_on_coronene, targets=False)
    with_origin = graph.get_example(0)
    bare = with_origin.clone()
    del bare.origin
    for items in ([with_origin, bare], [bare, with_origin]):
        ((_, batch, res),) = evaluate_batches(model, items)
        assert batch.origin.shape == (2, 3) and "origin" not in bare
        energy = res["output"].energy
        assert abs(float(energy[0] - energy[1])) < 1e-9
