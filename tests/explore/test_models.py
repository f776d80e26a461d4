import copy

import pytest
import torch
from torch.optim.swa_utils import AveragedModel

import muse_explore as mx
from muse_explore.errors import MuSEFileError, MuSEInputError
from muse_explore.explore.models import resolve_model
from muse_explore.training.checkpoint import save_checkpoint

from ..conftest import small_model


def _energy(model, atoms) -> float:
    a = atoms.copy()
    a.calc = mx.MuSECalculator(copy.deepcopy(model))
    return a.get_potential_energy()


def test_a_model_and_a_calculator_give_that_model():
    model = small_model()
    assert resolve_model(model) is model
    assert resolve_model(mx.MuSECalculator(model)) is model


def test_a_pretrained_name_and_a_model_file_load_the_same_weights(tmp_path, water_on_coronene):
    by_name = resolve_model("painn-graphene")
    path = tmp_path / "model.pt"
    by_name.save(path)
    for spec in (path, str(path)):
        loaded = resolve_model(spec)
        assert loaded is not by_name
        assert _energy(loaded, water_on_coronene) == _energy(by_name, water_on_coronene)


def test_a_training_checkpoint_gives_its_ema_weights(tmp_path, water_on_coronene):
    model, ema_model = small_model(), small_model()
    with torch.no_grad():
        for p in ema_model.parameters():
            p.add_(0.01)  # EMA weights that differ from the raw ones
    ema = AveragedModel(ema_model, use_buffers=True)
    path = tmp_path / "last.pt"
    save_checkpoint(
        path,
        {
            "model_config": model.config.to_dict(),
            "model": model.state_dict(),
            "ema": ema.state_dict(),
        },
    )
    loaded = resolve_model(path)
    e = _energy(loaded, water_on_coronene)
    assert e == pytest.approx(_energy(ema_model, water_on_coronene), abs=1e-10)
    assert abs(e - _energy(model, water_on_coronene)) > 1e-6


def test_a_checkpoint_of_an_unknown_backbone_is_a_file_error(tmp_path):
    model = small_model()
    config = model.config.to_dict() | {"backbone": "not-registered"}
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"model_config": config, "model": model.state_dict(), "ema": None})
    with pytest.raises(MuSEFileError, match="last.pt: a checkpoint .* unknown backbone"):
        resolve_model(path)


def test_bad_specs_are_named(tmp_path):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a torch file")
    with pytest.raises(MuSEFileError, match="corrupt.pt.*corrupt or truncated"):
        resolve_model(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(MuSEFileError, match="neither a muse_explore model file nor a checkpoint"):
        resolve_model(foreign)
    with pytest.raises(MuSEInputError, match="'painn-grapheen' is neither a pretrained model"):
        resolve_model("painn-grapheen")
    with pytest.raises(MuSEInputError, match="missing.pt' is neither"):
        resolve_model(tmp_path / "missing.pt")
    with pytest.raises(MuSEInputError, match="got Linear"):
        resolve_model(torch.nn.Linear(2, 2))
