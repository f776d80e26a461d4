from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.build import molecule
from ase.calculators.singlepoint import SinglePointCalculator

from muse_explore.errors import MuSEConfigError, MuSEFileError
from muse_explore.training import dataset as ds

from .conftest import PERIODIC, ROOT, SCANS


def test_read_select_and_grouped_split(tmp_path):
    structures = ds.read_structures([SCANS])
    assert structures[0].info["source"] == "graphene_scans.extxyz.xz:0"
    complexes = ds.select(structures, {"part": "complex"})
    assert 0 < len(complexes) < len(structures)
    splits = ds.split(
        structures,
        range(len(structures)),
        val_fraction=0.2,
        test_fraction=0.2,
        seed=1,
        group_by="scan",
    )
    assert sorted(sum(splits.values(), [])) == list(range(len(structures)))
    scans = {k: {int(structures[i].info["scan"]) for i in v} for k, v in splits.items()}
    assert not (scans["train"] & scans["test"]) and not (scans["train"] & scans["val"])
    assert len(scans["test"]) == 2 and len(scans["val"]) == 2  # 20 % of 10 scans
    again = ds.split(
        structures,
        range(len(structures)),
        val_fraction=0.2,
        test_fraction=0.2,
        seed=1,
        group_by="scan",
    )
    assert again == splits
    path = tmp_path / "splits.json"
    ds.save_splits(path, splits, [a.info["source"] for a in structures])
    assert ds.load_splits(path) == splits
    idx, sources = ds.load_split_sources(path, "val")
    assert idx == splits["val"] and sources == [structures[i].info["source"] for i in idx]
    path.write_text('{"train": [], "val": [], "test": []}')  # lists, not subsets
    with pytest.raises(MuSEFileError, match="not a valid split file"):
        ds.load_split_sources(path, "test")


def test_two_draws_of_one_set_in_two_files_are_separate_groups(tmp_path):
    from ase.io import write

    triples = ds.read_structures([ROOT / "sample_data/data/graphene_thermal.extxyz.xz"])[:6]
    for a in triples:
        a.info.pop("source")
    write(tmp_path / "draw1.extxyz", triples)
    write(tmp_path / "draw2.extxyz", triples)  # the same set name and config numbers
    both = ds.read_structures([tmp_path / "draw1.extxyz", tmp_path / "draw2.extxyz"])
    assert [a.info["config"] for a in both[:6]] == [a.info["config"] for a in both[6:]]
    ids = ds.group_ids(both, "config")
    assert ids == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]  # one group per triple and file
    splits = ds.split(both, range(12), val_fraction=0.25, test_fraction=0.25, seed=0,
                      group_by="config")  # fmt: skip
    assert sorted(len(v) for v in splits.values()) == [3, 3, 6]


def test_max_structures_keeps_whole_groups():
    structures = ds.read_structures([SCANS])
    splits = ds.split(
        structures,
        range(len(structures)),
        val_fraction=0.0,
        test_fraction=0.0,
        seed=0,
        group_by="scan",
        max_structures=30,
    )
    assert len(splits["train"]) == 48  # two whole scans of 24 structures


def test_graphs_carry_targets_and_nan_stress():
    structures = ds.read_structures([SCANS, PERIODIC])
    import muse_explore as mx

    model = mx.build_model(levels=1, hidden=8)
    periodic = next(i for i, a in enumerate(structures) if a.pbc.all())
    graphs = ds.to_graphs(structures, [0, periodic], model.graph_converter())
    assert graphs[0].stress.isnan().all() and not graphs[1].stress.isnan().any()
    assert graphs[1].idx.item() == periodic
    assert graphs[1].energy.item() == pytest.approx(structures[periodic].get_potential_energy())


@pytest.mark.parametrize(
    ("label", "value", "message"),
    [
        ("energy", float("nan"), "structure 1 has energy nan"),
        ("energy", float("inf"), "structure 1 has energy inf"),
        (
            "forces",
            "nan",
            r"structure 1 has non-finite forces on atom 2 \(\[nan, 0.0, 0.0\]; 1 atom",
        ),
        (
            "forces",
            "inf",
            r"structure 1 has non-finite forces on atom 2 \(\[inf, 0.0, 0.0\]; 1 atom",
        ),
        ("stress", float("nan"), "structure 1 has a non-finite stress"),
        ("positions", "nan", r"structure 1 has non-finite coordinates: atom 2 \(H\) at \[nan,"),
    ],
)
def test_a_nan_or_infinite_label_is_refused_by_name(tmp_path, label, value, message):
    # a NaN energy once reached the validation split silently: val_loss nan, no warning
    frames = []
    for i in range(3):
        atoms = molecule("H2O")
        atoms.rattle(0.05, seed=i)
        forces = np.zeros((3, 3))
        results = {"energy": -10.0 + 0.01 * i, "forces": forces}
        if i == 1 and label == "positions":
            atoms.positions[2, 0] = float(value)
        if i == 1 and label == "forces":
            forces[2, 0] = float(value)
        elif i == 1 and label != "positions":
            results[label] = value if label == "energy" else np.full(6, value)
        atoms.calc = SinglePointCalculator(atoms, **results)
        frames.append(atoms)
    path = tmp_path / "labels.extxyz"
    ase.io.write(path, frames)
    with pytest.raises(MuSEFileError, match=f"labels.extxyz: {message}"):
        ds.read_structures([path])


