import pytest
import torch

from muse_explore.calc import threads
from muse_explore.errors import MuSEConfigError


@pytest.fixture
def fresh(monkeypatch):
    """A process that has not chosen its threads yet; torch's count restored afterwards."""
    before = torch.get_num_threads()
    monkeypatch.setattr(threads, "_applied", False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delenv("MUSE_EXPLORE_THREADS", raising=False)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    torch.set_num_threads(4)
    yield monkeypatch
    torch.set_num_threads(before)


@pytest.mark.parametrize("load, expected", [(0.2, 4), (1.6, 2), (3.7, 1), (12.0, 1)])
def test_busy_machine_gets_fewer_threads(fresh, load, expected):
    fresh.setattr(threads.os, "getloadavg", lambda: (load, 0.0, 0.0))
    assert threads.free_cores() == expected
    assert threads.apply_thread_default() == expected == torch.get_num_threads()
    fresh.setattr(threads.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert threads.apply_thread_default() == expected  # once per process, never raised


def test_omp_num_threads_and_the_override_are_honoured(fresh):
    fresh.setattr(threads.os, "getloadavg", lambda: (12.0, 0.0, 0.0))
    fresh.setenv("OMP_NUM_THREADS", "4")
    assert threads.apply_thread_default() == 4
    fresh.setattr(threads, "_applied", False)
    fresh.setenv("MUSE_EXPLORE_THREADS", "3")
    assert threads.apply_thread_default() == 3
    fresh.setattr(threads, "_applied", False)
    for bad, message in [("many", "a whole number, got 'many'"), ("0", "at least 1, got 0")]:
        fresh.setenv("MUSE_EXPLORE_THREADS", bad)
        for _ in range(2):  # every call, not only the first
            with pytest.raises(MuSEConfigError, match=f"MUSE_EXPLORE_THREADS must be {message}"):
                threads.apply_thread_default()


def test_a_bad_thread_count_is_a_clean_command_error(fresh, capsys):
    from muse_explore.cli.main import main

    fresh.setenv("MUSE_EXPLORE_THREADS", "abc")
    assert main(["hessian", "no-model.pt", "no.xyz"]) != 0
    err = capsys.readouterr().err
    assert "MUSE_EXPLORE_THREADS must be a whole number" in err and "Traceback" not in err


def test_calculator_applies_the_default(fresh):
    import muse_explore as mx

    fresh.setattr(threads.os, "getloadavg", lambda: (9.0, 0.0, 0.0))
    mx.MuSECalculator(mx.build_model(levels=0, hidden=8, seed=0))
    assert torch.get_num_threads() == 1
