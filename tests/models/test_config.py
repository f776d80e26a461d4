import pytest

from muse_explore.errors import MuSEConfigError
from muse_explore.models.config import MuSEConfig


def test_defaults_per_level():
    c = MuSEConfig(elements=["H", "C"], levels=2)
    assert c.cutoffs == (5.0, 10.0, 20.0)
    assert c.assign_radius == (5.0, 10.0)
    assert c.hops == (2, 4) and c.sigma == (1.5, 3.0)
    assert MuSEConfig.from_dict(c.to_dict()) == c


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"levels": -1}, "levels"),
        ({"elements": []}, "elements"),
        ({"elements": ["H", "Xx"]}, "unknown chemical symbol"),
        ({"cutoffs": (5.0, 10.0)}, "cutoffs needs 3"),
        ({"assign_radius": (6.0, 10.0)}, "exceeds cutoffs"),
        ({"sigma": (0.0, 1.0)}, "sigma must be positive"),
        ({"temperature": 0.0}, "temperature"),
        ({"energy_shifts": {"N": 1.0}}, "energy_shifts"),
    ],
)
def test_invalid_configs_name_the_field(kwargs, message):
    kwargs = {"elements": ["H", "C"], **kwargs}
    with pytest.raises(MuSEConfigError, match=message):
        MuSEConfig(**kwargs)


def test_unknown_field_and_backbone():
    with pytest.raises(MuSEConfigError, match="unknown configuration field"):
        MuSEConfig.from_dict({"elements": ["H"], "colour": "red"})
    import muse_explore as mx

    with pytest.raises(MuSEConfigError, match="unknown backbone 'nope'"):
        mx.build_model(backbone="nope")
    with pytest.raises(MuSEConfigError, match="bad hyperparameters"):
        mx.build_model(backbone_kwargs={"wings": 2})


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("hidden", [8], "hidden must be an integer"),
        ("elements", "HCNOCl", "elements must be a list"),
        ("levels", True, "levels must be an integer"),
        ("temperature", "1", "temperature must be a number"),
        ("hard", 1, "hard must be bool"),
        ("cutoffs", ["5", "10", "20"], "cutoffs must be a number or a list"),
        ("backbone_kwargs", [], "backbone_kwargs must be dict"),
    ],
)
def test_fields_are_type_checked_by_name(field, value, fragment):
    kwargs = {"elements": ["H", "C"], field: value}
    with pytest.raises(MuSEConfigError, match=fragment):
        MuSEConfig(**kwargs)


def test_numpy_numbers_are_accepted():
    import numpy as np

    c = MuSEConfig(elements=("H", "C"), hidden=np.int64(8), temperature=np.float32(0.5))
    assert c.elements == ["H", "C"] and c.hidden == 8
