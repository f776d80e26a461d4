"""Does a one-change experiment cost anything? Its run against the protocol's seeds, by a rule.

    mkdir -p /tmp/h && git archive 35b34b1 runs/experiments | tar -x -C /tmp/h
    git archive 313d46f runs/protocol | tar -x -C /tmp/h
    python benchmarks/experiment_cost.py /tmp/h/runs/experiments/painn-peptide-c7 \
        --controls /tmp/h/runs/protocol/painn-peptide /tmp/h/runs/protocol/painn-peptide-seed1
    OMP_NUM_THREADS=1 python benchmarks/conformers.py --out /tmp/c.json --models \
        X=/tmp/h/runs/experiments/painn-peptide-c7/best_model.pt \
        C0=/tmp/h/runs/protocol/painn-peptide/best_model.pt \
        C1=/tmp/h/runs/protocol/painn-peptide-seed1/best_model.pt
    python benchmarks/experiment_cost.py /tmp/h/runs/experiments/painn-peptide-c7 \
        --controls /tmp/h/runs/protocol/painn-peptide /tmp/h/runs/protocol/painn-peptide-seed1 \
        --conformers /tmp/c.json --labels X C0 C1

(The c7 experiment's run folders left git when it was answered, at commit 35b34b1; the
protocol's run folders of that time left when they were exported, at commit 313d46f. The two
``git archive`` lines bring them back into a scratch folder: extracted in the repository they
would overwrite the runs now in ``runs/``.)

An experiment (docs/experiments.md) trains the protocol's config with one change. This script
compares its run with two or more runs of the unchanged config (its seeds), on errors where
lower is better: the energy and force MAE on the test split (each run's ``test_metrics.json``,
which the trainer writes at the end of a run; every run must have tested on the same
structures, checked against each run's ``splits.json``) and, given
the JSON of ``benchmarks/conformers.py`` with the three models in it, the largest helix and
PPII errors against the extended chain (``--labels`` names the experiment's label and the
controls' in that order). The rule (docs/experiments.md, "Chains of γ turns in the peptide
data?"): the change costs something on an error where the experiment's value x exceeds the
controls' largest by more than the controls differ among themselves,
x − max(controls) > max(controls) − min(controls). With conformers, the C7 (γ-turn) error is
printed as well, but it is not a cost: it is what the c7 experiment is about. Prints one table
and the verdict; reads files only, runs no model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

#: test_metrics.json keys: (label, unit)
TEST_METRICS = {"energy_mae": ("test energy MAE", "meV/atom"),
                "forces_mae": ("test force MAE", "meV/Å")}  # fmt: skip
#: conformers.json summary entries that count as a cost, and the ones only shown
CONFORMERS_COST = {"helix": "α helix − extended, largest |error|",
                   "ppii": "PPII − extended, largest |error|"}  # fmt: skip
CONFORMERS_SHOWN = {"c7": "C7 − extended, largest |error|"}


def costs(x: float, controls: list[float]) -> bool:
    """True where ``x`` exceeds the controls' largest value by more than their spread."""
    if len(controls) < 2:
        raise ValueError("the rule needs two or more control runs (seeds)")
    return x - max(controls) > max(controls) - min(controls)


def test_sources(run: Path) -> list[str]:
    """The structures of a run's test split (file:index), from its ``splits.json``."""
    path = Path(run) / "splits.json"
    if not path.is_file():
        raise SystemExit(f"{path}: no split file (is {run} a run folder?)")
    return json.loads(path.read_text())["test"]["sources"]


def test_metrics(run: Path) -> dict:
    path = Path(run) / "test_metrics.json"
    if not path.is_file():
        raise SystemExit(f"{path}: no test metrics (a run writes them when it has finished)")
    return json.loads(path.read_text())


def conformer_errors(path: Path, label: str) -> dict:
    """``{entry: largest |error| (meV)}`` of one model's seed in a conformers.py JSON."""
    summary = json.loads(Path(path).read_text())["summary"]
    if label not in summary:
        raise SystemExit(f"{path}: no model labelled {label!r} (has {sorted(summary)})")
    s = summary[label]
    out = {}
    for key in (*CONFORMERS_COST, *CONFORMERS_SHOWN):
        if key in s:
            (value,) = s[key]["max_abs_error_meV"]  # one model file per label: one value
            out[key] = float(value)
    return out


def compare(experiment: Path, controls: list[Path], conformers: Path | None = None,
            labels: list[str] | None = None) -> list[dict]:  # fmt: skip
    """One row per error: name, unit, the experiment's value, the controls', and the verdict
    (``costs`` True/False, or None for a row that is only shown)."""
    if len(controls) < 2:
        raise SystemExit(
            "give two or more --controls (the protocol's seeds): the rule needs a spread"
        )
    split = test_sources(experiment)
    other = [c for c in controls if test_sources(c) != split]
    if other:
        raise SystemExit(f"{', '.join(map(str, other))}: tested on other structures than "
                         f"{experiment}; the test errors do not compare")  # fmt: skip
    rows = []
    mine, theirs = test_metrics(experiment), [test_metrics(c) for c in controls]
    for key, (name, unit) in TEST_METRICS.items():
        x, c = mine[key], [t[key] for t in theirs]
        rows.append({"error": name, "unit": unit, "x": x, "controls": c, "costs": costs(x, c)})
    if conformers is not None:
        if not labels or len(labels) != len(controls) + 1:
            raise SystemExit("--labels: the experiment's label, then one per control, in order")
        mine = conformer_errors(conformers, labels[0])
        theirs = [conformer_errors(conformers, label) for label in labels[1:]]
        for key, name in {**CONFORMERS_COST, **CONFORMERS_SHOWN}.items():
            if key in mine and all(key in t for t in theirs):
                x, c = mine[key], [t[key] for t in theirs]
                verdict = costs(x, c) if key in CONFORMERS_COST else None
                rows.append({"error": name, "unit": "meV", "x": x, "controls": c,
                             "costs": verdict})  # fmt: skip
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("experiment", type=Path, help="the experiment's run folder")
    p.add_argument("--controls", type=Path, nargs="+", required=True,
                   help="run folders of the unchanged config, two or more seeds")  # fmt: skip
    p.add_argument(
        "--conformers",
        type=Path,
        default=None,
        help="a benchmarks/conformers.py JSON with the experiment and the controls",
    )
    p.add_argument(
        "--labels",
        nargs="+",
        default=None,
        help="their labels in that JSON: the experiment's, then the controls'",
    )
    args = p.parse_args()
    rows = compare(args.experiment, args.controls, args.conformers, args.labels)
    print(f"{args.experiment} against {', '.join(str(c) for c in args.controls)}")
    print("| error | unit | experiment | controls | costs something |")
    print("|---|---|---:|---:|---|")
    for r in rows:
        verdict = "shown only" if r["costs"] is None else ("yes" if r["costs"] else "no")
        controls = ", ".join(f"{v:.2f}" for v in r["controls"])
        print(f"| {r['error']} | {r['unit']} | {r['x']:.2f} | {controls} | {verdict} |")
    cost = [r["error"] for r in rows if r["costs"]]
    print("verdict: " + (f"costs something ({'; '.join(cost)})" if cost else "costs nothing"))


if __name__ == "__main__":
    main()
