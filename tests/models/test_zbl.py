import torch

from muse_explore.models.zbl import ZBL


def test_zbl_repulsive_and_switched_off_at_covalent_distance():
    zbl = ZBL().double()
    z = torch.tensor([6, 6])
    ei = torch.tensor([[1, 0], [0, 1]])
    r = torch.linspace(0.3, 1.6, 50, dtype=torch.float64)
    e = torch.stack([zbl(z, ei, torch.stack([x, x])).sum() for x in r])
    assert (e[:-1] >= e[1:]).all() and e[0] > 10
    assert e[-1] == 0.0  # C-C covalent sum is 1.52 Å
