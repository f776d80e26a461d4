"""The README tells the truth: its commands are CI's, its example runs, its numbers come from JSON.

Every number the README shows is a field of a ``benchmarks/*.json`` file that a script in
``benchmarks/`` writes, so retraining a model changes the README only when the benchmark is
rerun, and a README number that no JSON backs fails here. Model weights are not read.
"""

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()

#: Numbers in the README's prose that are not results: what each one is.
NOT_RESULTS = {
    "2605.25710": "the paper's arXiv number",
    "2026": "the paper's year",
    "3.11": "the Python version of the two commands",
}


def _blocks(lang, text=README):
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


# ---------------------------------------------------------------- the commands and the example


def test_two_commands_and_ci_runs_the_test_command():
    main, test = (b.strip().splitlines()[-1] for b in _blocks("bash"))
    assert main.startswith("python3 -m venv .venv && ") and main.endswith(" && muse-explore lab")
    assert test.startswith("python3 -m venv .venv && ") and test.endswith(" && pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci.splitlines()


@pytest.mark.parametrize(("failing", "status"), [("ruff check .", 1), (None, 0)])
def test_ci_fails_when_any_step_of_the_test_command_fails(tmp_path, failing, status):
    """Under ``set -e`` a failure inside an ``&&`` list does not stop a script: .ci/run must
    check the README command's status itself, or a failed lint would skip the tests and
    still pass. Runs .ci/run's own lines from the README command to the end, each step of the
    command replaced by ``true`` (or ``false`` for the failing one)."""
    import subprocess

    (test,) = [b.strip().splitlines()[-1] for b in _blocks("bash")][1:]
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    start = lines.index(test)
    while not lines[start - 1].startswith("#"):  # the wrapper's opening line(s)
        start -= 1
    steps = [s.strip() for s in test.split("&&")]
    fake = " && ".join("false" if s == failing else "true" for s in steps)
    body = [fake if line == test else line for line in lines[start:]]
    body = [line for line in body if "pytest -m perf" not in line]  # the opt-in part
    script = tmp_path / "run"
    script.write_text("set -euo pipefail\n" + "\n".join(body) + "\necho reached-the-end\n")
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    assert done.returncode == status, done.stderr
    assert ("reached-the-end" in done.stdout) == (status == 0)


def test_python_example_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (code,) = _blocks("python")
    assert len(code.strip().splitlines()) <= 10
    ns = {}
    with warnings.catch_warnings():  # a legacy model says so (MuSELegacyModelWarning)
        warnings.simplefilter("ignore")
        exec(compile(code, "README.md", "exec"), ns)
    atoms, energy, forces, H = ns["atoms"], ns["energy"], ns["forces"], ns["H"]
    results = atoms.calc.results
    assert forces.shape == (len(atoms), 3)
    assert np.isclose(sum(results["scale_energies"]), energy, rtol=0, atol=1e-8)
    assert len(results["assignments"]) == 2
    for s in results["assignments"]:
        assert np.allclose(s.sum(1), 1.0)
    assert atoms.get_chemical_symbols()[72:84].count("C") == 6  # the indices are benzene's
    assert H.shape == (36, 36) and np.allclose(H, H.T, atol=1e-8)
    assert ns["model"].config.backbone == "mace" and ns["model"].config.coarse_levels == 2


# ---------------------------------------------------------------- every number from a JSON file


def _long_range_cell(data, row, column):
    """The values (one per training seed) behind one cell of ``long_range.json``'s
    per-distance table."""
    if column == "complexes":
        counts = {next(r["n"] for r in t if r["range"] == row) for t in data["tables"].values()}
        assert len(counts) == 1, f"the models disagree on the count of {row!r}"
        return [counts.pop()]
    label, _, name = column.partition(" ")
    assert data["models"][label] == name.strip("()`"), f"column {column!r} names another model"
    r = next(r for r in data["tables"][label] if r["range"] == row)
    return r.get("mae_seeds", [r["mae"]])


#: the conformation a ``conformers.json`` column names after its label, and its key there
CONFORMATIONS = {"helix": "helix", "PPII": "ppii", "C7": "c7"}


def _conformers_cell(data, row, column):
    """The values (one per training seed) behind one cell of ``conformers.json``'s
    conformer table: GFN2-xTB's ΔE(conformation − extended), or a model's error on it, in
    meV, at n = ``row``. A column names its conformation after the label (``GFN2-xTB PPII``,
    ``MuSE PPII``), the helix where it names none, and may name the model after that
    (``MuSE helix (`muse-painn-peptide`)``), which must be the one the file measured."""
    r = next(r for r in data["rows"] if str(r["n"]) == row)
    label, _, rest = column.partition(" ")
    word, _, name = rest.partition(" ")
    if word in CONFORMATIONS:
        conformation = CONFORMATIONS[word]
    else:
        conformation, name = "helix", rest
    reference = r[f"GFN2-xTB:{conformation}"]
    if label == "GFN2-xTB":
        assert not name, f"column {column!r} is not a conformation"
        return [reference]
    if name:
        models = data["models"][label]
        assert models[0] == name.strip("()`"), f"column {column!r} names another model"
    return [e - reference for e in r[f"{label}:{conformation}:seeds"]]


#: ``hessian.json``'s summary field (and its scale) behind each README column heading
HESSIAN_COLUMNS = {
    "molecules' frequencies (cm⁻¹)": ("molecules_frequency_mae", 1),
    "adsorbate block (eV/Å²)": ("adsorbate_hessian_mae", 1),
    "intermolecular modes (cm⁻¹)": ("intermolecular_mode_mae", 1),
    "stiff intermolecular modes (%)": ("intermolecular_mode_relative", 100),
}


def _hessian_cell(data, row, column):
    """The values (one per training seed) behind one cell of ``hessian.json``'s summary
    (autograd Hessians): the model named in ``row``, the measure named by ``column``."""
    label, _, name = row.partition(" ")
    assert data["models"][label] == name.strip("()`"), f"row {row!r} names another model"
    key, scale = HESSIAN_COLUMNS[column]
    return [scale * v for v in data["summary_seeds"][label]["autograd"][key]]


#: ``graphene_profiles.json``'s summary field behind each README column heading: a distance
#: range of the per-range MAE, or a field of the wells' comparison
PROFILE_COLUMNS = {
    "6–10 Å (meV)": "6–10 Å",
    "all heights (meV)": "all",
    "well position (Å)": "d_min_mae",
    "well depth (meV)": "e_min_mae_mev",
}


def _profiles_cell(data, row, column):
    """The values (one per training seed) behind one cell of ``graphene_profiles.json``'s
    summary: the model named in ``row``, the measure named by ``column``."""
    label, _, name = row.partition(" ")
    assert data["models"][label] == name.strip("()`"), f"row {row!r} names another model"
    summary, key = data["summary"][label], PROFILE_COLUMNS[column]
    if key in summary:
        return summary.get(f"{key}_seeds", [summary[key]])
    r = next(r for r in summary["ranges"] if r["range"] == key)
    return r.get("mae_seeds", [r["mae"]])


#: ``folding.json``'s summary field (a path into it, and its scale) behind each README column
#: heading
FOLDING_COLUMNS = {
    "frames with a geometry fault (%)": (("frames_with_faults",), 100),
    "E error along its run (meV/atom)": (("check", "energy_mae_mev_per_atom"), 1),
    "its spread (meV/atom)": (("check", "energy_sd_mev_per_atom"), 1),
    "F error along its run (meV/Å)": (("check", "forces_mae_mev_per_a"), 1),
    "helix content": (("second_half", "helix"), 1),
    "C7eq (γ-turn) content": (("second_half", "c7"), 1),
    "end-to-end (Å)": (("second_half", "end_to_end"), 1),
}


def _folding_cell(data, row, column):
    """The values (one per MD seed) behind one cell of ``folding.json``'s summary: the model
    named in ``row``, the measure named by ``column``."""
    label, _, name = row.partition(" ")
    summary = data["summary"][label]
    assert summary["model"] == name.strip("()`"), f"row {row!r} names another model"
    path, scale = FOLDING_COLUMNS[column]
    for key in path:
        summary = summary[key]
    return [scale * v for v in summary["values"]]


#: How a README table reads the JSON file that its paragraph names, by file name.
SOURCES = {
    "long_range.json": _long_range_cell,
    "conformers.json": _conformers_cell,
    "hessian.json": _hessian_cell,
    "graphene_profiles.json": _profiles_cell,
    "folding.json": _folding_cell,
}

_NUMBER = re.compile(r"[-−+]?\d+(?:[.,]\d+)*")
#: a table cell: a number, or mean ± sd over training seeds
_CELL = re.compile(rf"({_NUMBER.pattern})(?: ± ({_NUMBER.pattern}))?")
# a number not inside a name (GFN2-xTB, SO3krates, x86-64); units may follow it: 20x, 5Å
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.\-])[-−]?\d+(?:[.,]\d+)*")


