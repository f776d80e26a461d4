import numpy as np
import pytest

from muse_explore.reference import graphene_set as gs
from muse_explore.reference import periodic_set as ps
from muse_explore.reference.molecules import MOLECULES, small_molecule
from muse_explore.reference.structures import graphene_flake

MOLS = {name: small_molecule(name) for name in MOLECULES}
FLAKE = graphene_flake(2)


def test_specs_are_seeded_and_cover_the_heights():
    specs = gs.sample_specs(300, seed=5)
    assert specs == gs.sample_specs(300, seed=5)
    assert specs != gs.sample_specs(300, seed=6)
    h = np.array([s["height"] for s in specs])
    assert h.min() >= 2.5 and h.max() <= 20.0
    assert 0.35 < np.mean(h < 4.5) < 0.55 and np.mean(h > 10) > 0.15  # dense near the minimum
    assert {s["molecule"] for s in specs} == set(MOLECULES)
    assert max(np.hypot(s["offset_x"], s["offset_y"]) for s in specs) <= 3.0


def test_triple_shares_one_displaced_geometry():
    spec = gs.sample_specs(3, seed=1)[2]
    complex_, flake, mol = gs.build_triple(spec, FLAKE, MOLS)
    assert len(flake) == 72 and len(complex_) == 72 + len(mol)
    np.testing.assert_array_equal(complex_.positions[:72], flake.positions)
    np.testing.assert_array_equal(complex_.positions[72:], mol.positions)
    assert [a.info["part"] for a in (complex_, flake, mol)] == ["complex", "flake", "molecule"]
    assert complex_.info["config"] == 2 and complex_.info["molecule"] == spec["molecule"]
    shift = complex_.positions[:72] - FLAKE.positions
    assert 0.005 < shift.std() < 0.05  # thermal displacements of every atom
    assert mol.positions[:, 2].mean() == pytest.approx(spec["height"], abs=0.05)
    again = gs.build_triple(spec, FLAKE, MOLS)[0]
    np.testing.assert_array_equal(again.positions, complex_.positions)


def test_no_draw_puts_the_molecule_into_the_flake():
    for spec in gs.sample_specs(200, seed=3):
        c = gs.build_triple(spec, FLAKE, MOLS)[0]
        d = np.linalg.norm(c.positions[:72, None] - c.positions[None, 72:], axis=-1)
        assert d.min() > gs.MIN_CONTACT


def test_scan_moves_a_rigid_molecule():
    spec = gs.scan_specs(orientations=1)[0]
    frames = gs.build_scan(spec, FLAKE, MOLS)
    flake, mol, complexes = frames[0], frames[1], frames[2:]
    assert flake.info["part"] == "flake" and mol.info["part"] == "molecule"
    assert [c.info["height"] for c in complexes] == list(gs.SCAN_HEIGHTS)
    for c in complexes:
        np.testing.assert_array_equal(c.positions[:72], flake.positions)
        dz = c.positions[72:] - mol.positions
        np.testing.assert_allclose(dz[:, :2], 0, atol=1e-12)
        np.testing.assert_allclose(dz[:, 2], c.info["height"] - max(gs.SCAN_HEIGHTS), atol=1e-9)


def test_periodic_specs_strain_the_cell():
    spec = ps.sample_specs(2, seed=4)[1]
    (atoms,) = ps.build_periodic(spec, MOLS)
    assert atoms.pbc.all() and atoms.cell.lengths()[2] > 24
    base = ps.graphene_sheet(5, 5, vacuum=12.5).cell.array
    assert not np.allclose(atoms.cell.array, base)
    np.testing.assert_allclose(atoms.cell.array, base, rtol=0.03, atol=0.3)
    assert atoms.info["set"] == "periodic" and atoms.info["molecule"] in ps.PERIODIC_MOLECULES


def test_contact_set_stays_near_the_flake_and_in_its_own_groups():
    from muse_explore.training.dataset import group_key

    specs = gs.sample_specs(200, seed=10, bands=gs.CONTACT_BANDS, set_name="graphene-contact")
    h = np.array([s["height"] for s in specs])
    assert h.min() >= 2.5 and h.max() <= 4.5
    assert 0.6 < np.mean(h < 3.5) < 0.8  # mostly on the repulsive wall
    triple = gs.build_triple(specs[0], FLAKE, MOLS)
    assert {a.info["set"] for a in triple} == {"graphene-contact"}
    main = gs.build_triple(gs.sample_specs(1, seed=0)[0], FLAKE, MOLS)[0]
    assert main.info["set"] == "graphene" and main.info["config"] == triple[0].info["config"]
    assert group_key(main, "config", 0) != group_key(triple[0], "config", 0)
    with pytest.raises(ValueError, match="invalid height bands"):
        gs.sample_specs(1, bands=((1.0, 3.0, 1.0),))  # below the closest allowed contact


def _spring_minima():
    """Cheap stand-ins for the GFN2-xTB minima: spring-network Hessians (no tblite)."""
    from functools import cache

    from muse_explore.reference.structures import place_molecule
    from tests.reference.test_minima import spring_minimum

    @cache
    def minima(name):
        if name == "circumcoronene":
            return spring_minimum(name, graphene_flake(2))
        if name == "C96H24":
            return spring_minimum(name, graphene_flake(3))
        if "/" in name:
            mol, _ = name.split("/")
            c = place_molecule(MOLS[mol], graphene_flake(2), 3.3)
            return spring_minimum(name, c, indices=np.arange(72, len(c)))
        return spring_minimum(name, MOLS[name])

    return minima


