import pytest

from muse_explore.errors import MuSEConfigError
from muse_explore.models.levels import (
    LevelConfig,
    complete_levels,
    default_levels,
    levels_from_lists,
)


def test_deeper_default_levels_double_the_last_ones():
    levels = default_levels(4)
    assert len(levels) == 5
    for below, lev in zip(levels[2:], levels[3:], strict=False):
        for key in ("cutoff", "hops", "sigma"):
            assert lev[key] == 2 * below[key]


def test_flat_lists_set_exactly_their_field():
    base = default_levels(2)
    levels = levels_from_lists(2, hops=[3, 5])
    assert [lev["hops"] for lev in levels[1:]] == [3, 5]
    assert [{k: v for k, v in lev.items() if k != "hops"} for lev in levels] == [
        {k: v for k, v in lev.items() if k != "hops"} for lev in base
    ]
    with pytest.raises(MuSEConfigError, match="hops needs 2 value"):
        levels_from_lists(2, hops=[3])
    with pytest.raises(MuSEConfigError, match="unknown per-level key"):
        levels_from_lists(2, radius=[3])


def test_completed_levels_are_frozen_and_typed():
    levels = complete_levels(
        [{"cutoff": 4, "num_interactions": 2}, {"cutoff": 8, "hops": 2, "sigma": 1}]
    )
    assert levels[1] == LevelConfig(8.0, 1, 2, 4.0, 1.0, 1.0)
    assert isinstance(levels[1].cutoff, float) and isinstance(levels[0].num_interactions, int)
    with pytest.raises(AttributeError):
        levels[1].sigma = 2.0  # one owner: changes make a new config
    assert LevelConfig.from_dict(levels[1].to_dict()) == levels[1]
    assert set(levels[0].to_dict()) == {"cutoff", "num_interactions"}