def _tables(text):
    """``(paragraph before, header, rows)`` of every Markdown table in ``text``."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        if lines[i].startswith("|") and i + 1 < len(lines) and set(lines[i + 1]) <= set("|-: "):
            start = i
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            cells = [[c.strip() for c in line.strip().strip("|").split("|")]
                     for line in lines[start:i]]  # fmt: skip
            before = "\n".join(lines[:start]).split("\n\n")[-1]
            out.append((before, cells[0], cells[2:]))
        i += 1
    return out


def _shown(cell: str, values) -> bool:
    """Whether ``cell`` shows ``values`` (one per seed) rounded to the digits it shows: the
    value itself for one seed, ``mean ± sd`` (sample sd) for several."""
    mean, _, sd = cell.partition(" ± ")
    values = np.asarray(values, dtype=float)
    if (len(values) > 1) != bool(sd):
        return False  # one seed shown as a spread, or several seeds as one number

    def close(text, value):
        digits = len(text.partition(".")[2])
        number = float(text.replace(",", "").replace("−", "-"))
        return abs(number - value) <= 0.5 * 10.0**-digits + 1e-9

    if not close(mean, values.mean()):
        return False
    return not sd or close(sd, values.std(ddof=1))


def table_problems(text: str) -> list[str]:
    """Cells of ``text``'s tables that no benchmark JSON backs, or that disagree with it."""
    problems = []
    for before, header, rows in _tables(text):
        names = re.findall(r"benchmarks/(\w+\.json)", before)
        scripts = re.findall(r"python (benchmarks/\w+\.py)", before)
        if len(names) != 1 or names[0] not in SOURCES or not scripts:
            problems.append(f"table {header}: its paragraph must name the command and the one "
                            f"benchmarks/*.json it writes, one of {sorted(SOURCES)}")  # fmt: skip
            continue
        if names[0] not in (ROOT / scripts[0]).read_text():
            problems.append(f"{scripts[0]} does not write benchmarks/{names[0]}")
        data = json.loads((ROOT / "benchmarks" / names[0]).read_text())
        for row in rows:
            for column, cell in zip(header[1:], row[1:], strict=True):
                if not _CELL.fullmatch(cell):
                    problems.append(f"{row[0]!r}/{column!r}: {cell!r} is not a number "
                                    "or mean ± sd")  # fmt: skip
                    continue
                try:
                    value = SOURCES[names[0]](data, row[0], column)
                except (KeyError, StopIteration, AssertionError) as err:
                    problems.append(f"{row[0]!r}/{column!r}: no field of {names[0]} ({err!r})")
                    continue
                if not _shown(cell, value):
                    problems.append(f"{row[0]!r}/{column!r}: README {cell}, {names[0]} {value} "
                                    "(one value per seed)")  # fmt: skip
    return problems


