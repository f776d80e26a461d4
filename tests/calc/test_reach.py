"""What coarse nodes see within their cutoff, and the warning beyond the training data."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from ase.build import molecule

import muse_explore as mx
from muse_explore.calc.evaluate import evaluate_many
from muse_explore.calc.reach import MARGIN, beyond_training, most_seen
from muse_explore.errors import MuSEExtrapolationWarning
from muse_explore.explore.models import resolve_model
from muse_explore.pretrained import pretrained_path
from muse_explore.reference import benzene_on_graphene
from muse_explore.training.dataset import read_structures

from ..conftest import small_model

ROOT = Path(__file__).resolve().parents[2]


def water_box(length):
    atoms = molecule("H2O")
    atoms.cell = [length] * 3
    atoms.pbc = True
    atoms.center()
    return atoms


def _reach(model, atoms):
    calc = mx.MuSECalculator(model)
    batch = calc.batch(atoms)
    with torch.no_grad():
        return calc.model(batch).reach


def test_a_node_that_sees_the_whole_structure_counts_every_atom_and_node():
    # benzene 8 Å above C54H18: level 2 (20 Å) reaches across the whole complex, level 1
    # (10 Å) does not
    model = small_model()
    reach = _reach(model, benzene_on_graphene(8.0))
    level2 = reach[1].numpy()
    assert level2.shape == (12, 2) and np.allclose(level2, [84.0, 12.0], rtol=1e-6)
    assert reach[0][:, 1].min() < reach[0].shape[0] and reach[0][:, 0].min() < 84
    # with the atoms' shares: every level-1 node sees its own atoms at least
    assert (reach[0][:, 0] >= 1).all() and (reach[0][:, 1] >= 1).all()


def test_a_periodic_box_counts_each_image_within_the_cutoff():
    # one water molecule per 10 Å box: one node per level; the images within 20 Å (not at
    # 20 Å exactly) are the 3 x 3 x 3 block around it, 27 nodes of 3 atoms each
    reach = _reach(small_model(), water_box(10.0))
    assert reach[1].tolist() == [[81.0, 27.0]]
    # at 10 Å (level 1) only the node itself: its images sit exactly at the cutoff
    assert reach[0].tolist() == [[3.0, 1.0]]


def test_a_shipped_graphene_model_warns_in_a_small_box_and_not_on_its_benchmarks():
    calc = mx.load_pretrained("muse-painn-graphene")
    assert calc.model.trained_reach is not None  # from the registry: the file predates it
    # loaded by its path, the file beside its registry gets the same record
    by_path = mx.load_pretrained(pretrained_path("muse-painn-graphene")).model
    assert by_path.trained_reach == calc.model.trained_reach
    assert resolve_model(str(pretrained_path("muse-painn-graphene"))).trained_reach == (
        calc.model.trained_reach
    )
    transfer = read_structures([ROOT / "sample_data" / "data" / "graphene_transfer.extxyz.xz"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", MuSEExtrapolationWarning)
        calc.get_potential_energy(benzene_on_graphene(8.0))
        largest = max(transfer[::10], key=len)  # C96H24 with a molecule: 1.5 times the training
        calc.get_potential_energy(largest)
    box = water_box(3.0)
    with pytest.warns(MuSEExtrapolationWarning, match=r"H2O\).*level 2 \(20 Å\): 3711 atoms"):
        energy = calc.get_potential_energy(box)
    alone = mx.MuSECalculator(calc.model.backbone_only()).get_potential_energy(box)
    assert abs(energy - alone) > 100  # what the warning is about: the coarse levels' −941 eV
    # once per model and level: an MD run is not flooded
    with warnings.catch_warnings():
        warnings.simplefilter("error", MuSEExtrapolationWarning)
        box.positions[0] += 0.01
        calc.get_potential_energy(box)
    # every case stays listed
    batch = calc.batch(box)
    with torch.no_grad():
        out = calc.model(batch)
    cases = beyond_training(calc.model, out, 1)
    assert {(c[1], c[2]) for c in cases} >= {(2, "atoms"), (2, "nodes")}
    assert all(seen > MARGIN * trained for _, _, _, seen, trained in cases)


def test_no_record_no_check_and_most_seen_is_the_largest_over_structures():
    model = small_model()
    assert model.trained_reach is None
    with warnings.catch_warnings():
        warnings.simplefilter("error", MuSEExtrapolationWarning)
        mx.MuSECalculator(model).get_potential_energy(water_box(3.0))
    most = most_seen(model, [water_box(10.0), benzene_on_graphene(8.0)], dtype=torch.float64)
    assert np.allclose(most[1], [84.0, 27.0])  # atoms from the complex, nodes from the box
    # a record of the small structure makes the large one warn, through evaluate_many too;
    # measuring with most_seen neither warns nor uses up the warning
    model.trained_reach = most_seen(model, [water_box(10.0)], dtype=torch.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MuSEExtrapolationWarning)
        most_seen(model, [water_box(3.0)])
    with pytest.warns(MuSEExtrapolationWarning, match=r"structure 1 \(H2O\)"):
        evaluate_many(model, [water_box(10.0), water_box(3.0)])


def test_a_malformed_record_is_a_clear_file_error(tmp_path):
    path = tmp_path / "m.pt"
    model = small_model()
    model.trained_reach = [[84.0, 12.0]]  # one level short
    model.save(path)
    with pytest.raises(mx.MuSEFileError, match="trained_reach is malformed"):
        mx.load_model(path)
    model.trained_reach = [[84.0, 12.0], [90.0, 18.0]]
    model.save(path)
    assert mx.load_model(path).trained_reach == model.trained_reach
