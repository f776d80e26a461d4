"""A real JupyterLab server and a headless Debian Chromium, for the browser tests.

The server runs on a temporary copy of the notebooks (outputs stripped), with its config, data,
runtime, settings and workspace folders in temporary directories, so neither the repository nor
the user's Jupyter state is touched. Chromium is Debian's (``/usr/bin/chromium``, never a
``playwright install`` download); SwiftShader gives it a software WebGL, without which the nglview
canvas stays blank.
"""

import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT = 90.0


def require_browser_stack():
    """Skip unless Debian's Chromium and the playwright and jupyterlab packages are present."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"{CHROMIUM} is missing (Debian: apt-get install chromium; .ci/run does it)")
    for package in ("playwright", "jupyterlab"):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"the {package} package is missing (pip install -e '.[test]')")


def strip_outputs(path: Path) -> None:
    """Clear outputs, execution counts and saved widget state of the notebook at ``path``.

    Every prompt then reads ``[ ]:`` until the kernel has run the cell, so a run is complete
    exactly when all prompts carry a number, and no stale widget view can report a missing model.
    """
    nb = json.loads(path.read_text())
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nb.get("metadata", {}).pop("widgets", None)
    path.write_text(json.dumps(nb, indent=1))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """A running JupyterLab server."""

    root: Path
    port: int
    token: str
    log: Path

    def url(self, notebook: str) -> str:
        """The lab URL that opens ``notebook`` in a fresh workspace (``reset``)."""
        return f"http://127.0.0.1:{self.port}/lab/tree/{notebook}?reset&token={self.token}"

    def log_tail(self, n: int = 40) -> str:
        """The last ``n`` lines of the server's log."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


def _start_lab(root: Path, state: Path) -> tuple[subprocess.Popen, LabServer]:
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(state / "config"),
        JUPYTER_DATA_DIR=str(state / "data"),
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        IPYTHONDIR=str(state / "ipython"),
        JUPYTERLAB_SETTINGS_DIR=str(state / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"),
    )
    # no "receive Jupyter news?" toast over the notebook, and no update check
    settings = state / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    log = state / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = LabServer(root=root, port=port, token=token, log=log)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    status_url = f"http://127.0.0.1:{port}/api/status?token={token}"
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited ({proc.returncode}):\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(status_url, timeout=2) as reply:
                if reply.status == 200:
                    return proc, server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(
                f"jupyter lab did not answer within {SERVER_START_TIMEOUT:.0f} s:\n"
                f"{server.log_tail()}"
            )
        time.sleep(0.3)


@pytest.fixture(scope="module")
def lab_server(lab_root, tmp_path_factory):
    """JupyterLab serving ``lab_root`` (a fixture of the test module: a folder of notebooks).

    The notebooks' outputs are stripped first; the server is stopped (and its kernels shut
    down) after the module's tests.
    """
    require_browser_stack()
    for nb in Path(lab_root).rglob("*.ipynb"):
        strip_outputs(nb)
    proc, server = _start_lab(Path(lab_root), tmp_path_factory.mktemp("jupyter-state"))
    yield server
    proc.terminate()  # jupyter shuts its kernels down on SIGTERM
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class BrowserPage:
    """A Playwright page and the console messages it has logged (``"type: text"``)."""

    page: object
    console: list


@pytest.fixture
def browser_page(tmp_path):
    """A page of a headless Chromium with a fresh profile in ``tmp_path``."""
    require_browser_stack()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1600, "height": 1800},  # tall: the 3D view and the charts
        )
        page = context.new_page()
        console = []
        page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
        # uncaught exceptions (a widget view whose render throws) are not console messages
        page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
        try:
            yield BrowserPage(page=page, console=console)
        finally:
            context.close()
