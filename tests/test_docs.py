"""docs/api.md tells the truth: its tour runs as written, its demo output is the demo's."""

import re
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
API = (ROOT / "docs" / "api.md").read_text()


def _blocks(lang):
    return re.findall(rf"```{lang}\n(.*?)```", API, flags=re.S)


def test_levels_example_builds_what_it_says():
    (code,) = [b for b in re.findall(r"  ```python\n(.*?)  ```", API, flags=re.S) if "wide" in b]
    ns = {}
    exec(compile(textwrap.dedent(code), "docs/api.md", "exec"), ns)
    levels = ns["wide"].config.levels
    assert ns["wide"].levels == 1 and levels[1].cutoff == 12.0 and levels[1].sigma == 1.5


def test_api_tour_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (code,) = [b for b in _blocks("python") if "mx.hessian" in b]
    ns = {}
    exec(compile(code, "docs/api.md", "exec"), ns)
    atoms, calc, H = ns["atoms"], ns["calc"], ns["H"]
    assert H.shape == (3 * len(atoms), 3 * len(atoms))
    assert np.allclose(H, H.T, atol=1e-8)
    assert (tmp_path / "m.pt").exists()
    assert ns["model2"].config == ns["model"].config
    assert ns["sheet"].get_stress().shape == (6,)
    for s in calc.results["assignments"] if calc.atoms is atoms else []:
        assert np.allclose(s.sum(1), 1.0)


def test_demo_output_in_the_docs_is_what_the_demo_prints(capsys):
    # the shipped models' numbers: rerun `muse-explore demo` and paste its output after a retrain
    from muse_explore.cli.main import main

    main(["demo"])
    out = [o.rstrip() for o in capsys.readouterr().out.splitlines()]
    (shown,) = [b for b in _blocks("text") if b.startswith("benzene ")]
    timed = re.compile(r"in \d+ ms$")  # the one line whose number is a timing
    for line in shown.strip().splitlines():
        if timed.search(line):
            assert any(timed.sub("", o) == timed.sub("", line) for o in out), line
        elif line.strip():
            assert line.rstrip() in out, f"docs/api.md line not printed: {line!r}"


def test_explorer_page_example_runs_as_written():
    # docs/explorer.md's one code block, copied into a fresh notebook cell (it once used an
    # `atoms` that nothing on the page defined)
    from muse_explore.widgets import Explorer, ScanExplorer

    page = (ROOT / "docs" / "explorer.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    lines = [  # keep what each call returns
        f"_out{i} = {line}" if line.startswith("widgets.") else line
        for i, line in enumerate(code.splitlines())
    ]
    ns = {}
    exec(compile("\n".join(lines), "docs/explorer.md", "exec"), ns)
    shown = [v for k, v in ns.items() if k.startswith("_out")]
    assert [type(v) for v in shown] == [Explorer, ScanExplorer]


def test_explorer_page_names_of_the_data_layer_import_from_it():
    # each name that docs/explorer.md lists under `muse_explore.explore` imports from there
    # (reference_curve and influence_colors once lived only in their submodules)
    import importlib

    import muse_explore.explore as layer

    page = (ROOT / "docs" / "explorer.md").read_text()
    section = page.split("* **`muse_explore.explore`**")[1].split("* **`muse_explore.widgets`**")[0]
    names = []
    for listed in re.findall(r"^  \* ((?:`[^`]+`(?:, )?)+):", section, flags=re.M):
        names += [re.match(r"[A-Za-z_]\w*", n).group() for n in re.findall(r"`([^`]+)`", listed)]
    assert len(names) >= 12, names
    names += ["influence_colors"]  # named in the page's prose, not in a list item's head
    assert "reference_curve" in names
    for name in names:
        found = hasattr(layer, name) or importlib.util.find_spec(f"muse_explore.explore.{name}")
        assert found, f"docs/explorer.md lists {name!r}, which muse_explore.explore lacks"
