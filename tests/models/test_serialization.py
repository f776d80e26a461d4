import os
import pickle
import shutil
import warnings

import pytest
import torch

import muse_explore as mx
from muse_explore.errors import MuSEFileError

from ..conftest import small_model


def test_round_trip_gives_identical_energies(tmp_path, water_on_coronene):
    model = small_model(energy_shifts={"H": -0.5})
    model.set_pooling(sigma=2.0)
    path = tmp_path / "m.pt"
    model.save(path)
    assert os.listdir(tmp_path) == ["m.pt"]  # no temporary file left behind
    loaded = mx.load_model(path)
    assert loaded.config == model.config
    e = []
    for m in (model, loaded):
        a = water_on_coronene.copy()
        a.calc = mx.MuSECalculator(m)
        e.append(a.get_potential_energy())
    assert e[0] == e[1]
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == "muse_explore.model"
    assert payload["elements"] == ["H", "C", "N", "O"]
    assert payload["energy_shifts"] == {"H": -0.5}
    assert payload["package_version"] == mx.__version__


def test_missing_corrupt_and_foreign_files(tmp_path):
    with pytest.raises(MuSEFileError, match="no model file"):
        mx.load_model(tmp_path / "absent.pt")
    with pytest.raises(MuSEFileError, match="takes the path of a model file, got NoneType"):
        mx.load_model(None)
    good = tmp_path / "good.pt"
    small_model().save(good)
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(MuSEFileError, match="corrupt or truncated"):
        mx.load_model(truncated)
    garbage = tmp_path / "garbage.pt"
    garbage.write_text("not a model")
    with pytest.raises(MuSEFileError, match="corrupt or truncated"):
        mx.load_model(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(MuSEFileError, match="not a muse_explore model file"):
        mx.load_model(foreign)
    pickled = tmp_path / "pickled.pt"
    pickled.write_bytes(pickle.dumps({"weights": [1, 2]}, protocol=4))
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        with pytest.raises(MuSEFileError, match="corrupt or truncated"):
            mx.load_model(pickled)
    assert not shown, [str(w.message) for w in shown]  # torch's pickle-protocol warning
    with pytest.raises(MuSEFileError, match="is a folder, not a model file$"):
        mx.load_model(tmp_path)
    run = tmp_path / "run"
    run.mkdir()
    shutil.copyfile(good, run / "best_model.pt")
    with pytest.raises(MuSEFileError, match=r"is a folder, not a model file: load .*best_model"):
        mx.load_model(run)


def test_weights_not_matching_config(tmp_path):
    path = tmp_path / "m.pt"
    small_model().save(path)
    payload = torch.load(path, weights_only=True)
    payload["config"]["hidden"] = 32
    torch.save(payload, path)
    with pytest.raises(MuSEFileError, match="weights do not match"):
        mx.load_model(path)
    payload["config"]["levels"] = "two"
    torch.save(payload, path)
    with pytest.raises(MuSEFileError, match="invalid model configuration"):
        mx.load_model(path)


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"
    small_model().save(path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        small_model(hidden=8).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.pt"]


def test_error_messages_name_the_problem_and_never_suggest_unsafe_loading(tmp_path):
    noise = tmp_path / "noise.pt"
    noise.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(MuSEFileError) as err:
        mx.load_model(noise)
    assert "weights_only" not in str(err.value) and "corrupt or truncated" in str(err.value)
    path = tmp_path / "m.pt"
    small_model().save(path)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["extra.weight"] = torch.zeros(2)
    del payload["state_dict"]["unpool_maps.0.bias"]
    torch.save(payload, path)
    with pytest.raises(MuSEFileError, match="unpool_maps.0.bias") as err:
        mx.load_model(path)
    assert "extra.weight" in str(err.value)


def _saved_in_format(model, path, version: int, dropped: str):
    """Save ``model`` as a file of model format ``version`` would be (without ``dropped``)."""
    model.save(path)
    payload = torch.load(path, weights_only=True)
    payload["format_version"] = version
    del payload["config"][dropped]
    torch.save(payload, path)
    return mx.load_model(path)


def _energies(models, atoms) -> list[float]:
    """The energy of ``atoms`` with each model (float64 calculators)."""
    out = []
    for model in models:
        a = atoms.copy()
        a.calc = mx.MuSECalculator(model)
        out.append(a.get_potential_energy())
    return out


def _new_files_have(field: str, tmp_path) -> None:
    new = small_model()
    assert getattr(new.config, field) is True
    new.save(tmp_path / "new.pt")
    assert getattr(mx.load_model(tmp_path / "new.pt").config, field) is True


def test_files_before_format_4_load_without_the_assignment_normalisation(tmp_path):
    # a format-3 file has no assignment_norm: its model must compute what it computed then
    old = small_model(assignment_norm=False)
    loaded = _saved_in_format(old, tmp_path / "old.pt", 3, "assignment_norm")
    assert loaded.config.assignment_norm is False
    assert isinstance(loaded.assignments[0].norm, torch.nn.Identity)
    _new_files_have("assignment_norm", tmp_path)


def test_files_before_format_5_load_without_the_pool_normalisation(tmp_path, water_on_coronene):
    # a format-4 file (the shipped models of 2026-12-02) has no pool_norm: it loads with the
    # coarse levels pooling raw features, so its numbers do not change
    old = small_model(pool_norm=False)
    loaded = _saved_in_format(old, tmp_path / "old.pt", 4, "pool_norm")
    assert loaded.config.pool_norm is False and loaded.config.assignment_norm is True
    energies = _energies((old, loaded, small_model()), water_on_coronene)
    assert energies[1] == energies[0]
    assert abs(energies[2] - energies[0]) > 1e-6  # same weights, normalised pooling
    _new_files_have("pool_norm", tmp_path)


def test_the_shared_down_pass_round_trips_and_older_files_copy(tmp_path, water_on_coronene):
    # unpool defaults to "member", what every file before the option computed; a "share"
    # model keeps it through a save, and the same weights give another energy
    shared = small_model(unpool="share")
    shared.save(tmp_path / "shared.pt")
    loaded = mx.load_model(tmp_path / "shared.pt")
    assert loaded.config.unpool == "share"
    old = _saved_in_format(small_model(), tmp_path / "old.pt", 5, "unpool")
    assert old.config.unpool == "member"
    energies = _energies((shared, loaded, small_model()), water_on_coronene)
    assert energies[1] == energies[0]
    assert abs(energies[2] - energies[0]) > 1e-6


def test_mass_weighting_round_trips_and_older_files_have_none(tmp_path, water_on_coronene):
    weighted = small_model(mass_weighted=True)
    weighted.save(tmp_path / "weighted.pt")
    loaded = mx.load_model(tmp_path / "weighted.pt")
    assert loaded.config.mass_weighted is True
    old = _saved_in_format(small_model(), tmp_path / "old.pt", 5, "mass_weighted")
    assert old.config.mass_weighted is False
    energies = _energies((weighted, loaded, small_model()), water_on_coronene)
    assert energies[1] == energies[0]
    assert abs(energies[2] - energies[0]) > 1e-6  # same weights: the weighting acts


def test_a_checkpoint_loaded_as_a_model_says_what_it_is(tmp_path):
    from muse_explore.training.checkpoint import save_checkpoint

    save_checkpoint(tmp_path / "last.pt", {"model_config": small_model().config.to_dict()})
    with pytest.raises(MuSEFileError, match="is a training checkpoint, not a model file"):
        mx.load_model(tmp_path / "last.pt")


def test_checkpoints_record_their_model_format(tmp_path):
    from muse_explore.training.checkpoint import (
        checkpoint_model_config,
        load_checkpoint,
        save_checkpoint,
    )

    config = small_model().config.to_dict()
    save_checkpoint(tmp_path / "new.pt", {"model_config": config})
    state = load_checkpoint(tmp_path / "new.pt")
    assert checkpoint_model_config(state).assignment_norm is True
    assert checkpoint_model_config(state).pool_norm is True
    state["model_format"] = 4
    del state["model_config"]["pool_norm"]
    assert checkpoint_model_config(state).pool_norm is False
    assert checkpoint_model_config(state).assignment_norm is True
    del state["model_format"]  # a checkpoint written before the format was recorded
    del state["model_config"]["assignment_norm"]
    assert checkpoint_model_config(state).assignment_norm is False