MINIMA = _spring_minima()


def test_thermal_specs_are_seeded_and_reach_25_angstrom():
    specs = gs.thermal_specs(300, MINIMA, seed=5)
    assert specs == gs.thermal_specs(300, MINIMA, seed=5)
    assert specs != gs.thermal_specs(300, MINIMA, seed=6)
    h = np.array([s["height"] for s in specs])
    t = np.array([s["temperature"] for s in specs])
    assert h.min() >= 2.5 and h.max() <= 25.0 and (h > 20).sum() > 10
    assert t.min() >= 300 and t.max() <= 600 and t.std() > 50
    assert {s["molecule"] for s in specs} == set(MOLECULES)
    with pytest.raises(ValueError, match="temperature range"):
        gs.thermal_specs(1, MINIMA, temperatures=(600, 300))


def test_thermal_triple_distorts_flake_and_molecule_around_their_minima():
    spec = gs.thermal_specs(4, MINIMA, seed=1)[3]
    complex_, flake, mol = gs.build_thermal_triple(spec, MINIMA)
    n = len(MINIMA("circumcoronene").atoms)
    np.testing.assert_array_equal(complex_.positions[:n], flake.positions)
    np.testing.assert_array_equal(complex_.positions[n:], mol.positions)
    assert {a.info["set"] for a in (complex_, flake, mol)} == {"graphene-thermal"}
    assert complex_.info["temperature"] == spec["temperature"]
    shift = flake.positions - MINIMA("circumcoronene").atoms.positions
    assert 0.005 < shift.std() < 0.2
    assert mol.positions[:, 2].mean() == pytest.approx(spec["height"], abs=0.05)
    again = gs.build_thermal_triple(spec, MINIMA)[0]
    np.testing.assert_array_equal(again.positions, complex_.positions)
    for s in gs.thermal_specs(100, MINIMA, seed=3, bands=gs.CONTACT_BANDS):
        c = gs.build_thermal_triple(s, MINIMA)[0]
        d = np.linalg.norm(c.positions[:n, None] - c.positions[None, n:], axis=-1)
        assert d.min() >= gs.MIN_CONTACT


def test_transfer_and_rattled_variants():
    big = gs.build_thermal_triple(
        gs.thermal_specs(1, MINIMA, flake="C96H24", set_name="graphene-transfer")[0], MINIMA
    )
    assert len(big[1]) == 120 and big[0].info["set"] == "graphene-transfer"
    spec = gs.thermal_specs(1, MINIMA, seed=2, temperatures=(0, 0), rattle=0.05)[0]
    flake = gs.build_thermal_triple(spec, MINIMA)[1]
    shift = flake.positions - MINIMA("circumcoronene").atoms.positions
    assert shift.std() == pytest.approx(0.05, rel=0.15)  # the rattle alone at 0 K


def test_curvature_triples_stay_near_the_adsorbate_minimum():
    specs = gs.curvature_specs(50, seed=0)
    assert specs == gs.curvature_specs(50, seed=0)
    assert {s["molecule"] for s in specs} == set(gs.CURVATURE_ADSORBATES)
    spec = specs[0]
    complex_, flake, mol = gs.build_curvature_triple(spec, MINIMA)
    ads = MINIMA(f"{spec['molecule']}/circumcoronene")
    shift = complex_.positions - ads.atoms.positions
    assert 0 < np.abs(shift).max() < 0.5
    assert complex_.info["height"] == pytest.approx(3.3, abs=0.3)
    assert [a.info["part"] for a in (complex_, flake, mol)] == ["complex", "flake", "molecule"]


def test_shipped_curvature_set_keeps_its_molecules_whole():
    # the set made before rigid_motion_exact held waters with O-H up to 2.3 A, two of them
    # with an H atom 1.3-1.4 A from a flake carbon (and it stopped a training run)
    from pathlib import Path

    from ase.neighborlist import natural_cutoffs, neighbor_list

    from muse_explore.training.dataset import read_structures

    path = Path(__file__).resolve().parents[2] / "sample_data/data/graphene_curvature.extxyz.xz"
    frames = read_structures([path])
    bonds = {}
    for complex_, flake, mol in zip(frames[::3], frames[1::3], frames[2::3], strict=True):
        name = mol.info["molecule"]
        if name not in bonds:  # the molecule's bonds and their lengths, from its template
            ref = small_molecule(name)
            i, j = neighbor_list("ij", ref, natural_cutoffs(ref))
            i, j = i[i < j], j[i < j]
            bonds[name] = (i, j, np.linalg.norm(ref.positions[j] - ref.positions[i], axis=1))
        i, j, d0 = bonds[name]
        d = np.linalg.norm(mol.positions[j] - mol.positions[i], axis=1)
        assert (d / d0).max() < 1.15, (name, mol.info["config"], (d / d0).max())
        n = len(flake)
        gap = np.linalg.norm(complex_.positions[n:, None] - complex_.positions[None, :n], axis=-1)
        assert gap.min() > 1.8, (name, mol.info["config"], gap.min())