def test_a_misshapen_stress_is_refused():
    # extxyz refuses one when read; an ASE database or another reader may not
    atoms = molecule("H2O")
    results = {"energy": -1.0, "forces": np.zeros((3, 3)), "stress": np.zeros(4)}
    with pytest.raises(MuSEFileError, match=r"x.db: structure 5 has a stress of shape \(4,\)"):
        ds._check_frame(Path("x.db"), 5, atoms, results)
    results["forces"] = np.zeros((2, 3))
    with pytest.raises(MuSEFileError, match=r"forces of shape \(2, 3\) for 3 atoms"):
        ds._check_frame(Path("x.db"), 5, atoms, results)


def test_bad_files(tmp_path):
    with pytest.raises(MuSEFileError, match="no data file"):
        ds.read_structures([tmp_path / "missing.extxyz"])
    bad = tmp_path / "bad.extxyz"
    bad.write_text("3\nnot a comment line=\nH 0 0\n")
    with pytest.raises(MuSEFileError, match="not a readable extxyz"):
        ds.read_structures([bad])
    unlabelled = tmp_path / "unlabelled.extxyz"
    molecule("H2O").write(unlabelled)
    with pytest.raises(MuSEFileError, match="structure 0 has no energy"):
        ds.read_structures([unlabelled])
    with pytest.raises(MuSEConfigError, match="no info key 'nope'"):
        ds.split(
            ds.read_structures([SCANS]),
            [0, 1],
            val_fraction=0,
            test_fraction=0,
            seed=0,
            group_by="nope",
        )


@pytest.mark.parametrize(
    "spoil, where",
    [
        (lambda ls: ls[:-1], "structure 2, line 9: 2 atoms announced, but the file ends 1 atom"),
        (lambda ls: ls[:10] + ["H 0.0 0.0"] + ls[11:], "structure 2, lines 9-12: "),
        (lambda ls: ls[:4] + ["x y"] + ls[5:], "structure 1, line 5: 'x y' is not an atom count"),
    ],
    ids=["cut short", "a missing column", "a broken header"],
)
def test_a_malformed_extxyz_names_its_structure_and_lines(tmp_path, spoil, where):
    import lzma

    frames = []
    for z in (0.0, 1.0, 2.0):  # three H2 of 4 lines each (count, comment, two atoms)
        h2 = Atoms("H2", positions=[[0, 0, z], [0, 0, z + 0.74]])
        h2.calc = SinglePointCalculator(h2, energy=-1.0, forces=np.zeros((2, 3)))
        frames.append(h2)
    good = tmp_path / "good.extxyz"
    ase.io.write(good, frames, format="extxyz")
    lines = spoil(good.read_text().splitlines())
    bad = tmp_path / "bad.extxyz.xz"
    with lzma.open(bad, "wt") as fh:  # compressed files are located alike
        fh.write("\n".join(lines) + "\n")
    with pytest.raises(MuSEFileError, match="bad.extxyz.xz is not a readable") as err:
        ds.read_structures([bad])
    assert where in str(err.value)


def test_ase_database_is_read_like_extxyz(tmp_path):
    from ase.db import connect

    frames = ds.read_structures([SCANS])[:5]
    db = tmp_path / "data.db"
    with connect(db) as con:
        for a in frames:
            con.write(a)
    again = ds.read_structures([db])
    assert len(again) == 5 and again[0].info["source"] == "data.db:0"
    for a, b in zip(frames, again, strict=True):
        assert a.get_potential_energy() == pytest.approx(b.get_potential_energy())
        assert (a.get_forces() == b.get_forces()).all()


def test_run_data_splits_the_main_files_and_trains_on_the_rest():
    from muse_explore.training.config import DataConfig

    data = DataConfig(
        files=[SCANS], group_by="scan", split_seed=1, val_fraction=0.2, test_fraction=0.2,
        train_only_files=[PERIODIC],
    )  # fmt: skip
    structures, splits = ds.run_data(data, seed=5)
    n_main = len(ds.read_structures([SCANS]))
    extra = list(range(n_main, len(structures)))
    assert extra and set(extra) <= set(splits["train"])
    assert all(i < n_main for i in splits["val"] + splits["test"])
    alone = ds.run_data(DataConfig(files=[SCANS], group_by="scan", split_seed=1,
                                   val_fraction=0.2, test_fraction=0.2), seed=9)[1]  # fmt: skip
    assert alone["val"] == splits["val"] and alone["test"] == splits["test"]
    saved = {"train": [0], "val": [1], "test": [2]}
    assert ds.run_data(data, seed=5, splits=saved)[1] is saved  # a resumed run keeps its split
    with pytest.raises(MuSEConfigError, match="matches no structure"):
        ds.run_data(DataConfig(files=[SCANS], select={"part": "nothing"}), seed=0)
