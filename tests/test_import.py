"""A fast, quiet start: ``import muse_explore`` and ``muse-explore --help`` stay light."""

import subprocess
import sys


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return set(out.stdout.split())


def test_import_and_help_do_not_load_torch():
    # counting modules, not seconds: the heavy libraries must not be imported at all
    for code in ("import muse_explore", "from muse_explore.cli.main import main\n"
                 "try:\n    main(['--help'])\nexcept SystemExit:\n    pass"):  # fmt: skip
        loaded = _modules_after(code)
        assert not {"torch", "torch_geometric", "ase", "e3nn"} & loaded, code


def test_public_names_and_subpackages_resolve_on_first_use():
    import muse_explore as mx

    assert callable(mx.build_model) and mx.MuSECalculator.__name__ == "MuSECalculator"
    assert callable(mx.calc.tune_cpu_allocator) and callable(mx.testing.rattle)
    assert set(mx.__all__) <= set(dir(mx))
    try:
        mx.no_such_thing  # noqa: B018
    except AttributeError as err:
        assert "no_such_thing" in str(err)
    else:
        raise AssertionError("an unknown attribute must raise AttributeError")
