"""``--help`` is plain text for a terminal, and what it says is true."""

import json
import re

import pytest

from muse_explore.cli.helptext import plain
from muse_explore.cli.main import SUBCOMMANDS, main
from muse_explore.pretrained import list_pretrained


def _help(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def test_plain_strips_inline_markup():
    text = "``make-data SET``, the `lab` command, :class:`~muse_explore.MuSE` and 2 * 3"
    assert plain(text) == "make-data SET, the lab command, MuSE and 2 * 3"


@pytest.mark.parametrize("command", [None, *SUBCOMMANDS])
def test_no_markup_in_any_help(capsys, command):
    out = _help(capsys, *([command] if command else []))
    assert "`" not in out and ":class:" not in out


def test_make_data_help_is_its_docstring_in_plain_paragraphs(capsys):
    out = _help(capsys, "make-data")
    assert "muse-explore make-data SET: GFN2-xTB reference data (needs the [reference]" in out
    assert "\n\nSets: graphene (molecules over circumcoronene" in out  # paragraphs kept
    assert "\n\nThermal sets (" in out


def test_hessian_help_lists_the_pretrained_models(capsys):
    out = " ".join(_help(capsys, "hessian").split())
    (listed,) = re.findall(
        r"a pretrained model \((.*?)\), a model file or a training checkpoint", out
    )
    assert listed.split(", ") == list_pretrained() != []
    assert "demo lists" not in out  # the demo prints no list


def test_hessian_help_survives_a_missing_or_broken_registry(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MUSE_EXPLORE_DATA", str(tmp_path))
    out = " ".join(_help(capsys, "hessian").split())
    assert "print(mx.list_pretrained())' lists them" in out
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "registry.json").write_text("{not json")
    assert "print(mx.list_pretrained())' lists them" in " ".join(_help(capsys, "hessian").split())
    registry = {"format": 1, "models": {"my-model": {"file": "my-model.pt"}}}
    (tmp_path / "models" / "registry.json").write_text(json.dumps(registry))
    assert "(my-model), a model file or a training checkpoint" in " ".join(
        _help(capsys, "hessian").split()
    )
