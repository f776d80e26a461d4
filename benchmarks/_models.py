"""Which models a benchmark script runs: its ``--models`` items, their seeds, their calculators.

The benchmark scripts take ``--models`` as labels of the shipped models (``MuSE``,
``baseline``, ``LES``) or ``LABEL=NAME_OR_PATH``, where NAME is a shipped model and PATH a
model file such as ``runs/NAME/best_model.pt``. A shipped model's retrainings with other
seeds are shipped as ``NAME-seed1``, ``NAME-seed2``, ... and :func:`seed_models` finds them.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

#: the reference itself, for the scripts that can run it as a "model"
REFERENCE = "GFN2-xTB"

#: the repository's shipped reference data (``sample_data/data``), read by the scripts
DATA = Path(__file__).resolve().parents[1] / "sample_data" / "data"


def parse_models(items, known: dict[str, str], reference: bool = False) -> dict[str, str]:
    """``{label: name_or_path}`` from ``--models`` items (``LABEL`` or ``LABEL=SPEC``).

    ``items`` ``None`` means every label of ``known`` whose model is shipped. A bare label
    must be one of ``known`` (label -> shipped name), or ``GFN2-xTB`` where the
    script runs the reference (``reference=True``). Unknown labels stop the script with a
    message that lists the known ones.
    """
    if items is None:  # every known label whose model is shipped
        from muse_explore.pretrained import list_pretrained

        shipped = set(list_pretrained())
        items = [label for label, name in known.items() if name in shipped]
    models = {}
    for item in items:
        label, _, spec = item.partition("=")
        if not label:
            raise SystemExit(f"--models item {item!r} has no label (use LABEL=NAME_OR_PATH)")
        if not spec:
            if reference and label == REFERENCE:
                spec = REFERENCE
            elif label in known:
                spec = known[label]
            else:
                raise SystemExit(
                    f"unknown model label {label!r}; use one of {list(known)} or LABEL=NAME_OR_PATH"
                )
        models[label] = spec
    return models


def add_graphene_models(p, known: dict[str, str], files: bool = False) -> None:
    """The ``--models`` option of the graphene scripts: shipped models only, or (``files``)
    model files too."""
    spec = "LABEL=NAME_OR_PATH" if files else "LABEL=NAME (a shipped model)"
    p.add_argument("--models", nargs="+", default=None,
                   help=f"labels from {list(known)} or {spec}; "
                        "default: every shipped one")  # fmt: skip


def shipped_models(items, known: dict[str, str]) -> dict[str, str]:
    """:func:`parse_models` for scripts that read shipped models only (with their data and
    split from the models folder): stops with a message naming any label whose model is not
    shipped there."""
    from muse_explore.pretrained import list_pretrained, models_dir

    shipped = set(list_pretrained())
    models = parse_models(items, known)
    for label, name in models.items():
        if name not in shipped:
            raise SystemExit(f"{label}: {name} is not shipped (in {models_dir()})")
    return models


def model_file(spec: str) -> Path:
    """The file behind a shipped name or a model path, with a clear error for anything else."""
    from muse_explore.pretrained import list_pretrained, pretrained_path

    if spec in list_pretrained():
        return pretrained_path(spec)
    if Path(spec).is_file():
        return Path(spec)
    raise SystemExit(f"unknown model {spec!r}: not shipped ({list_pretrained()}) nor a file")


def calculator(spec: str, dtype: str = "float64"):
    """A fresh ASE calculator for a shipped name, a model file, or ``GFN2-xTB``."""
    import muse_explore as mx
    from muse_explore.pretrained import list_pretrained

    if spec == REFERENCE:
        from muse_explore.reference.xtb import gfn2_calculator

        return gfn2_calculator()
    if spec in list_pretrained():
        return mx.load_pretrained(spec, dtype=dtype)
    return mx.MuSECalculator(mx.load_model(model_file(spec)), dtype=dtype)


def fingerprint(spec: str) -> str:
    """What identifies the potential: the model file's sha256 (first 16 hex digits)."""
    if spec == REFERENCE:
        return spec
    return hashlib.sha256(model_file(spec).read_bytes()).hexdigest()[:16]


def provenance(models: dict) -> dict[str, dict[str, str]]:
    """What a result was measured with: label -> {model: :func:`fingerprint`}, every seed.

    ``models`` maps each label to its models (a list, one per training seed) or to a shipped
    name or model file (its seeds are found with :func:`seed_models`). The benchmark scripts
    write this into their JSON as ``"provenance"``, so that :func:`stale_provenance` can tell a
    result of the shipped models from one of models since retrained, or since joined by a seed.
    """
    out = {}
    for label, specs in models.items():
        names = seed_models(specs) if isinstance(specs, str) else list(specs)
        out[label] = {name: fingerprint(name) for name in names if name != REFERENCE}
    return out


#: a model's name as shipped (``muse-painn-graphene-seed1``), not a label (``MuSE-MACE``)
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)+$")


