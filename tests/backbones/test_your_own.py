"""docs/backbones.md, "Your own backbone": its example runs as written, registers, and passes
the same checks as the built-in backbones, alone and inside MuSE."""

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from ase.build import molecule

import muse_explore as mx
from muse_explore import testing as T
from muse_explore.backbones import BACKBONES, Backbone, build_backbone
from muse_explore.errors import MuSEConfigError, MuSEFileError, MuSEUnknownBackboneError
from muse_explore.reference import graphene_flake, place_molecule

from ..training.conftest import small_config
from .test_contract import (
    test_a_node_of_weight_two_sends_what_two_nodes_of_weight_one_send as weight_two_check,
)
from .test_contract import test_unit_edge_weights_change_nothing as unit_weight_check

DOC = Path(__file__).resolve().parents[2] / "docs" / "backbones.md"


@pytest.fixture(scope="module")
def example():
    (code,) = [b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
               if "register_backbone" in b]  # fmt: skip
    ns = {}
    exec(compile(code, str(DOC), "exec"), ns)
    yield ns
    BACKBONES.pop("cfconv", None)


@pytest.fixture(params=[{"levels": 0}, {"levels": 2}, {"levels": 2, "unpool": "share",
                                                       "mass_weighted": True}],
                ids=["alone", "MuSE", "MuSE-share-weighted"])  # fmt: skip
def calc(request, example):
    model = mx.build_model(backbone="cfconv", hidden=16, seed=3, **request.param)
    return mx.MuSECalculator(model, dtype="float64")


def test_the_example_builds_muse_on_its_backbone(example):
    model = example["model"]
    assert model.levels == 2 and all(isinstance(b, example["CFConv"]) for b in model.backbones)
    atoms = place_molecule("C6H6", graphene_flake(2), 8.0)
    atoms.calc = example["calc"]
    scales = atoms.calc.get_property("scale_energies", atoms)
    assert scales.shape == (3,) and np.isclose(scales.sum(), atoms.get_potential_energy())
    n = len(graphene_flake(2))
    base = mx.MuSECalculator(model.backbone_only(), dtype="float64")
    assert abs(T.interaction_energy(base, atoms, n)) < 1e-10  # blind beyond its cutoff
    assert abs(T.interaction_energy(atoms.calc, atoms, n)) > 1e-6  # MuSE is not


def test_messages_are_linear_in_the_edge_weight(example):
    weight_two_check("cfconv")
    unit_weight_check("cfconv")


def test_invariance_and_permutations(calc, water_on_coronene, periodic_sheet):
    T.assert_invariance(calc, water_on_coronene)
    T.assert_invariance(calc, periodic_sheet)
    T.assert_permutation_invariant(calc, place_molecule("C6H6", graphene_flake(2), 3.4))


def test_forces_stress_and_hessian_match_finite_differences(
    calc, water_on_coronene, periodic_sheet
):
    T.assert_forces_match_finite_differences(calc, water_on_coronene, indices=[0, 20, 36, 38])
    T.assert_forces_match_finite_differences(calc, periodic_sheet, indices=[0, 13, 32, 33, 34])
    T.assert_stress_matches_finite_differences(calc, periodic_sheet)
    T.assert_hessian_matches_finite_differences(calc, molecule("C6H6"))


def test_extensive(calc, benzene):
    from muse_explore.reference import graphene_sheet

    T.assert_extensive(calc, benzene, T.rattle(graphene_flake(1), 0.03, seed=4), separation=60.0)
    T.assert_supercell_extensive(calc, T.rattle(graphene_sheet(4, 4), 0.03, seed=5))


def test_reach(example):
    """Alone it feels nothing beyond its cutoff; inside MuSE it does, up to the model's reach."""
    muse = mx.MuSECalculator(mx.build_model(backbone="cfconv", levels=2, hidden=16, seed=3))
    T.assert_reach(muse, graphene_flake(2), molecule("C6H6"))


def test_smooth_through_every_cutoff(calc):
    flake, mol = graphene_flake(1), molecule("H2O")
    a = T.rattle(place_molecule(mol, flake, 2.6, offset=(0.4, 0.3), tilt=20), 0.03, seed=1)
    b = T.rattle(place_molecule(mol, flake, 26.0, offset=(0.4, 0.3), tilt=20), 0.03, seed=2)
    T.assert_smooth_path(calc, T.interpolate(a, b, 801))


def test_batches_and_bad_input(calc, benzene, periodic_sheet, water_on_coronene):
    T.assert_batch_consistent(calc.model, [benzene, periodic_sheet, water_on_coronene])
    T.assert_bad_input_errors(calc)


