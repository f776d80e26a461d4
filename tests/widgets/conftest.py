import pytest
import torch

import muse_explore as mx
from muse_explore.reference import benzene_on_graphene


@pytest.fixture(scope="module")
def model():
    return mx.build_model(levels=2, seed=0).to(torch.float64).eval()


@pytest.fixture
def atoms():
    return benzene_on_graphene(3.4, rings=1)
