"""``muse-explore evaluate MODEL DATA``: metric table and per-structure predictions."""

from __future__ import annotations


def add_parser(sub) -> None:
    """Register the ``evaluate`` subcommand."""
    p = sub.add_parser(
        "evaluate",
        help="errors of a model or checkpoint on labelled data",
        description="Evaluate a pretrained model, a model file or a training checkpoint on "
        "extxyz/ASE-db data: prints energy, force (and stress) MAE/RMSE and writes "
        "per-structure predictions.",
    )
    p.add_argument(
        "model",
        help="a pretrained model's name, a model file (best_model.pt) or a checkpoint "
        "(last.pt, its EMA weights)",
    )
    p.add_argument("data", nargs="+", help="extxyz files or ASE databases with labels")
    p.add_argument(
        "--out",
        default=None,
        help="predictions file: .csv (a table) or .extxyz (.xyz, .extxyz.xz, ...: the "
        "structures with predicted labels)",
    )
    p.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--batch-size", type=_positive, default=8, help="structures per batch")
    p.add_argument(
        "--split",
        default=None,
        metavar="SPLITS.json",
        help="evaluate only one subset of a run's split file (indices into DATA)",
    )
    p.add_argument(
        "--subset",
        default=None,
        choices=["train", "val", "test"],
        help="the subset of --split to evaluate (default: test)",
    )
    p.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only structures whose info[KEY] equals VALUE (repeatable)",
    )


def _positive(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _parse_value(v: str):
    for kind in (int, float):
        try:
            return kind(v)
        except ValueError:
            pass
    return v


def run(args) -> int:
    """Evaluate; returns the exit status."""
    import torch

    from muse_explore.errors import MuSEInputError
    from muse_explore.explore.models import resolve_model
    from muse_explore.training import dataset as ds
    from muse_explore.training.evaluation import (
        evaluate,
        format_metrics,
        prediction_format,
        write_predictions,
    )

    if args.subset is not None and not args.split:
        raise MuSEInputError("--subset picks a subset of a split file: give --split too")
    if args.out:
        prediction_format(args.out)  # a wrong name fails before the work
    model = resolve_model(args.model)
    structures = ds.read_structures(args.data)
    if args.split:
        from pathlib import Path

        subset = args.subset or "test"
        idx, sources = ds.load_split_sources(Path(args.split), subset)
        if not isinstance(sources, list) or len(sources) != len(idx):
            raise MuSEInputError(
                f"{args.split} is not a split file of muse-explore train: its {subset!r} "
                "subset does not list the source of each structure ('sources')"
            )
        if (
            any(not 0 <= i < len(structures) for i in idx)
            or [structures[i].info["source"] for i in idx] != sources
        ):
            raise MuSEInputError(
                f"{args.split} was written for other data files (its indices name other "
                "structures): pass the run's data files in the run's order"
            )
        structures = [structures[i] for i in idx]
    if args.select:
        crit = {}
        for item in args.select:
            key, sep, value = item.partition("=")
            if not sep:
                raise MuSEInputError(f"--select wants KEY=VALUE, got {item!r}")
            crit[key] = _parse_value(value)
        structures = [structures[i] for i in ds.select(structures, crit)]
        if not structures:
            raise MuSEInputError(f"no structure matches {crit}")
    dtype = torch.float64 if args.dtype == "float64" else torch.float32
    from muse_explore.training.distributed import resolve_device

    metrics, rows = evaluate(
        model,
        structures,
        dtype=dtype,
        device=resolve_device(args.device),
        batch_size=args.batch_size,
    )
    print(f"{args.model} on {len(structures)} structures ({args.dtype}):")
    print(format_metrics(metrics))
    if args.out:
        write_predictions(args.out, structures, rows)
        print(f"wrote {args.out}")
    return 0
