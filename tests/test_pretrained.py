import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import muse_explore as mx
from muse_explore.pretrained import list_pretrained, model_card, models_dir, pretrained_path

from .conftest import small_model

ROOT = Path(__file__).resolve().parents[1]
# the shipped models predate the repaired core; their legacy warning is not the subject here
pytestmark = pytest.mark.filterwarnings("ignore::muse_explore.MuSELegacyModelWarning")


@pytest.fixture
def shipped(monkeypatch):
    """The package's own models folder, whatever the environment says."""
    monkeypatch.delenv("MUSE_EXPLORE_DATA", raising=False)
    return models_dir()


@pytest.fixture
def copied(tmp_path, monkeypatch, shipped):
    """A ``$MUSE_EXPLORE_DATA/models`` folder holding a registered copy of painn-graphene."""
    folder = tmp_path / "models"
    folder.mkdir()
    for suffix in (".pt", ".md", ".splits.json"):
        shutil.copyfile(shipped / f"painn-graphene{suffix}", folder / f"painn-graphene{suffix}")
    registry = json.loads((shipped / "registry.json").read_text())
    registry["models"] = {"painn-graphene": registry["models"]["painn-graphene"]}
    (folder / "registry.json").write_text(json.dumps(registry))
    monkeypatch.setenv("MUSE_EXPLORE_DATA", str(tmp_path))
    return folder


def test_load_pretrained_takes_a_name_or_a_path(tmp_path):
    assert "muse-painn-graphene" in list_pretrained()
    path = tmp_path / "mine.pt"
    model = small_model()
    model.save(path)
    for given in (path, str(path)):
        calc = mx.load_pretrained(given, dtype="float64")
        assert calc.model.config == model.config
    with pytest.raises(mx.MuSEFileError, match="no model file"):
        mx.load_pretrained(tmp_path / "absent.pt")
    with pytest.raises(mx.MuSEFileError, match="available: .*muse-painn-graphene"):
        mx.load_pretrained("no-such-model")


def test_the_registry_lists_exactly_the_shipped_models_and_their_hashes_match(shipped):
    # a retrained model copied in without `muse-explore export` (or not added to the
    # registry) fails here
    assert shipped == ROOT / "muse_explore" / "pretrained"
    registry = json.loads((shipped / "registry.json").read_text())["models"]
    assert list_pretrained() == sorted(registry) == sorted(p.stem for p in shipped.glob("*.pt"))
    for name, entry in registry.items():
        data = (shipped / entry["file"]).read_bytes()
        assert entry["file"] == f"{name}.pt"
        assert entry["bytes"] == len(data), name
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert (shipped / entry["card"]).is_file() and (shipped / entry["splits"]).is_file()
        assert model_card(name).startswith(f"# {name}\n")
        assert pretrained_path(name) == shipped / entry["file"]


def test_a_damaged_model_file_is_refused_before_torch_reads_it(copied):
    path = copied / "painn-graphene.pt"
    data = path.read_bytes()
    expected = hashlib.sha256(data).hexdigest()
    assert mx.load_pretrained("painn-graphene").model.config.coarse_levels == 0  # the intact copy

    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(flipped))
    actual = hashlib.sha256(flipped).hexdigest()
    with pytest.raises(mx.MuSEFileError) as err:
        mx.load_pretrained("painn-graphene")
    message = str(err.value)
    for text in (str(path), f"sha256 {expected}", f"sha256 {actual}", "content differs"):
        assert text in message, text

    path.write_bytes(data[:1000])
    with pytest.raises(mx.MuSEFileError, match=f"expected {len(data)} bytes.*found 1000 bytes"):
        mx.load_pretrained("painn-graphene")
    with pytest.raises(mx.MuSEFileError, match="truncated download"):
        pretrained_path("painn-graphene")

    path.write_text(f"version https://git-lfs.github.com/spec/v1\noid sha256:{expected}\n")
    with pytest.raises(mx.MuSEFileError, match="git-lfs pointer.*git lfs pull"):
        mx.load_pretrained("painn-graphene")