def prose_problems(text: str) -> list[str]:
    """Numbers outside code, tables and link targets that are not in ``NOT_RESULTS``."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    prose = [line for line in text.splitlines() if not line.startswith("|")]
    return [
        f"{n!r} in {line.strip()!r}"
        for line in prose
        for n in _NUMBER_IN_TEXT.findall(line)
        if n not in NOT_RESULTS
    ]


def test_every_table_number_is_a_benchmark_json_field():
    assert _tables(README), "the README has lost its headline table"
    assert not table_problems(README), "\n".join(table_problems(README))


def test_no_number_in_the_prose_without_a_source():
    assert not prose_problems(README), "\n".join(prose_problems(README))


def test_the_checks_fail_on_numbers_that_no_json_backs():
    # a changed cell, a new row and a result in the prose are each caught
    header, rows = _tables(README)[0][1:]
    cell = rows[0][2]  # MuSE's first cell (mean ± sd once there are several seeds)
    mean = cell.partition(" ± ")[0]
    changed = f"{float(mean) + 0.1:.{len(mean.partition('.')[2])}f}"
    first = "| " + " | ".join(rows[0]) + " |"
    assert first in README
    wrong = README.replace(
        first, first.replace(f"| {cell} |", f"| {cell.replace(mean, changed, 1)} |", 1)
    )
    assert any(changed in p for p in table_problems(wrong))
    extra_row = f"{first}\n| 10–20 Å | 60 | " + " | ".join(["0.5"] * (len(header) - 2)) + " |"
    assert any("10–20 Å" in p for p in table_problems(README.replace(first, extra_row)))
    assert table_problems(README.replace("benchmarks/long_range.json", "benchmarks/x.json"))
    # every table is checked, not only the first: a changed conformer error is caught too
    conformers = next(t for t in _tables(README) if t[1][0] == "n")
    row = "| " + " | ".join(conformers[2][-1]) + " |"
    assert row in README
    cell = conformers[2][-1][2]
    mean = cell.partition(" ± ")[0]  # a cell over several seeds: mean ± sd
    bumped = f"{float(mean.replace('−', '-')) + 5:+.0f}"
    changed = row.replace(f"| {cell} |", f"| {cell.replace(mean, bumped, 1)} |")
    assert changed != row
    assert any(bumped in p for p in table_problems(README.replace(row, changed)))
    # and a changed Hessian cell, and a changed profile cell
    for heading, column in (("adsorbate block (eV/Å²)", 1), ("well depth (meV)", 4)):
        table = next(t for t in _tables(README) if heading in t[1])
        row = "| " + " | ".join(table[2][0]) + " |"
        cell = table[2][0][column]
        mean = cell.partition(" ± ")[0]
        bumped = f"{float(mean) + 1:.1f}"
        changed = row.replace(f"| {cell} |", f"| {cell.replace(mean, bumped, 1)} |", 1)
        assert changed != row and row in README
        assert any(bumped in p for p in table_problems(README.replace(row, changed))), heading
    folding = next(t for t in _tables(README) if "its spread (meV/atom)" in t[1])
    row = "| " + " | ".join(folding[2][0]) + " |"
    cell = folding[2][0][2]
    mean = cell.partition(" ± ")[0]
    bumped = f"{float(mean) + 0.5:.2f}"
    changed = row.replace(f"| {cell} |", f"| {cell.replace(mean, bumped, 1)} |", 1)
    assert changed != row and row in README
    assert any(bumped in p for p in table_problems(README.replace(row, changed))), "folding"
    for claim in ("MuSE costs 1.19 times its backbone.", "MD ran 20x slower.", "at 5Å"):
        assert prose_problems(f"{README}\n{claim}\n"), claim


def test_a_cell_over_several_seeds_must_show_their_mean_and_spread():
    seeds = [7.6, 8.2, 7.9]  # mean 7.9, sample sd 0.3
    assert _shown("7.9 ± 0.3", seeds)
    assert not _shown("7.9", seeds)  # several seeds shown as one number
    assert not _shown("7.9 ± 0.5", seeds)  # the wrong spread
    assert not _shown("8.0 ± 0.3", seeds)  # the wrong mean
    assert not _shown("7.9 ± 0.3", [7.9])  # one seed shown as a spread
    assert _shown("−4", [-4.2]) and _CELL.fullmatch("−4 ± 1.5") and not _CELL.fullmatch("4 ±")
