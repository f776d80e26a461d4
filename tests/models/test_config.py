import pytest

from muse_explore.errors import MuSEConfigError
from muse_explore.models.config import MuSEConfig
from muse_explore.models.levels import LevelConfig


def test_a_number_of_levels_is_the_default_hierarchy_and_round_trips():
    c = MuSEConfig(elements=["H", "C"], levels=2)
    assert c.coarse_levels == 2 and len(c.levels) == 3
    assert all(isinstance(lev, LevelConfig) for lev in c.levels)
    assert not c.levels[0].coarse and all(lev.coarse for lev in c.levels[1:])
    # each coarse level reaches further than the one below and assigns through its graph
    for below, lev in zip(c.levels, c.levels[1:], strict=False):
        assert lev.cutoff > below.cutoff and lev.assign_radius == below.cutoff
    assert c.cutoffs == tuple(lev.cutoff for lev in c.levels)
    assert MuSEConfig.from_dict(c.to_dict()) == c


def test_flat_lists_and_level_lists_give_one_config():
    flat = MuSEConfig.from_dict(
        {"elements": ["H"], "levels": 1, "cutoffs": [4.0, 9.0], "sigma": [2.0], "temperature": 0.5}
    )
    listed = MuSEConfig(
        elements=["H"],
        levels=[{"cutoff": 4.0, "num_interactions": 3}, {"cutoff": 9.0, "hops": 2, "sigma": 2.0,
                                                          "temperature": 0.5}],
    )  # fmt: skip
    assert flat == listed
    assert flat.levels[1].assign_radius == 4.0  # follows the overridden cutoff below


def test_with_pooling_returns_a_new_config_and_leaves_the_old_one():
    c = MuSEConfig(elements=["H", "C"], levels=2)
    d = c.with_pooling(sigma=0.7, level=2, hard=True)
    assert d is not c and d.hard and not c.hard
    assert d.levels[2].sigma == 0.7 and d.levels[1] == c.levels[1] and c.levels[2].sigma != 0.7
    assert c.backbone_only().levels == c.levels[:1]
    with pytest.raises(MuSEConfigError, match="sigma must be positive"):
        c.with_pooling(sigma=-1.0)
    with pytest.raises(MuSEConfigError, match="temperature must be positive and finite"):
        c.with_pooling(temperature=float("inf"))
    with pytest.raises(MuSEConfigError, match="level must be in 1..2"):
        c.with_pooling(sigma=1.0, level=3)


def test_backbone_only_forgets_the_down_pass_with_the_coarse_levels():
    shared = MuSEConfig(elements=["H", "C"], levels=2, unpool="share")
    plain = MuSEConfig(elements=["H", "C"], levels=0)
    assert shared.backbone_only() == plain and shared.unpool == "share"
    assert shared.backbone_only().unpool == "member"
    weighted = MuSEConfig(elements=["H", "C"], levels=2, mass_weighted=True)
    assert weighted.backbone_only() == plain and not weighted.backbone_only().mass_weighted


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"levels": -1}, "levels"),
        ({"elements": []}, "elements"),
        ({"elements": ["H", "Xx"]}, "unknown chemical symbol"),
        ({"cutoffs": (5.0, 10.0)}, "cutoffs needs 3"),
        ({"assign_radius": (6.0, 10.0)}, r"levels\[1\].assign_radius = 6.0 Å exceeds"),
        ({"sigma": (0.0, 1.0)}, r"levels\[1\].sigma must be positive"),
        ({"temperature": 0.0}, "temperature must be positive"),
        ({"levels": [{"cutoff": float("nan")}]}, r"levels\[0\].cutoff must be positive and finite"),
        ({"levels": [{"cutoff": float("inf")}]}, r"levels\[0\].cutoff must be positive and finite"),
        ({"sigma": (float("nan"), 1.0)}, r"levels\[1\].sigma must be positive and finite"),
        ({"long_range_sigma": float("nan")}, "long_range_sigma must be positive and finite"),
        ({"energy_shifts": {"H": float("nan")}}, "energy_shifts must be finite"),
        ({"energy_shifts": {"H": "a lot"}}, "energy_shifts must map elements to numbers"),
        ({"energy_shifts": {"N": 1.0}}, "energy_shifts"),
        ({"levels": [{"cutoff": 5.0, "sigma": 1.0}]}, "atom level and has no sigma"),
        ({"levels": [{"cutoff": 5.0}, {"cutoff": 9.0}]}, "coarse level and needs hops and sigma"),
        ({"levels": [{"cutoff": 5.0, "colour": 1}]}, r"levels\[0\]: unknown key\(s\) \['colour'\]"),
        ({"levels": [{"cutoff": 5.0}], "sigma": [1.0]}, "per-level lists go with levels given"),
        ({"unpool": "copy"}, r"unpool must be one of \('member', 'share'\)"),
        ({"mass_weighted": 1}, "mass_weighted must be bool"),
        ({"seed": -1}, r"seed must be in 0 .. 2\*\*63 - 1"),
        ({"seed": 2**70}, r"seed must be in 0 .. 2\*\*63 - 1"),
    ],
)
def test_invalid_configs_name_the_field(kwargs, message):
    with pytest.raises(MuSEConfigError, match=message):
        MuSEConfig.from_dict({"elements": ["H", "C"], **kwargs})


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
        ("levels", True, "levels must be a number of coarse levels"),
        ("temperature", "1", "temperature must be a number"),
        ("hard", 1, "hard must be bool"),
        ("cutoffs", ["5", "10", "20"], "cutoffs must be a number or a list"),
        ("backbone_kwargs", [], "backbone_kwargs must be dict"),
    ],
)
def test_fields_are_type_checked_by_name(field, value, fragment):
    with pytest.raises(MuSEConfigError, match=fragment):
        MuSEConfig.from_dict({"elements": ["H", "C"], field: value})


def test_numpy_numbers_are_accepted():
    import numpy as np

    c = MuSEConfig.from_dict(
        {"elements": ("H", "C"), "hidden": np.int64(8), "temperature": np.float32(0.5)}
    )
    assert c.elements == ["H", "C"] and c.hidden == 8 and c.levels[1].temperature == 0.5
