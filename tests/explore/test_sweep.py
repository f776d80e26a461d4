import numpy as np
import pytest

from muse_explore.explore import sweep_values


def test_a_sweep_goes_up_and_back_without_a_jump_when_it_loops():
    v = sweep_values("sigma", 5, low=0.5, high=8.0)
    assert len(v) == 8 and v[0] == 0.5 and v.max() == 8.0
    steps = np.diff(np.log(np.r_[v, v[0]]))  # the loop closes smoothly, one ratio per step
    np.testing.assert_allclose(np.abs(steps), np.log(2.0))
    assert (v > 0).all()


def test_bad_sweeps_name_the_problem():
    with pytest.raises(ValueError, match="kind must be one of"):
        sweep_values("colour")
    with pytest.raises(ValueError, match="0 < low < high"):
        sweep_values("sigma", low=2.0, high=1.0)
