"""``muse-explore``: one small parser per subcommand, dispatched by name."""

from __future__ import annotations

import sys

from muse_explore.cli import demo, evaluate, export, hessian, lab, make_data, train
from muse_explore.cli.helptext import Parser

SUBCOMMANDS = {
    "demo": demo,
    "train": train,
    "evaluate": evaluate,
    "export": export,
    "make-data": make_data,
    "hessian": hessian,
    "lab": lab,
}

#: Subcommands that evaluate models in this process: they get the thread default of
#: :mod:`muse_explore.calc.threads` (train uses its YAML's num_threads; make-data runs tblite).
THREADED = ("demo", "evaluate", "hessian")


def main(argv: list[str] | None = None) -> int:
    """Run ``muse-explore SUBCOMMAND ...`` and return its exit status."""
    # a Parser's help is plain text (docstring markup stripped); add_subparsers makes every
    # subcommand's parser one too
    parser = Parser(prog="muse-explore", description="MuSE, the Multiscale Structural Ensemble.")
    from muse_explore.version import __version__

    parser.add_argument("--version", action="version", version=f"muse-explore {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS.values():
        module.add_parser(sub)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # only a subcommand that wraps another program (lab: jupyter lab) takes arguments
        # it does not know, and passes them on
        if not getattr(SUBCOMMANDS[args.command], "PASSES_UNKNOWN_ARGS", False):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.extra_args = unknown
    from muse_explore.errors import MuSEConfigError, MuSEFileError, MuSEInputError

    try:
        if args.command in THREADED:
            from muse_explore.calc.threads import apply_thread_default

            apply_thread_default()
        return SUBCOMMANDS[args.command].run(args)
    except (MuSEConfigError, MuSEFileError, MuSEInputError) as err:
        print(f"muse-explore {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
