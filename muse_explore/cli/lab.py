"""``muse-explore lab``: open the explorer notebook in JupyterLab.

The notebooks live next to the package in a source checkout (``notebooks/`` at the repository
root), so this command needs ``pip install -e .`` and the widget stack of the ``lab`` extra.
Arguments it does not know are passed on to ``jupyter lab`` unchanged.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

DEFAULT_NOTEBOOK = "01_quickstart.ipynb"

# main() hands the arguments this parser does not know to run() as ``args.extra_args``
PASSES_UNKNOWN_ARGS = True


def add_parser(sub) -> None:
    """Register the ``lab`` subcommand."""
    p = sub.add_parser(
        "lab",
        help="open the explorer notebook in JupyterLab",
        description=(
            "Start JupyterLab on the repository's notebooks/ folder with an explorer notebook "
            'open. Needs a source checkout (pip install -e ".[lab]"). Options not listed '
            "here (e.g. --ServerApp.ip=0.0.0.0) are passed to `jupyter lab`."
        ),
    )
    p.add_argument(
        "--notebook",
        default=DEFAULT_NOTEBOOK,
        help=f"notebook in notebooks/ to open (default: {DEFAULT_NOTEBOOK}; .ipynb optional)",
    )
    p.add_argument("--port", type=int, default=None, help="server port (default: jupyter's)")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.set_defaults(extra_args=[])


def notebooks_dir() -> Path:
    """The ``notebooks/`` folder of the source checkout this package was imported from."""
    import muse_explore

    return Path(muse_explore.__file__).resolve().parents[1] / "notebooks"


def notebook_name(name: str) -> str:
    """``name`` with the ``.ipynb`` suffix added when it is missing."""
    return name if name.endswith(".ipynb") else f"{name}.ipynb"


def build_command(
    notebooks: Path,
    notebook: str,
    *,
    port: int | None = None,
    no_browser: bool = False,
    extra_args: list[str] | tuple[str, ...] = (),
    python: str | None = None,
    as_root: bool | None = None,
) -> list[str]:
    """The ``jupyter lab`` command line that serves ``notebooks`` and opens ``notebook``.

    Args:
        notebooks: folder served as the server's root directory.
        notebook: file name (or path relative to ``notebooks``) of the notebook to open.
        port: server port; ``None`` leaves it to jupyter (8888, or the next free one).
        no_browser: do not open a web browser.
        extra_args: further arguments for ``jupyter lab`` (after this function's, so they
            override them); a leading ``--`` is dropped.
        python: interpreter that runs jupyter (default: the current one, ``sys.executable``).
        as_root: add ``--allow-root`` (default: when this process runs as root).

    Returns:
        The argument list for :func:`subprocess.call`.
    """
    notebooks = Path(notebooks).resolve()
    extra = list(extra_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    cmd = [
        python or sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={notebooks}",
        # the URL jupyter prints (and / redirects to) opens the notebook, also with --no-browser
        f"--LabApp.default_url=/lab/tree/{Path(notebook).as_posix()}",
    ]
    if as_root if as_root is not None else _is_root():
        cmd.append("--allow-root")  # jupyter refuses root otherwise (containers, CI machines)
    if port is not None:
        cmd.append(f"--ServerApp.port={port}")
    if no_browser:
        cmd.append("--no-browser")
    cmd += extra
    cmd.append(str(notebooks / notebook))
    return cmd


def _is_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0


def _error(message: str) -> int:
    print(f"muse-explore lab: error: {message}", file=sys.stderr)
    return 2


def run(args) -> int:
    """Start JupyterLab on the chosen notebook and return jupyter's exit status."""
    if importlib.util.find_spec("jupyterlab") is None:
        return _error(
            "JupyterLab is not installed in this environment; install the widget stack with "
            'pip install -e ".[lab]" (from the repository root)'
        )
    notebooks = notebooks_dir()
    if not notebooks.is_dir():
        return _error(
            f"no notebooks folder at {notebooks}: the lab command needs a source checkout of "
            'muse-explore installed with pip install -e ".[lab]"'
        )
    name = notebook_name(args.notebook)
    if not (notebooks / name).is_file():
        available = ", ".join(sorted(p.name for p in notebooks.glob("*.ipynb"))) or "none"
        return _error(f"no notebook {name} in {notebooks} (available: {available})")
    cmd = build_command(
        notebooks,
        name,
        port=args.port,
        no_browser=args.no_browser,
        extra_args=args.extra_args,
    )
    proc = subprocess.Popen(cmd, cwd=notebooks)
    while True:
        try:
            return proc.wait()
        except KeyboardInterrupt:
            # jupyter gets the same Ctrl-C and handles it (it asks to confirm, then shuts its
            # kernels down); killing it here, as subprocess.call would, would orphan them
            continue
