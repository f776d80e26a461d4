"""The peptide-pure draws: single-conformation chains relaxed with GFN2-xTB to their minimum."""

import numpy as np
import pytest

from muse_explore.reference.peptide import alanine_peptide, bond_hops, peptide_bonds
from muse_explore.reference.peptide_minima import FMAX, KEEP
from muse_explore.reference.peptide_pure import (
    BENCHMARK_LENGTHS,
    LENGTHS,
    build_pure_frames,
    pure_specs,
)
from muse_explore.reference.peptide_segments import BASINS, JITTER, MIN_DISTANCE

from .test_peptide_minima import _Springs  # a cheap surface with a known minimum


@pytest.fixture(scope="module")
def specs():
    return pure_specs(36, seed=9)


def test_every_length_meets_every_basin_and_no_benchmark_length(specs):
    combos = [(s["residues"], s["segments"]) for s in specs]
    assert sorted(set(combos)) == sorted((n, b) for n in LENGTHS for b in BASINS)
    assert all(combos.count(c) == 2 for c in set(combos))  # 36 draws: each pair twice
    assert not set(LENGTHS) & set(BENCHMARK_LENGTHS)
    assert min(LENGTHS) > min(BENCHMARK_LENGTHS) and max(LENGTHS) < max(BENCHMARK_LENGTHS)
    assert [s["config"] for s in specs] == list(range(36))
    assert pure_specs(36, seed=9) == specs and pure_specs(36, seed=10) != specs
    assert [s["helix_fraction"] for s in specs[:6]] == [1.0] * 6
    assert all(s["helix_fraction"] == 0.0 for s in specs if s["segments"] != "helix")
    with pytest.raises(ValueError, match="n must be"):
        pure_specs(0)


def test_the_angles_scatter_about_their_basin_centre(specs):
    for basin, centre in BASINS.items():
        phi = np.concatenate([s["phi"] for s in specs if s["segments"] == basin])
        psi = np.concatenate([s["psi"] for s in specs if s["segments"] == basin])
        dev = np.concatenate([phi - centre[0], psi - centre[1]])
        # about JITTER[basin] degrees of Gaussian noise, no wrap needed near these centres
        assert abs(dev.mean()) < 0.4 * JITTER[basin]
        assert 0.7 * JITTER[basin] < dev.std() < 1.3 * JITTER[basin]


def test_no_chain_runs_into_itself(specs):
    for s in specs[:18]:
        atoms = alanine_peptide(s["residues"], phi=s["phi"], psi=s["psi"])
        far = bond_hops(peptide_bonds(s["residues"]), len(atoms)) > 3
        assert atoms.get_all_distances()[far].min() >= MIN_DISTANCE


def test_a_draw_is_relaxed_as_the_minima_set_and_named_pure(specs):
    spec = specs[12]  # an extended strand, n = 5
    assert spec["segments"] == "extended" and spec["residues"] == 5
    start = alanine_peptide(spec["residues"], phi=spec["phi"], psi=spec["psi"])
    target = start.positions + np.random.default_rng(0).normal(
        scale=1.5, size=start.positions.shape
    )
    frames = build_pure_frames(spec, calc=_Springs(target))
    assert [f.info["relax_step"] for f in frames][0] == KEEP[0]
    assert all(f.info["set"] == "peptide-pure" and f.info["segments"] == "extended" for f in frames)
    assert all(f.info["converged"] for f in frames)
    assert np.linalg.norm(frames[-1].get_forces(), axis=1).max() < FMAX
    energies = [f.get_potential_energy() for f in frames]
    assert energies == sorted(energies, reverse=True)


def test_make_data_knows_the_set():
    from muse_explore.cli.make_data import DEFAULTS

    d = DEFAULTS["peptide-pure"]
    assert d["out"].endswith("peptide_pure.extxyz.xz") and d["seed"] == 9
    seeds = [v["seed"] for v in DEFAULTS.values()]
    assert len(seeds) == len(set(seeds))  # every set draws from its own seed
