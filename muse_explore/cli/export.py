"""``muse-explore export RUN_DIR NAME``: ship a run's best model with a model card."""

from __future__ import annotations


def add_parser(sub) -> None:
    """Register the ``export`` subcommand."""
    p = sub.add_parser(
        "export",
        help="copy a run's best model to the pretrained models, with a model card",
        description="Copy RUN_DIR/best_model.pt to the pretrained models (muse_explore/"
        "pretrained/NAME.pt, or $MUSE_EXPLORE_DATA/models), write NAME.md (configuration, "
        "data, training time and hardware, test metrics) and NAME.splits.json, and add "
        "NAME's size and sha256 to that folder's registry.json.",
    )
    p.add_argument("run_dir", help="a training run folder")
    p.add_argument("name", help="the pretrained model's name")
    p.add_argument(
        "--out",
        default=None,
        help="folder to write to, with its own registry.json (default: the pretrained models, "
        "muse_explore/pretrained/ or $MUSE_EXPLORE_DATA/models)",
    )
    p.add_argument(
        "--hardware",
        default=None,
        help="the training hardware in words, for runs whose checkpoint does not record it",
    )


def run(args) -> int:
    """Export; returns the exit status."""
    from muse_explore.training.export import export_pretrained

    path = export_pretrained(args.run_dir, args.name, args.out, hardware=args.hardware)
    registry = path.parent / "registry.json"
    print(f"wrote {path} and {path.with_suffix('.md')}; registered in {registry}")
    print(path.with_suffix(".md").read_text())
    return 0