def test_a_model_file_missing_from_the_registry_is_not_listed(copied):
    shutil.copyfile(copied / "painn-graphene.pt", copied / "stray.pt")
    assert list_pretrained() == ["painn-graphene"]
    with pytest.raises(mx.MuSEFileError, match="stray.pt is not in .*registry.json"):
        mx.load_pretrained("stray")
    by_path = mx.load_pretrained(copied / "stray.pt")  # by path it loads
    assert by_path.model.config.coarse_levels == 0
    (copied / "registry.json").write_text("{not json")
    with pytest.raises(mx.MuSEFileError, match="registry.json is not a pretrained-models"):
        list_pretrained()


def _run(*args, **kwargs):
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if done.returncode:
        pytest.fail(f"{' '.join(args[:4])} ... failed:\n{done.stdout}\n{done.stderr}")
    return done


def test_a_wheel_install_ships_the_models(tmp_path):
    # built from a copy of the sources, so that a stale build/ folder in the checkout cannot
    # add or hide files; offline: no build isolation, no index (about 10 s in all)
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".tmp-*")
    shutil.copytree(ROOT / "muse_explore", src / "muse_explore", ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, src / name)
    env = {k: v for k, v in os.environ.items() if k != "MUSE_EXPLORE_DATA"}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INDEX="1")
    pip = (sys.executable, "-m", "pip")
    _run(*pip, "wheel", ".", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"),
         cwd=src, env=env)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("muse_explore-*.whl")
    # a fresh venv outside the repository; its dependencies (torch, PyG, ASE, ...) come from
    # this environment's site-packages through a path file, whose own .pth files (the editable
    # install of the checkout among them) are not processed: muse_explore is the wheel's
    venv_dir = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv_dir), env=env)
    python = venv_dir / "bin" / "python"
    (site,) = venv_dir.glob("lib/python*/site-packages")
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (site / "borrowed-dependencies.pth").write_text("\n".join(deps) + "\n")
    _run(*pip, "install", "--no-deps", "--target", str(site), str(wheel), env=env)
    code = """
import math, sys
from pathlib import Path
from ase.build import molecule
import muse_explore as mx
from muse_explore.pretrained import models_dir
site = Path(sys.argv[1]).resolve()
assert Path(mx.__file__).resolve().is_relative_to(site), mx.__file__
assert models_dir().resolve().is_relative_to(site), models_dir()
names = mx.list_pretrained()
assert "muse-painn-graphene" in names, names
energies = []
for name in names:  # every shipped model loads and evaluates from the wheel alone
    atoms = molecule("C6H6")
    atoms.calc = mx.load_pretrained(name)
    energies.append(atoms.get_potential_energy())
    assert math.isfinite(energies[-1]), (name, energies[-1])
print(len(names), max(energies))
"""
    env.pop("PYTHONPATH", None)
    out = _run(str(python), "-c", code, str(site), cwd=tmp_path, env=env)
    count, highest = out.stdout.split()[-2:]
    assert int(count) == len(list_pretrained())
    assert float(highest) < 0  # absolute GFN2-xTB scale: large and negative


def test_every_shipped_model_names_the_data_its_split_indexes():
    from muse_explore.pretrained import model_data
    from muse_explore.training.dataset import load_splits

    for name in list_pretrained():
        data = model_data(name)
        assert data["files"], name
        for f in data["files"] + data["train_only_files"]:
            assert (ROOT / f).is_file(), (name, f)
        splits = load_splits(pretrained_path(name).with_suffix(".splits.json"))
        assert splits["test"], name


def test_the_docs_count_and_list_every_shipped_model():
    """docs/training.md's "The shipped models" names how many ship and has a row for each."""
    text = (ROOT / "docs" / "training.md").read_text()
    words = "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    words += "fourteen fifteen sixteen seventeen eighteen nineteen twenty"
    number = {w: i for i, w in enumerate(words.split())}
    said = re.search(r"^(\w+) models ship inside the package", text, flags=re.M)
    shipped = list_pretrained()
    assert said and number.get(said.group(1).lower()) == len(shipped), said
    rows = set(re.findall(r"^\| `([\w-]+)` \|", text, flags=re.M))
    assert set(shipped) <= rows, set(shipped) - rows
