"""Shared fixtures: small seeded structures and small float64 models."""

import numpy as np
import pytest
import torch
from ase.build import molecule

import muse_explore as mx
from muse_explore.reference import graphene_flake, graphene_sheet, place_molecule
from muse_explore.testing import rattle

torch.set_num_threads(2)


#: Small but complete hyperparameters per backbone, for fast tests.
SMALL = {
    "painn": {},
    "mace": {"max_ell": 2, "correlation": 2, "radial_mlp": (16, 16)},
    "so3krates": {"lmax": 2, "heads": 2},
}


def small_model(backbone: str = "painn", levels: int = 2, **kw):
    """A small model (fast tests) with the default cutoffs and hierarchy."""
    kw.setdefault("hidden", 16)
    kw.setdefault("backbone_kwargs", SMALL[backbone])
    kw.setdefault("num_interactions", (2,) + (1,) * levels)
    return mx.build_model(backbone=backbone, levels=levels, seed=7, **kw)


@pytest.fixture
def water_on_coronene():
    return rattle(
        place_molecule("H2O", graphene_flake(1), 3.0, offset=(0.4, 0.2), tilt=15), 0.03, seed=1
    )


@pytest.fixture
def benzene():
    return rattle(molecule("C6H6"), 0.03, seed=2)


@pytest.fixture
def periodic_sheet():
    """Rattled periodic graphene (4x4 cells) with a water molecule above it."""
    sheet = graphene_sheet(4, 4, vacuum=8.0)
    return rattle(place_molecule("H2O", sheet, 3.2), 0.03, seed=3)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
