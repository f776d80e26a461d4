"""The peptide-c7 draws: chains of γ turns (C7eq), alone or beside a strand, relaxed."""

import numpy as np
import pytest

from muse_explore.reference.peptide import alanine_peptide, bond_hops, peptide_bonds
from muse_explore.reference.peptide_c7 import (
    C7,
    JITTER,
    KINDS,
    MIN_SEGMENT,
    build_c7_frames,
    c7_specs,
)
from muse_explore.reference.peptide_minima import FMAX, KEEP
from muse_explore.reference.peptide_pure import BENCHMARK_LENGTHS, LENGTHS
from muse_explore.reference.peptide_segments import BASINS, MIN_DISTANCE

from .test_peptide_minima import _Springs  # a cheap surface with a known minimum


@pytest.fixture(scope="module")
def specs():
    return c7_specs(36, seed=11)


def test_every_length_meets_every_kind_and_no_benchmark_length(specs):
    kinds = [("c7" if s["segments"] == "c7" else "c7+extended") for s in specs]
    combos = [(s["residues"], k) for s, k in zip(specs, kinds, strict=True)]
    assert sorted(set(combos)) == sorted((n, k) for n in LENGTHS for k in KINDS)
    assert all(combos.count(c) == 3 for c in set(combos))  # 36 draws: each pair three times
    assert not set(LENGTHS) & set(BENCHMARK_LENGTHS)
    assert [s["config"] for s in specs] == list(range(36))
    assert c7_specs(36, seed=11) == specs and c7_specs(36, seed=12) != specs
    assert {s["segments"] for s in specs} == {"c7", "c7-extended", "extended-c7"}
    with pytest.raises(ValueError, match="n must be"):
        c7_specs(0)


def test_segments_have_their_basins_angles_and_length(specs):
    centres = {"c7": C7, "extended": BASINS["extended"]}
    dev = []
    for s in specs:
        names, bounds = s["segments"].split("-"), s["bounds"]
        assert bounds[0] == 0 and bounds[-1] == s["residues"] and len(bounds) == len(names) + 1
        for name, lo, hi in zip(names, bounds[:-1], bounds[1:], strict=True):
            assert hi - lo >= (MIN_SEGMENT if len(names) > 1 else 1)
            dev += list(np.array(s["phi"][lo:hi]) - centres[name][0])
            dev += list(np.array(s["psi"][lo:hi]) - centres[name][1])
    dev = np.array(dev)  # about JITTER degrees of Gaussian noise, no wrap near these centres
    assert abs(dev.mean()) < 0.2 * JITTER and 0.8 * JITTER < dev.std() < 1.2 * JITTER


def test_the_c7_chain_has_its_gamma_turn_hydrogen_bonds():
    # the basin's centre builds what the set is named for: one N-H···O=C bond per residue,
    # N-H of residue i + 1 to C=O of residue i - 1 (span 2 in backbone_hbonds' terms)
    from muse_explore.analysis.peptide import backbone_hbonds, peptide_indices

    atoms = alanine_peptide(7, phi=C7[0], psi=C7[1])
    idx = peptide_indices(atoms)
    spans = [idx["N"].index(n) + 1 - idx["O"].index(o) for n, _, o in backbone_hbonds(atoms)]
    assert spans == [2] * 7


def test_no_chain_runs_into_itself(specs):
    for s in specs[::3]:
        atoms = alanine_peptide(s["residues"], phi=s["phi"], psi=s["psi"])
        far = bond_hops(peptide_bonds(s["residues"]), len(atoms)) > 3
        assert atoms.get_all_distances()[far].min() >= MIN_DISTANCE


def test_a_draw_is_relaxed_as_the_minima_set_and_named_c7(specs):
    spec = specs[6]  # two segments, n = 5
    start = alanine_peptide(spec["residues"], phi=spec["phi"], psi=spec["psi"])
    target = start.positions + np.random.default_rng(0).normal(
        scale=1.5, size=start.positions.shape
    )
    frames = build_c7_frames(spec, calc=_Springs(target))
    assert [f.info["relax_step"] for f in frames][0] == KEEP[0]
    assert all(f.info["set"] == "peptide-c7" for f in frames)
    assert all(f.info["segments"] == spec["segments"] for f in frames)
    assert all(f.info["converged"] for f in frames)
    assert np.linalg.norm(frames[-1].get_forces(), axis=1).max() < FMAX
    energies = [f.get_potential_energy() for f in frames]
    assert energies == sorted(energies, reverse=True)


def test_make_data_knows_the_set():
    from muse_explore.cli.make_data import DEFAULTS

    d = DEFAULTS["peptide-c7"]
    assert d["out"].endswith("peptide_c7.extxyz.xz") and d["seed"] == 11 and d["n"] == 36
    assert c7_specs(1, seed=d["seed"]) == c7_specs(36)[:1]  # the module's default is the CLI's


def test_the_set_is_written_with_the_command_that_makes_it(tmp_path):
    # generate_relaxed_set, shared by peptide-minima, -pure and -c7, with a cheap build
    import json

    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import read

    from muse_explore.reference.peptide_minima import generate_relaxed_set

    def build(spec):
        atoms = alanine_peptide(spec["residues"], phi=spec["phi"], psi=spec["psi"])
        atoms.calc = SinglePointCalculator(
            atoms, energy=-float(spec["residues"]), forces=np.zeros((len(atoms), 3))
        )
        atoms.info.update({"set": "peptide-c7", "config": spec["config"]})
        return [atoms]

    out = tmp_path / "c7.extxyz.xz"
    generate_relaxed_set(
        "peptide-c7", c7_specs(2), build, out, n=2, seed=11, chunk=1, progress=False, jobs=1
    )
    meta = json.loads((tmp_path / "c7.json").read_text())
    assert meta["command"] == "muse-explore make-data peptide-c7 --n 2 --seed 11"
    assert meta["set"] == "peptide-c7" and meta["structures"] == 2
    frames = read(out, index=":")
    assert [f.get_potential_energy() for f in frames] == [-5.0, -7.0]
