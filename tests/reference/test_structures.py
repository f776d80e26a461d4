import numpy as np
import pytest

from muse_explore.reference import (
    benzene_on_graphene,
    graphene_flake,
    graphene_sheet,
    place_molecule,
)
from muse_explore.reference.structures import graphene_ribbon


@pytest.mark.parametrize(
    "rings, formula", [(0, "C6H6"), (1, "C24H12"), (2, "C54H18"), (3, "C96H24")]
)
def test_flakes(rings, formula):
    _check_flake(graphene_flake(rings), formula)


def test_ribbon_is_an_elongated_flake():
    ribbon = graphene_ribbon()
    _check_flake(ribbon, "C68H24")
    extent = np.ptp(ribbon.positions[:, :2], axis=0)
    assert extent[0] > 2 * extent[1] and extent[0] == pytest.approx(21.6, abs=0.1)
    # every carbon is sp2: two or three carbon neighbours, one hydrogen when two
    c = ribbon.numbers == 6
    d = np.linalg.norm(ribbon.positions[:, None] - ribbon.positions[None], axis=-1)
    degree = ((d[np.ix_(c, c)] > 0.1) & (d[np.ix_(c, c)] < 1.6)).sum(1)
    assert set(degree.tolist()) == {2, 3} and (degree == 2).sum() == (~c).sum()
    np.testing.assert_allclose(ribbon.positions.mean(0), 0.0, atol=1e-9)
    with pytest.raises(ValueError, match="length"):
        graphene_ribbon(0.0)


def _check_flake(flake, formula):
    assert flake.get_chemical_formula(mode="hill") == formula
    assert np.abs(flake.positions[:, 2]).max() == 0.0
    d = np.linalg.norm(flake.positions[:, None] - flake.positions[None], axis=-1)
    c = flake.numbers == 6
    cc = d[np.ix_(c, c)]
    np.testing.assert_allclose(cc[(cc > 0.1) & (cc < 1.6)], 1.42, atol=1e-9)
    ch = d[np.ix_(c, ~c)].min(axis=0)
    np.testing.assert_allclose(ch, 1.09, atol=1e-9)


def test_place_molecule_height_offset_and_periodic_substrate():
    complex_ = place_molecule(
        "C6H6", graphene_flake(2), 7.5, offset=(1.0, -2.0), rotation=30, tilt=10
    )
    mol = complex_[72:]
    assert mol.positions[:, 2].mean() == pytest.approx(7.5)
    np.testing.assert_allclose(mol.positions[:, :2].mean(0), [1.0, -2.0], atol=1e-9)
    on_sheet = place_molecule("H2O", graphene_sheet(3, 3), 3.0)
    assert on_sheet.pbc.tolist() == [True, True, False]
    assert on_sheet.positions[-3:, 2].mean() - on_sheet.positions[:18, 2].mean() == pytest.approx(
        3.0
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: place_molecule("XYZ", graphene_flake(1), 3.0), "unknown molecule 'XYZ'"),
        (lambda: place_molecule("H2O", graphene_flake(1), 0.0), "height must be a positive"),
        (lambda: benzene_on_graphene(float("nan")), "height must be a positive number"),
        (lambda: graphene_sheet(0, 2), "at least one cell each way, got 0 × 2"),
    ],
)
def test_bad_structure_requests_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_demo_structure():
    atoms = benzene_on_graphene(3.4)
    assert len(atoms) == 84
