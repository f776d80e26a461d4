"""``muse-explore lab``: open the explorer notebooks in JupyterLab, in a folder of your own.

The notebooks live in the source repository (``notebooks/`` at its root); a wheel does not
ship them, so this command needs a source checkout installed with ``pip install -e ".[lab]"``.
They are copied to a user folder (``~/muse-explore-notebooks``, or ``--dir PATH``) and
JupyterLab serves that copy, so saved edits and outputs stay out of the checkout. A notebook
already in the folder is never overwritten; new ones are added. SIGINT and SIGTERM sent to
this command are passed on to JupyterLab, so one ``kill`` stops both. Arguments it does not
know are passed on to ``jupyter lab`` unchanged.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

DEFAULT_NOTEBOOK = "01_quickstart.ipynb"
DEFAULT_DIR = "~/muse-explore-notebooks"
#: signals passed on to JupyterLab
FORWARDED = (signal.SIGINT, signal.SIGTERM)
#: seconds JupyterLab gets to shut its kernels down after SIGTERM before it is killed
STOP_TIMEOUT_S = 10.0

# main() hands the arguments this parser does not know to run() as ``args.extra_args``
PASSES_UNKNOWN_ARGS = True


def add_parser(sub) -> None:
    """Register the ``lab`` subcommand."""
    p = sub.add_parser(
        "lab",
        help="open the explorer notebook in JupyterLab",
        description=(
            "Copy the repository's notebooks/ to a folder of your own and start JupyterLab on "
            "that copy with an explorer notebook open. A notebook already in the folder is "
            "kept as it is (your edits and outputs); new ones are added. Needs a source "
            'checkout (pip install -e ".[lab]"). Options not listed here (e.g. '
            "--ServerApp.ip=0.0.0.0) are passed to `jupyter lab`; SIGINT and SIGTERM are "
            "passed on to it."
        ),
    )
    p.add_argument(
        "--dir",
        default=DEFAULT_DIR,
        metavar="PATH",
        help=f"folder the notebooks are copied to and served from (default: {DEFAULT_DIR}; "
        "a relative path is taken from the current directory)",
    )
    p.add_argument(
        "--notebook",
        default=DEFAULT_NOTEBOOK,
        help=f"notebook in that folder to open (default: {DEFAULT_NOTEBOOK}; .ipynb optional)",
    )
    p.add_argument("--port", type=int, default=None, help="server port (default: jupyter's)")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.set_defaults(extra_args=[])


def notebooks_source() -> Path:
    """The ``notebooks/`` folder of the source checkout this package was imported from."""
    import muse_explore

    return Path(muse_explore.__file__).resolve().parents[1] / "notebooks"


def notebook_name(name: str) -> str:
    """``name`` with the ``.ipynb`` suffix added when it is missing."""
    return name if name.endswith(".ipynb") else f"{name}.ipynb"


def copy_notebooks(source: Path, target: Path) -> tuple[list[str], list[str]]:
    """Copy the notebooks of ``source`` into ``target``, never overwriting one already there.

    Args:
        source: folder holding the shipped ``*.ipynb`` files (its other files are not copied).
        target: folder to fill; created with its parents when missing.

    Returns:
        ``(copied, kept)``: names of the notebooks copied now and of those left as they were
        because ``target`` already had a file of that name.
    """
    target.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for notebook in sorted(Path(source).glob("*.ipynb")):
        destination = target / notebook.name
        if destination.exists():
            kept.append(notebook.name)
        else:
            # copyfile, not copy2: the copy gets the user's default permissions
            shutil.copyfile(notebook, destination)
            copied.append(notebook.name)
    return copied, kept


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
        The argument list for :class:`subprocess.Popen`.
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


class _Forwarder:
    """Signal handler that passes SIGINT and SIGTERM on to the child process.

    Installed before the child starts, so a signal that arrives in between is held and sent
    once the child exists rather than killing this process and orphaning the child.
    """

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.pending: list[int] = []

    def __call__(self, signum: int, frame) -> None:
        if signum == signal.SIGINT and _terminal_interrupts_us():
            # Ctrl-C in the terminal reached JupyterLab too (same foreground process group);
            # a second SIGINT would skip its "Shut down this Jupyter server?" question
            return
        if self.proc is None:
            self.pending.append(signum)
        else:
            self.proc.send_signal(signum)  # a no-op once the child has exited

    def start(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        for signum in self.pending:
            proc.send_signal(signum)


def _terminal_interrupts_us() -> bool:
    """Whether this process is in the foreground process group of its terminal."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (AttributeError, OSError, ValueError):  # no terminal, no stdin, not POSIX
        return False


def serve(cmd: list[str], *, cwd: Path) -> int:
    """Run ``cmd`` (JupyterLab) in ``cwd`` until it exits, passing SIGINT and SIGTERM on.

    A ``KeyboardInterrupt`` in this process (or any other exception) stops the child:
    SIGTERM, then SIGKILL after :data:`STOP_TIMEOUT_S`.

    Returns:
        The child's exit status; ``128 + N`` when signal ``N`` ended it (the shell's way),
        130 when this process was interrupted.
    """
    forward = _Forwarder()
    # signal.signal works in the main thread only; elsewhere no signal reaches this code
    in_main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, forward) for s in FORWARDED} if in_main else {}
    proc = None
    try:
        proc = subprocess.Popen(cmd, cwd=cwd)
        forward.start(proc)
        status = proc.wait()
        return 128 - status if status < 0 else status
    except KeyboardInterrupt:
        return 130
    finally:
        if proc is not None:
            _stop(proc)
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def jupyterlab_installed() -> bool:
    """Whether ``jupyterlab`` can be imported here (without importing it)."""
    return importlib.util.find_spec("jupyterlab") is not None


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _error(message: str) -> int:
    print(f"muse-explore lab: error: {message}", file=sys.stderr)
    return 2


def _prepare(target: Path) -> str | None:
    """Fill ``target`` from the checkout's notebooks and say so; an error message on failure."""
    source = notebooks_source()
    if not source.is_dir():
        return (
            f"no notebooks folder at {source}: the notebooks ship with the source repository, "
            "not with the wheel, so the lab command needs a source checkout of muse-explore "
            'installed with pip install -e ".[lab]" from its root'
        )
    try:
        copied, kept = copy_notebooks(source, target)
    except OSError as err:
        return f"cannot copy the notebooks to {target}: {err}"
    print(f"muse-explore lab: serving {target} (notebooks from {source})")
    if copied:
        print(f"  copied: {', '.join(copied)}")
    if kept:
        print(f"  kept as they are (already there; delete one to get it fresh): {', '.join(kept)}")
    sys.stdout.flush()  # before JupyterLab's own output
    return None


def run(args) -> int:
    """Copy the notebooks, start JupyterLab on the copy and return jupyter's exit status."""
    if not jupyterlab_installed():
        return _error(
            "JupyterLab is not installed in this environment; install the widget stack with "
            'pip install -e ".[lab]" (from the repository root)'
        )
    target = Path(args.dir).expanduser().resolve()  # relative: from the current directory
    problem = _prepare(target)
    if problem:
        return _error(problem)
    name = notebook_name(args.notebook)
    if not (target / name).is_file():
        available = ", ".join(sorted(p.name for p in target.glob("*.ipynb"))) or "none"
        return _error(f"no notebook {name} in {target} (available: {available})")
    cmd = build_command(
        target,
        name,
        port=args.port,
        no_browser=args.no_browser,
        extra_args=args.extra_args,
    )
    return serve(cmd, cwd=target)