def stale_provenance(result) -> list[str]:
    """Why a benchmark result is not of today's shipped models: one line per problem, or none.

    Every ``"provenance"`` entry anywhere in ``result`` (label -> {model: fingerprint}) is
    checked against the shipped models' registry: a shipped model must have the fingerprint
    it was measured with, and a label must hold exactly the shipped seeds of its first model
    (a seed shipped since, or one withdrawn, makes the mean ± sd another one). Results
    written before provenance was recorded name their models under ``"models"`` or
    ``"seeds"`` (a name, a list of seeds, or label -> either): those names must be shipped
    and the lists complete. A model that is not a shipped name (a file such as
    ``runs/X/best_model.pt``) is a result about that file and is not checked; a name no
    longer shipped is a problem.
    """
    from muse_explore.pretrained import models_dir
    from muse_explore.pretrained.registry import read_registry

    registry = read_registry(models_dir())
    problems = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "provenance" and isinstance(value, dict):
                    for label, fingerprints in value.items():
                        names(label, list(fingerprints), fingerprints)
                elif key in ("models", "seeds"):
                    named(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    def named(value) -> None:
        if isinstance(value, str):
            names("", [value], single=True)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            names("", value)
        elif isinstance(value, dict):
            for label, v in value.items():
                if isinstance(v, str):
                    names(label, [v], single=True)
                elif isinstance(v, list) and v and all(isinstance(x, str) for x in v):
                    names(label, v)

    def names(label, seeds, fingerprints=None, single=False) -> None:
        where = f"{label}: " if label else ""
        models = [n for n in seeds if _NAME.match(n)]  # files and labels are not checked
        for name in models:
            if name not in registry:
                problems.append(f"{where}{name} is no longer shipped")
            elif fingerprints and registry[name]["sha256"][:16] != fingerprints[name]:
                problems.append(f"{where}{name} has been replaced since it was measured")
        # a single name stands for the model with its seeds; a list must hold them all
        if not single and models and models == seeds and all(n in registry for n in seeds):
            shipped = seed_models(seeds[0])
            if seeds != shipped:
                problems.append(f"{where}measured with {seeds}, shipped are {shipped}")

    walk(result)
    return sorted(set(problems), key=problems.index)


def seed_models(name: str) -> list[str]:
    """A model and its shipped retrainings with other seeds: NAME, NAME-seed1, NAME-seed2, ...

    A model file (not a shipped name) has no seeds: the list is ``[name]``.
    """
    from muse_explore.pretrained import list_pretrained

    shipped = set(list_pretrained())
    seeds = [m for m in shipped if m.startswith(f"{name}-seed") and m[len(name) + 5 :].isdigit()]
    return [name] + sorted(seeds, key=lambda m: int(m[len(name) + 5 :]))


#: The graphene protocol's backbones: backbone -> (MuSE model, its backbone-only baseline).
GRAPHENE_PAIRS = {
    "PaiNN": ("muse-painn-graphene", "painn-graphene"),
    "MACE": ("muse-mace-graphene", "mace-graphene"),
    "SO3krates": ("muse-so3krates-graphene", "so3krates-graphene"),
}
#: The long-range baseline (PaiNN with latent Ewald summation, fragment-neutral charges).
GRAPHENE_LES = "painn-lr-graphene"


def graphene_labels() -> dict[str, str]:
    """Label -> shipped name of every graphene model of the protocol.

    PaiNN's pair keeps the headline labels ``MuSE`` and ``baseline`` (with ``LES``, a PaiNN
    too); the other backbones' pairs are ``MuSE-MACE``/``MACE`` and
    ``MuSE-SO3krates``/``SO3krates``.
    """
    muse, base = GRAPHENE_PAIRS["PaiNN"]
    out = {"MuSE": muse, "baseline": base, "LES": GRAPHENE_LES}
    for backbone, (muse, base) in GRAPHENE_PAIRS.items():
        if backbone != "PaiNN":
            out[f"MuSE-{backbone}"], out[backbone] = muse, base
    return out


def backbone_of(label: str) -> tuple[str, str] | None:
    """``(backbone, "MuSE" or "baseline")`` of a graphene label, ``None`` for LES."""
    if label in ("MuSE", "baseline"):
        return "PaiNN", label
    for backbone in GRAPHENE_PAIRS:
        if label == f"MuSE-{backbone}":
            return backbone, "MuSE"
        if label == backbone:
            return backbone, "baseline"
    return None


def mean_sd(values) -> tuple[float, float]:
    """Mean and sample standard deviation over seeds (sd 0 for one seed)."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def pm(values, fmt: str = ".1f") -> str:
    """``mean ± sd`` over seeds, or the value alone for one seed."""
    import numpy as np

    v = np.atleast_1d(np.asarray(values, dtype=float))
    if len(v) == 1:
        return format(v[0], fmt)
    m, s = mean_sd(v)
    return f"{format(m, fmt)} ± {format(s, fmt.lstrip('+'))}"
