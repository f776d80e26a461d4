"""``muse-explore lab``: the notebooks it copies, the command it builds, its error paths and
the signals it passes on (a fake JupyterLab; no server or browser started)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from muse_explore.cli import lab
from muse_explore.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


class FakePopen:
    """Records the command instead of starting jupyter; ``wait`` answers from a script."""

    calls = []

    def __init__(self, cmd, cwd=None, waits=(0,)):
        self.cmd, self.cwd, self.waits = cmd, cwd, list(waits)
        self.returncode = None
        self.terminated = False
        self.signals = []
        FakePopen.calls.append(self)

    def wait(self, timeout=None):
        if self.returncode is not None:
            return self.returncode
        result = self.waits.pop(0)
        if isinstance(result, BaseException):
            raise result
        self.returncode = result
        return result

    def poll(self):
        return self.returncode

    def send_signal(self, signum):
        self.signals.append(signum)

    def terminate(self):
        self.terminated = True
        self.returncode = -signal.SIGTERM


@pytest.fixture
def source(tmp_path, monkeypatch):
    """The shipped notebooks (two, plus a generator script that is not copied)."""
    folder = tmp_path / "repo" / "notebooks"
    folder.mkdir(parents=True)
    (folder / "01_quickstart.ipynb").write_text('{"shipped": 1}')
    (folder / "02_other.ipynb").write_text('{"shipped": 2}')
    (folder / "make_notebooks.py").write_text("")
    monkeypatch.setattr(lab, "notebooks_source", lambda: folder)
    monkeypatch.setattr(lab, "jupyterlab_installed", lambda: True)
    FakePopen.calls = []
    monkeypatch.setattr(lab.subprocess, "Popen", FakePopen)
    return folder


@pytest.fixture
def served(tmp_path):
    return tmp_path / "served"


def test_build_command_defaults(tmp_path):
    cmd = lab.build_command(tmp_path, "01_quickstart.ipynb", as_root=False)
    assert cmd == [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={tmp_path.resolve()}",
        "--LabApp.default_url=/lab/tree/01_quickstart.ipynb",
        str(tmp_path.resolve() / "01_quickstart.ipynb"),
    ]


def test_build_command_options_and_extra_args(tmp_path):
    cmd = lab.build_command(
        tmp_path,
        "a.ipynb",
        port=8899,
        no_browser=True,
        extra_args=["--", "--ServerApp.ip=0.0.0.0", "--debug"],
        python="/opt/py/bin/python",
    )
    assert cmd[:4] == ["/opt/py/bin/python", "-m", "jupyter", "lab"]
    assert "--ServerApp.port=8899" in cmd and "--no-browser" in cmd
    assert "--" not in cmd
    assert cmd[-3:] == ["--ServerApp.ip=0.0.0.0", "--debug", str(tmp_path.resolve() / "a.ipynb")]


def test_root_gets_allow_root(tmp_path, monkeypatch):
    """Jupyter refuses to run as root without --allow-root (containers, CI machines)."""
    assert "--allow-root" in lab.build_command(tmp_path, "a.ipynb", as_root=True)
    monkeypatch.setattr(lab, "_is_root", lambda: True)
    assert "--allow-root" in lab.build_command(tmp_path, "a.ipynb")
    monkeypatch.setattr(lab, "_is_root", lambda: False)
    assert "--allow-root" not in lab.build_command(tmp_path, "a.ipynb")


def test_notebook_name_adds_the_suffix():
    assert lab.notebook_name("01_quickstart") == "01_quickstart.ipynb"
    assert lab.notebook_name("01_quickstart.ipynb") == "01_quickstart.ipynb"


def test_notebooks_source_is_the_checkouts():
    assert lab.notebooks_source() == ROOT / "notebooks"


# --- the copy -----------------------------------------------------------------------------


def test_a_fresh_folder_gets_every_notebook_and_is_served(source, served, capsys):
    target = served / "deeper"  # parents are created too
    assert main(["lab", "--dir", str(target)]) == 0
    assert sorted(p.name for p in target.iterdir()) == ["01_quickstart.ipynb", "02_other.ipynb"]
    assert (target / "02_other.ipynb").read_text() == '{"shipped": 2}'
    (call,) = FakePopen.calls
    assert call.cwd == target
    assert f"--ServerApp.root_dir={target}" in call.cmd
    assert call.cmd[-1] == str(target / "01_quickstart.ipynb")
    out = capsys.readouterr().out
    assert f"serving {target} (notebooks from {source})" in out
    assert "copied: 01_quickstart.ipynb, 02_other.ipynb" in out and "kept" not in out


def test_an_edited_notebook_is_kept_and_a_new_one_added(source, served, capsys):
    served.mkdir()
    (served / "01_quickstart.ipynb").write_text('{"mine": "with outputs"}')
    (served / "my_own.ipynb").write_text("{}")
    assert main(["lab", "--dir", str(served)]) == 0
    assert (served / "01_quickstart.ipynb").read_text() == '{"mine": "with outputs"}'
    assert (served / "02_other.ipynb").read_text() == '{"shipped": 2}'
    assert (served / "my_own.ipynb").is_file()
    out = capsys.readouterr().out
    assert "copied: 02_other.ipynb\n" in out
    assert "kept as they are" in out and out.rstrip().endswith(": 01_quickstart.ipynb")


def test_a_second_start_copies_nothing(source, served, capsys):
    assert main(["lab", "--dir", str(served)]) == 0
    capsys.readouterr()
    assert main(["lab", "--dir", str(served)]) == 0
    out = capsys.readouterr().out
    assert "copied" not in out and "01_quickstart.ipynb, 02_other.ipynb" in out


def test_a_relative_dir_is_taken_from_the_current_directory(source, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["lab", "--dir", "nb"]) == 0
    assert (work / "nb" / "01_quickstart.ipynb").is_file()
    assert FakePopen.calls[0].cwd == work.resolve() / "nb"


def test_the_default_folder_is_in_the_home_directory(source, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert main(["lab"]) == 0
    assert FakePopen.calls[0].cwd == (tmp_path / "home" / "muse-explore-notebooks").resolve()
    assert (tmp_path / "home" / "muse-explore-notebooks" / "01_quickstart.ipynb").is_file()


def test_a_notebook_of_the_users_own_can_be_opened(source, served):
    served.mkdir()
    (served / "my_own.ipynb").write_text("{}")
    assert main(["lab", "--dir", str(served), "--notebook", "my_own"]) == 0
    assert FakePopen.calls[0].cmd[-1] == str(served / "my_own.ipynb")


def test_a_file_in_the_way_is_an_error(source, served, capsys):
    served.write_text("not a folder")
    assert main(["lab", "--dir", str(served)]) == 2
    assert f"cannot copy the notebooks to {served}" in capsys.readouterr().err
    assert not FakePopen.calls


def test_main_passes_options_and_unknown_args_to_jupyter(source, served):
    argv = ["lab", "--dir", str(served), "--notebook", "02_other", "--port", "9000"]
    assert main([*argv, "--no-browser", "--ip", "0.0.0.0"]) == 0
    (call,) = FakePopen.calls
    assert call.cmd[1:4] == ["-m", "jupyter", "lab"]
    assert call.cmd[-1] == str(served / "02_other.ipynb")
    assert "--LabApp.default_url=/lab/tree/02_other.ipynb" in call.cmd
    assert "--ServerApp.port=9000" in call.cmd and "--no-browser" in call.cmd
    assert call.cmd[-3:-1] == ["--ip", "0.0.0.0"]


def test_other_subcommands_still_reject_unknown_args(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--no-such-option"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_missing_jupyterlab_names_the_lab_extra(source, served, monkeypatch, capsys):
    monkeypatch.undo()  # the real check, with jupyterlab hidden
    monkeypatch.setattr(lab, "notebooks_source", lambda: source)
    monkeypatch.setattr(lab.subprocess, "Popen", FakePopen)
    monkeypatch.setitem(sys.modules, "jupyterlab", None)  # find_spec answers None
    assert main(["lab", "--dir", str(served)]) == 2
    err = capsys.readouterr().err
    assert "JupyterLab is not installed" in err and 'pip install -e ".[lab]"' in err
    assert not FakePopen.calls and not served.exists()


def test_missing_notebooks_folder_asks_for_a_source_checkout(
    source, tmp_path, served, monkeypatch, capsys
):
    monkeypatch.setattr(lab, "notebooks_source", lambda: tmp_path / "site-packages" / "notebooks")
    assert main(["lab", "--dir", str(served)]) == 2
    err = capsys.readouterr().err
    assert "not with the wheel" in err and "needs a source checkout" in err
    assert 'pip install -e ".[lab]"' in err
    assert not FakePopen.calls and not served.exists()


def test_unknown_notebook_lists_the_available_ones(source, served, capsys):
    assert main(["lab", "--dir", str(served), "--notebook", "99_nope"]) == 2
    err = capsys.readouterr().err
    assert "no notebook 99_nope.ipynb" in err
    assert "01_quickstart.ipynb, 02_other.ipynb" in err
    assert not FakePopen.calls


# --- the server process -------------------------------------------------------------------


def test_the_childs_exit_status_is_returned(tmp_path):
    assert lab.serve([sys.executable, "-c", "raise SystemExit(3)"], cwd=tmp_path) == 3
    killed = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    assert lab.serve([sys.executable, "-c", killed], cwd=tmp_path) == 128 + signal.SIGKILL


def test_a_keyboard_interrupt_here_stops_the_child(source, served, monkeypatch):
    def popen(cmd, cwd=None):
        return FakePopen(cmd, cwd, waits=[KeyboardInterrupt()])

    monkeypatch.setattr(lab.subprocess, "Popen", popen)
    assert main(["lab", "--dir", str(served)]) == 130
    assert FakePopen.calls[0].terminated


def test_the_signal_handlers_are_restored(source, served):
    before = [signal.getsignal(s) for s in lab.FORWARDED]
    assert main(["lab", "--dir", str(served)]) == 0
    assert [signal.getsignal(s) for s in lab.FORWARDED] == before


def test_a_signal_before_the_child_starts_is_sent_once_it_does(monkeypatch):
    monkeypatch.setattr(lab, "_terminal_interrupts_us", lambda: False)
    forward, child = lab._Forwarder(), FakePopen([])
    forward(signal.SIGTERM, None)
    forward.start(child)
    forward(signal.SIGINT, None)
    assert child.signals == [signal.SIGTERM, signal.SIGINT]


def test_ctrl_c_in_the_terminal_is_not_sent_twice(monkeypatch):
    """The terminal's SIGINT reaches JupyterLab itself; a second one would skip its prompt."""
    monkeypatch.setattr(lab, "_terminal_interrupts_us", lambda: True)
    forward, child = lab._Forwarder(), FakePopen([])
    forward.start(child)
    forward(signal.SIGINT, None)
    forward(signal.SIGTERM, None)
    assert child.signals == [signal.SIGTERM]


