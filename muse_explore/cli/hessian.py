"""``muse-explore hessian MODEL STRUCTURE``: a (partial) Hessian and its frequencies."""

from __future__ import annotations


def add_parser(sub) -> None:
    """Register the ``hessian`` subcommand."""
    p = sub.add_parser(
        "hessian",
        help="Hessian and harmonic frequencies of a structure",
        description="Hessian of a structure (any file ASE reads) by autograd of the model's "
        "energy, in eV/Å², over all atoms or the chosen ones (the others held fixed, as ASE's "
        "FixAtoms with Vibrations), and its harmonic frequencies in cm⁻¹. MODEL is a "
        "pretrained name, a model file or a training checkpoint. --reference adds GFN2-xTB's "
        "Hessian by finite differences (needs the [reference] extra).",
    )
    p.add_argument(
        "model",
        help=f"a pretrained model ({pretrained_names()}), a model file or a training checkpoint",
    )
    p.add_argument("structure", help="structure file (xyz, extxyz, ...; the first frame)")
    p.add_argument(
        "--atoms",
        default=None,
        metavar="SPEC",
        help="atoms of a partial Hessian: comma-separated indices and ranges, e.g. 72-83",
    )
    p.add_argument(
        "--out",
        default=None,
        help="write the Hessian (eV/Å²) here: .npy (NumPy), or .txt or .csv (text, one row per "
        "line)",
    )
    p.add_argument("--reference", action="store_true", help="compare with GFN2-xTB")


def pretrained_names() -> str:
    """The shipped models' names for the help text, from the registry (JSON only, no torch)."""
    from muse_explore.errors import MuSEFileError
    from muse_explore.pretrained import list_pretrained

    try:
        names = list_pretrained()
    except (MuSEFileError, OSError):  # a broken registry must not break --help
        names = []
    if names:
        return ", ".join(names)
    return "python -c 'import muse_explore as mx; print(mx.list_pretrained())' lists them"


def parse_atoms(spec: str | None, n: int) -> list[int] | None:
    """``"0,3,10-12"`` -> ``[0, 3, 10, 11, 12]`` (checked against ``n`` atoms)."""
    from muse_explore.errors import MuSEInputError

    if spec is None:
        return None
    out: list[int] = []
    try:
        for part in spec.split(","):
            lo, _, hi = part.strip().partition("-")
            if hi and int(hi) < int(lo):
                raise MuSEInputError(
                    f"--atoms {spec!r}: the range {part.strip()} runs backwards; write {hi}-{lo}"
                )
            out += list(range(int(lo), int(hi) + 1)) if hi else [int(lo)]
    except ValueError as err:
        if isinstance(err, MuSEInputError):
            raise
        raise MuSEInputError(f"--atoms {spec!r}: use indices and ranges like 0,3,10-12") from None
    bad = [i for i in out if not 0 <= i < n]
    if bad or not out:
        shown = ", ".join(map(str, bad[:5])) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise MuSEInputError(
            f"--atoms {spec!r}: indices must be in 0..{n - 1} (the structure has {n} atoms), "
            f"got {shown or 'none'}"
        )
    return sorted(set(out))


#: File types ``--out`` writes.
OUT_FORMATS = (".npy", ".txt", ".csv")


def run(args) -> int:
    """Compute, print, optionally compare and save; returns the exit status."""
    from pathlib import Path

    import numpy as np
    from ase.io import read

    import muse_explore as mx
    from muse_explore.analysis.vibrations import compare_hessians, frequencies
    from muse_explore.atomic import atomic_path
    from muse_explore.errors import MuSEFileError, MuSEInputError
    from muse_explore.explore.models import resolve_model

    suffix = Path(args.out).suffix.lower() if args.out else None
    if suffix not in (None, *OUT_FORMATS):
        raise MuSEInputError(
            f"--out {args.out}: give a file ending in {', '.join(OUT_FORMATS)} (got {suffix!r})"
        )
    try:
        atoms = read(args.structure, index=0)
    except Exception as err:  # ASE raises many kinds for missing or malformed files
        raise MuSEFileError(f"{args.structure}: cannot read a structure ({err})") from None
    idx = parse_atoms(args.atoms, len(atoms))
    calc = mx.MuSECalculator(resolve_model(args.model), dtype="float64")
    h = mx.hessian(calc, atoms, indices=idx)
    f = frequencies(h, atoms, idx)
    m = len(atoms) if idx is None else len(idx)
    print(f"{args.structure}: {len(atoms)} atoms, Hessian over {m} atom(s), {3 * m}×{3 * m} eV/Å²")
    print("frequencies (cm⁻¹; negative = imaginary):")
    print(np.array2string(f, precision=1, max_line_width=100, suppress_small=True))
    if args.reference:
        from muse_explore.reference.xtb import hessian as reference_hessian

        c = compare_hessians(h, reference_hessian(atoms, idx), atoms, idx)
        low = c["low_mode_mae"]
        low = "" if low is None else f", six lowest modes {low:.1f} cm⁻¹"
        print(
            f"against GFN2-xTB: Hessian MAE {c['hessian_mae']:.4f} eV/Å², frequency MAE "
            f"{c['frequency_mae']:.1f} cm⁻¹{low}"
        )
    if args.out:
        with atomic_path(Path(args.out)) as tmp:
            if suffix == ".npy":
                with open(tmp, "wb") as fh:
                    np.save(fh, h)
            else:
                over = "all atoms" if idx is None else f"atoms {args.atoms}"
                np.savetxt(
                    tmp,
                    h,
                    fmt="%.10e",
                    delimiter="," if suffix == ".csv" else " ",
                    header=f"Hessian of {args.structure} over {over} ({3 * m}x{3 * m}, eV/A^2; "
                    "rows and columns x, y, z of each atom in turn)",
                    encoding="utf-8",  # the file name may be any text; NumPy's default is latin-1
                )
        print(f"wrote {args.out}")
    return 0
