import pytest
import torch
from torch_geometric.data import Batch, Data

from muse_explore.training.config import LossConfig
from muse_explore.training.loss import combine, loss_terms


def _batch():
    g1 = Data(
        energy=torch.tensor([1.0]),
        forces=torch.zeros(2, 3),
        stress=torch.full((1, 3, 3), float("nan")),
        pos=torch.zeros(2, 3),
    )
    g2 = Data(
        energy=torch.tensor([2.0]),
        forces=torch.ones(3, 3),
        stress=torch.zeros(1, 3, 3),
        pos=torch.zeros(3, 3),
    )
    return Batch.from_data_list([g1, g2])


def test_huber_terms_per_atom_and_masked_stress():
    b = _batch()
    pred = {
        "energy": torch.tensor([1.2, 2.0]),
        "forces": torch.zeros(5, 3),
        "stress": torch.full((2, 3, 3), 0.5),
    }
    t = loss_terms(pred, b, delta=0.01)
    # energy error 0.2 eV over 2 atoms = 0.1 eV/atom: linear branch 0.01 * (0.1 - 0.005)
    assert float(t["energy"][0]) == pytest.approx(0.01 * 0.095)
    assert float(t["energy"][1]) == 2
    assert float(t["forces"][0]) == pytest.approx(9 * 0.01 * 0.995)
    assert float(t["stress"][1]) == 9  # only the periodic structure's stress counts
    cfg = LossConfig(energy_weight=2.0, forces_weight=3.0, stress_weight=0.0)
    counts = {k: float(v[1]) for k, v in t.items()}
    total = combine(t, counts, cfg)
    assert float(total) == pytest.approx(2 * 0.01 * 0.095 / 2 + 3 * 9 * 0.01 * 0.995 / 15)
