"""Every teaching notebook runs top to bottom (outputs are not written back)."""

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


def test_the_five_notebooks_are_there():
    assert NAMES == [
        "01_quickstart.ipynb",
        "02_graphene_scans.ipynb",
        "03_why_local_models_miss_long_range.ipynb",
        "04_train_your_own.ipynb",
        "05_folding.ipynb",
    ]


def test_notebooks_match_their_generator():
    """The committed .ipynb files are what notebooks/make_notebooks.py writes."""
    import importlib.util

    import nbformat

    spec = importlib.util.spec_from_file_location("make_nb", NOTEBOOKS / "make_notebooks.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for name, cells in mod.NOTEBOOKS.items():
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert [c.source for c in nb.cells] == [src for _, src in cells], name
        kinds = ["markdown" if k == "md" else "code" for k, _ in cells]
        assert [c.cell_type for c in nb.cells] == kinds, name
        assert [c.id for c in nb.cells] == [f"{name[:2]}-cell-{k:02d}" for k in range(len(cells))]
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), name


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]  # fmt: skip
    assert not errors, errors
