"""The README tells the truth: its API example runs, its commands are CI's, its demo is real."""

import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_api_example_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (code,) = [b for b in _blocks("python") if "build_model" in b]
    ns = {}
    exec(compile(code, "README.md", "exec"), ns)
    atoms, calc, H = ns["atoms"], ns["calc"], ns["H"]
    assert H.shape == (3 * len(atoms), 3 * len(atoms))
    assert np.allclose(H, H.T, atol=1e-8)
    assert (tmp_path / "m.pt").exists()
    assert ns["model2"].config == ns["model"].config
    assert ns["sheet"].get_stress().shape == (6,)
    for s in calc.results["assignments"] if calc.atoms is atoms else []:
        assert np.allclose(s.sum(1), 1.0)


def test_ci_runs_the_readme_test_command():
    test_cmd = next(b for b in _blocks("bash") if "pytest" in b).strip().splitlines()[-1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmd in ci.splitlines()


def test_demo_output_in_readme_is_what_the_demo_prints(capsys):
    from muse_explore.cli.main import main

    main(["demo"])
    out = capsys.readouterr().out.splitlines()
    (shown,) = [b for b in _blocks("text") if b.startswith("benzene ")]
    for line in shown.strip().splitlines():
        if line.strip():
            assert line.rstrip() in [o.rstrip() for o in out], f"README line not printed: {line!r}"