def test_model_files_load_where_the_backbone_is_registered(example, tmp_path, benzene):
    model, path = example["model"], tmp_path / "cfconv.pt"
    model.save(path)
    energies = []
    for m in (model, mx.load_model(path)):
        atoms = benzene.copy()
        atoms.calc = mx.MuSECalculator(m, dtype="float64")
        energies.append(atoms.get_potential_energy())
    assert energies[0] == energies[1]
    cls = BACKBONES.pop("cfconv")
    try:
        with pytest.raises(MuSEFileError, match=r"unknown backbone 'cfconv'.*register_backbone"):
            mx.load_model(path)
    finally:
        mx.register_backbone("cfconv", cls)


def test_it_trains(example, tmp_path):
    from muse_explore.training import TrainConfig, Trainer

    # registered as the docs' example does it, in a notebook or script (an earlier test
    # registered it again from this module)
    exec(
        "mx.register_backbone('cfconv', C)",
        {"__name__": "__main__", "mx": mx, "C": example["CFConv"]},
    )
    cfg = small_config(tmp_path / "run", optim__epochs=1)
    cfg["model"] |= {"backbone": "cfconv", "levels": 1}
    trainer = Trainer(TrainConfig.from_dict(cfg), progress=False)
    trainer.fit()
    trained = mx.load_model(tmp_path / "run" / "best_model.pt")
    assert isinstance(trained.backbones[0], example["CFConv"])
    # resumed or evaluated where nothing registered the backbone: the checkpoint says where it
    # was registered
    from muse_explore.training.evaluation import load_for_evaluation

    last = tmp_path / "run" / "checkpoints" / "last.pt"
    assert torch.load(last, weights_only=True)["backbone_module"] == "__main__"
    cls = BACKBONES.pop("cfconv")
    try:
        hint = r"unknown backbone 'cfconv'.*registered in the notebook or script that saved it"
        with pytest.raises(MuSEUnknownBackboneError, match=hint):
            Trainer(TrainConfig.from_dict(cfg), resume=True, progress=False)
        with pytest.raises(MuSEFileError, match=hint):
            load_for_evaluation(last)
    finally:
        mx.register_backbone("cfconv", cls)


def test_registration_is_checked(example):
    cls = example["CFConv"]

    class Partial(Backbone):
        def embed_atoms(self, species):
            raise NotImplementedError

    class Narrow(cls):
        def __init__(self, atomic_numbers, cutoff, *, width=8):
            super().__init__(atomic_numbers, cutoff, hidden=width, num_interactions=1)

    cases = [
        (("painn", cls), "'painn' is .* a built-in backbone"),
        (("PaiNN", cls), "'PaiNN' is .*differs only in case.* a built-in backbone"),
        (("my backbone", cls), "letters, digits, '_' and '-', not starting with a digit"),
        (("3dnet", cls), "not starting with a digit"),
        (("plain", torch.nn.Linear), "is not a subclass of muse_explore.backbones.Backbone"),
        (("partial", Partial), "does not implement embed_coarse, interact, readout"),
        (("narrow", Narrow), "'narrow' breaks the contract.*hidden, num_interactions"),
    ]
    for args, message in cases:
        with pytest.raises(MuSEConfigError, match=message):
            mx.register_backbone(*args)
        assert args[0] not in BACKBONES or args[0] == "painn"
    assert BACKBONES["painn"] is not cls
    mx.register_backbone("cfconv", cls)  # again, as a notebook cell run twice does
    assert build_backbone("cfconv", [1, 6], 5.0, hidden=8, num_interactions=1).scalar_dim == 8
    # its own type (a MuSEConfigError), so callers add hints by type, not by matching text
    unknown = r"unknown backbone 'nope'.*register_backbone"
    with pytest.raises(MuSEUnknownBackboneError, match=unknown):
        mx.build_model(backbone="nope")
    assert issubclass(MuSEUnknownBackboneError, MuSEConfigError)


MODULE = """
import muse_explore as mx
from muse_explore.backbones import PaiNN


class WrappedPaiNN(PaiNN):
    def __init__(self, *args, **kwargs):  # a wrapper: the hyperparameters pass through
        super().__init__(*args, **kwargs)


mx.register_backbone("wrapped-painn", WrappedPaiNN)
"""