# a fake JupyterLab: says it is ready, then waits for a signal and records it
FAKE_JUPYTER = r"""
import os, pathlib, signal, sys, time
out = pathlib.Path(sys.argv[1])
def stop(signum, frame):
    (out / "got").write_text(str(signum))
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
(out / "ready.tmp").write_text(str(os.getpid()))
(out / "ready.tmp").rename(out / "ready")
time.sleep(60)
"""

# the muse-explore entry point with the fake JupyterLab in place of the real one
ENTRY_POINT = r"""
import sys
from pathlib import Path
from muse_explore.cli import lab
from muse_explore.cli.main import main
out, fake = Path(sys.argv[1]), sys.argv[2]
lab.notebooks_source = lambda: out / "source"
lab.jupyterlab_installed = lambda: True
lab.build_command = lambda *args, **kwargs: [sys.executable, "-c", fake, str(out)]
sys.exit(main(["lab", "--dir", str(out / "served"), "--no-browser"]))
"""


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_one_kill_stops_muse_explore_lab_and_jupyter(tmp_path, signum):
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "01_quickstart.ipynb").write_text("{}")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-c", ENTRY_POINT, str(tmp_path), FAKE_JUPYTER]
    # stdin is no terminal: the signal can only reach the fake JupyterLab through lab.py
    parent = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    ready = tmp_path / "ready"
    child = None
    try:
        assert _wait_for(lambda: ready.exists() or parent.poll() is not None, timeout=120)
        assert ready.exists(), parent.communicate()[0]
        child = int(ready.read_text())
        parent.send_signal(signum)
        out, _ = parent.communicate(timeout=10)
        assert parent.returncode == 0, out
        assert (tmp_path / "got").read_text() == str(int(signum))
        assert _wait_for(lambda: _gone(child), timeout=5)
        assert f"serving {tmp_path / 'served'}" in out
    finally:
        if parent.poll() is None:
            parent.kill()
        if child is not None and not _gone(child):
            os.kill(child, signal.SIGKILL)
