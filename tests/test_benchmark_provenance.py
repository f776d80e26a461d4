"""benchmarks/_models.py: a benchmark result records the models it measured, and a result of
models since retrained (or since joined by a seed) is found."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

_models = importlib.import_module("_models")


def _registry() -> dict:
    return json.loads((ROOT / "muse_explore" / "pretrained" / "registry.json").read_text())[
        "models"
    ]


def test_provenance_holds_every_shipped_seed_with_its_registry_fingerprint():
    registry = _registry()
    prov = _models.provenance({"MuSE": "muse-painn-graphene", "ref": ["GFN2-xTB"]})
    names = list(prov["MuSE"])
    assert names[0] == "muse-painn-graphene" and len(names) >= 2  # the shipped seeds too
    assert names == _models.seed_models("muse-painn-graphene")
    for name in names:
        assert prov["MuSE"][name] == registry[name]["sha256"][:16]
    assert prov["ref"] == {}  # the reference is no model file
    assert _models.stale_provenance({"provenance": prov}) == []


def test_a_replaced_model_a_missing_seed_and_a_withdrawn_name_are_found():
    prov = _models.provenance({"MuSE": "muse-painn-graphene"})["MuSE"]
    first, *seeds = prov
    replaced = {"x": {"provenance": {"MuSE": prov | {first: "0" * 16}}}}
    assert _models.stale_provenance(replaced) == [
        "MuSE: muse-painn-graphene has been replaced since it was measured"
    ]
    fewer = [{"provenance": {"MuSE": {first: prov[first]}}}]  # nested in a list
    (problem,) = _models.stale_provenance(fewer)
    assert problem.startswith("MuSE: measured with ['muse-painn-graphene'], shipped are")
    gone = {"provenance": {"old": {"painn-retired": "1" * 16}}}
    assert _models.stale_provenance(gone) == ["old: painn-retired is no longer shipped"]
    # a model file is a result about that file: not checked against the shipped models
    files = {"provenance": {"run": {"runs/protocol/x/best_model.pt": "2" * 16}}}
    assert _models.stale_provenance(files) == []


def test_results_without_provenance_are_checked_by_the_names_they_give():
    seeds = _models.seed_models("muse-painn-graphene")
    assert _models.stale_provenance({"models": {"MuSE": seeds}, "seeds": {"MuSE": seeds}}) == []
    assert _models.stale_provenance({"models": {"MuSE": "muse-painn-graphene"}}) == []
    (problem,) = _models.stale_provenance({"rows": {"MuSE": {"seeds": seeds[:1]}}})
    assert problem.startswith("measured with ['muse-painn-graphene'], shipped are")
    assert _models.stale_provenance({"models": {"LES": "painn-lr-retired"}}) == [
        "LES: painn-lr-retired is no longer shipped"
    ]
    # labels and numbers under the same keys are not model names
    assert _models.stale_provenance({"models": ["MuSE", "baseline", "MuSE-MACE"]}) == []
    assert _models.stale_provenance({"summary": {"MuSE": {"seeds": 3}}}) == []


#: results kept on purpose as a record of models that are no longer shipped, with where the
#: README says which models they are and how to measure them again
HISTORIC = {
    "peptide_holes_before_faults_data.json": "the peptide models before `peptide-faults`, "
    "commit 2cbf627 (benchmarks/README.md, Holes in the peptide models)",
}


def test_the_historic_results_are_of_retired_models_and_documented():
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    for name in HISTORIC:
        assert _models.stale_provenance(json.loads((ROOT / "benchmarks" / name).read_text()))
        assert name in readme


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in sorted((ROOT / "benchmarks").glob("*.json"))
        if p.name not in HISTORIC and not p.stem.endswith("_quick")  # scratch, git-ignored
    ],
    ids=lambda p: p.name,
)
def test_every_committed_result_is_of_the_shipped_models(path):
    problems = _models.stale_provenance(json.loads(path.read_text()))
    assert not problems, (
        f"benchmarks/{path.name} was measured with other models than the shipped ones: "
        + "; ".join(problems)
        + f" (rerun benchmarks/{path.stem}.py as benchmarks/README.md says)"
    )