def test_commands_find_a_backbone_through_the_environment(tmp_path, monkeypatch, capsys):
    import sys

    from ase.io import write

    from muse_explore.cli.main import main

    (tmp_path / "my_backbones_for_test.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("MUSE_EXPLORE_BACKBONES", "my_backbones_for_test")
    try:
        model = mx.build_model(backbone="wrapped-painn", levels=1, hidden=8, seed=0)
        model.save(tmp_path / "m.pt")
        write(tmp_path / "water.xyz", molecule("H2O"))
        BACKBONES.pop("wrapped-painn")  # a fresh process: nothing registered yet
        sys.modules.pop("my_backbones_for_test")
        assert main(["hessian", str(tmp_path / "m.pt"), str(tmp_path / "water.xyz")]) == 0
        assert "frequencies" in capsys.readouterr().out
        assert type(mx.load_model(tmp_path / "m.pt").backbones[0]).__name__ == "WrappedPaiNN"
        monkeypatch.setenv("MUSE_EXPLORE_BACKBONES", "no_such_module_here")
        with pytest.raises(MuSEConfigError, match="cannot import 'no_such_module_here'"):
            mx.build_model(backbone="still-unknown")
    finally:
        BACKBONES.pop("wrapped-painn", None)
        sys.modules.pop("my_backbones_for_test", None)


def test_a_module_in_the_current_directory_that_is_not_on_the_path_gets_a_hint(
    tmp_path, monkeypatch
):
    # a console script (muse-explore) does not put the current directory on sys.path, so a
    # user's my_backbones.py beside their config is not found: say so, and how to fix it
    import sys

    (tmp_path / "my_backbones_not_on_path.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".", str(tmp_path))])
    monkeypatch.setenv("MUSE_EXPLORE_BACKBONES", "my_backbones_not_on_path")
    with pytest.raises(
        MuSEConfigError, match=r"my_backbones_not_on_path\.py is there.*PYTHONPATH=\."
    ):
        mx.build_model(backbone="wrapped-painn", levels=1, hidden=8)
    monkeypatch.setenv("MUSE_EXPLORE_BACKBONES", "not_here_either")  # no such file: no hint
    with pytest.raises(MuSEConfigError) as err:
        mx.build_model(backbone="wrapped-painn", levels=1, hidden=8)
    assert "PYTHONPATH" not in str(err.value)
    assert "wrapped-painn" not in BACKBONES


def test_a_model_file_names_the_module_of_its_backbone_when_it_is_not_registered(
    tmp_path, monkeypatch
):
    # a model file holds plain data, never code: loaded where nothing registered its backbone,
    # its error says which module registered it when it was saved (not imported for the user)
    import sys

    from muse_explore.training.evaluation import load_for_evaluation

    (tmp_path / "my_backbones_for_origin.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        import my_backbones_for_origin  # noqa: F401  (registers wrapped-painn)

        model = mx.build_model(backbone="wrapped-painn", levels=1, hidden=8, seed=0)
        model.save(tmp_path / "m.pt")
        BACKBONES.pop("wrapped-painn")  # a fresh process: nothing registered yet
        sys.modules.pop("my_backbones_for_origin")
        expected = (
            r"unknown backbone 'wrapped-painn'.*module 'my_backbones_for_origin'.*"
            r"MUSE_EXPLORE_BACKBONES=my_backbones_for_origin"
        )
        with pytest.raises(MuSEFileError, match=expected):
            mx.load_model(tmp_path / "m.pt")
        with pytest.raises(MuSEFileError, match=expected):
            load_for_evaluation(tmp_path / "m.pt")
        assert "wrapped-painn" not in BACKBONES  # named, not imported
        import my_backbones_for_origin  # noqa: F401, F811  (what the message says to do)

        assert type(mx.load_model(tmp_path / "m.pt").backbones[0]).__name__ == "WrappedPaiNN"
    finally:
        BACKBONES.pop("wrapped-painn", None)
        sys.modules.pop("my_backbones_for_origin", None)


def test_built_in_backbones_record_no_module_and_a_notebook_backbone_says_so(tmp_path):
    from muse_explore.models.file_format import backbone_origin

    mx.build_model(levels=1, hidden=8, seed=0).save(tmp_path / "painn.pt")
    assert "backbone_module" not in torch.load(tmp_path / "painn.pt", weights_only=True)
    assert backbone_origin("painn") == {} and backbone_origin("not-registered") == {}

    from muse_explore.backbones import PaiNN

    # the module that registers a class, not the one that defines it, is what to import
    cls = type("ElsewherePaiNN", (PaiNN,), {"__module__": "some_library.layers"})
    mx.register_backbone("elsewhere-painn", cls)
    try:
        assert backbone_origin("elsewhere-painn") == {"backbone_module": __name__}
    finally:
        BACKBONES.pop("elsewhere-painn")
    # a notebook cell (or a script) registers it
    exec(
        "mx.register_backbone('notebook-painn', cls)",
        {"__name__": "__main__", "mx": mx, "cls": cls},
    )
    try:
        model = mx.build_model(backbone="notebook-painn", levels=1, hidden=8, seed=0)
        model.save(tmp_path / "nb.pt")
    finally:
        BACKBONES.pop("notebook-painn")
    payload = torch.load(tmp_path / "nb.pt", weights_only=True)
    assert payload["backbone_module"] == "__main__"
    with pytest.raises(MuSEFileError, match=r"registered in the notebook or script that saved"):
        mx.load_model(tmp_path / "nb.pt")
    # a file is data: a recorded "module" that is not a dotted name is never shown as code
    payload["backbone_module"] = "os; import shutil"
    torch.save(payload, tmp_path / "odd.pt")
    with pytest.raises(MuSEFileError) as err:
        mx.load_model(tmp_path / "odd.pt")
    assert "unknown backbone 'notebook-painn'" in str(err.value)
    assert "shutil" not in str(err.value) and "import" not in str(err.value).split("register")[0]
