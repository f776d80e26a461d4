import numpy as np
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
    t = loss_terms(pred, b, LossConfig(huber_delta=0.01))
    assert set(t) == {"energy", "forces", "stress"}  # no interaction or coarse weight
    # energy error 0.2 eV over 2 atoms = 0.1 eV/atom: linear branch 0.01 * (0.1 - 0.005)
    assert float(t["energy"][0]) == pytest.approx(0.01 * 0.095)
    assert float(t["energy"][1]) == 2
    assert float(t["forces"][0]) == pytest.approx(9 * 0.01 * 0.995)
    assert float(t["stress"][1]) == 9  # only the periodic structure's stress counts
    cfg = LossConfig(energy_weight=2.0, forces_weight=3.0, stress_weight=0.0)
    counts = {k: float(v[1]) for k, v in t.items()}
    total = combine(t, counts, cfg)
    assert float(total) == pytest.approx(2 * 0.01 * 0.095 / 2 + 3 * 9 * 0.01 * 0.995 / 15)


def test_interaction_energy_per_complex_of_a_group():
    from muse_explore.training.loss import interaction_energies

    parts = [
        ("complex", 0, 10.0),
        ("flake", 0, 6.0),
        ("molecule", 0, 3.0),  # E_int 1
        ("complex", 1, 5.0),
        ("complex", 1, 4.5),
        ("flake", 1, 2.0),
        ("molecule", 1, 2.0),
        ("complex", 2, 7.0),
    ]  # no parts in the batch: not counted
    sign = {"complex": 1, "flake": -1, "molecule": -1}
    graphs = [
        Data(
            energy=torch.tensor([e]),
            group=torch.tensor([g]),
            part_sign=torch.tensor([sign[p]]),
            pos=torch.zeros(1, 3),
        )
        for p, g, e in parts
    ]
    b = Batch.from_data_list(graphs)
    pred_e = b.energy + torch.tensor([0.1, 0, 0, 0, 0, 0.2, 0, 0])
    pred, ref = interaction_energies(pred_e, b)
    torch.testing.assert_close(ref, torch.tensor([1.0, 1.0, 0.5]))
    torch.testing.assert_close(pred, torch.tensor([1.1, 0.8, 0.3]))
    t = loss_terms(
        {"energy": pred_e, "forces": torch.zeros(8, 3)},
        Batch.from_data_list(
            [
                Data(
                    **g.to_dict(),
                    forces=torch.zeros(1, 3),
                    stress=torch.full((1, 3, 3), float("nan")),
                )
                for g in graphs
            ]
        ),
        LossConfig(huber_delta=1.0, interaction_weight=1.0),
    )
    assert float(t["interaction"][1]) == 3
    assert float(t["interaction"][0]) == pytest.approx(0.5 * (0.01 + 0.04 + 0.04))


@pytest.mark.parametrize("levels", [0, 2])
def test_coarse_term_is_the_coarse_energy_per_atom(levels):
    """The ``coarse`` term is h_δ(Σ_{l≥1} E_l / N) per structure: zero for a backbone alone."""
    from ase.build import molecule

    import muse_explore as mx
    from muse_explore.calc.derivatives import compute_properties

    torch.manual_seed(0)
    model = mx.build_model(backbone="painn", levels=levels, hidden=8).double()
    conv = model.graph_converter(torch.float64)
    atoms = [molecule("C6H6"), molecule("CH3CH2OH")]
    for a in atoms:
        a.info["energy"] = 0.0
        a.arrays["forces"] = np.zeros((len(a), 3))
    batch = Batch.from_data_list([conv(a, targets=False) for a in atoms])
    batch.energy = torch.zeros(2, dtype=torch.float64)
    batch.forces = torch.zeros(batch.pos.shape, dtype=torch.float64)
    pred = compute_properties(model, batch, forces=True)
    cfg = LossConfig(huber_delta=0.01, coarse_energy_weight=1.0)
    value, count = loss_terms(pred, batch, cfg)["coarse"]
    per_atom = pred["output"].scale_energies[:, 1:].sum(dim=1) / torch.tensor([12.0, 9.0])
    expected = torch.nn.functional.huber_loss(
        per_atom, torch.zeros(2, dtype=torch.float64), reduction="sum", delta=0.01
    )
    assert float(count) == 2
    torch.testing.assert_close(value, expected)
    assert (float(value.detach()) == 0.0) == (levels == 0)


def test_the_coarse_term_alone_is_no_data_to_learn_from():
    """A batch whose only weighted term is the coarse one is refused (it fits no reference),
    and a config whose only weight is the coarse one says why."""
    from muse_explore.errors import MuSEConfigError

    cfg = LossConfig(energy_weight=0.0, forces_weight=0.0, stress_weight=1.0,
                     coarse_energy_weight=1.0)  # fmt: skip
    terms = {"stress": (torch.tensor(0.0), 0.0), "coarse": (torch.tensor(0.5), 2.0)}
    with pytest.raises(MuSEConfigError, match="no weighted loss term has data"):
        combine(terms, {k: v[1] for k, v in terms.items()}, cfg)
    total = combine(terms, {k: v[1] for k, v in terms.items()}, cfg, allow_empty=True)
    assert float(total) == pytest.approx(0.25)
    only = LossConfig(energy_weight=0.0, forces_weight=0.0, stress_weight=0.0,
                      coarse_energy_weight=1.0)  # fmt: skip
    with pytest.raises(MuSEConfigError, match="coarse_energy_weight alone fits nothing"):
        only.check()
