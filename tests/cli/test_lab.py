"""``muse-explore lab``: the jupyter command it builds and its error paths (no server started)."""

import sys
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
        self.killed = False
        FakePopen.calls.append(self)

    def wait(self):
        result = self.waits.pop(0)
        if isinstance(result, BaseException):
            raise result
        return result

    def kill(self):
        self.killed = True


@pytest.fixture
def notebooks(tmp_path, monkeypatch):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    (folder / "01_quickstart.ipynb").write_text("{}")
    (folder / "02_other.ipynb").write_text("{}")
    monkeypatch.setattr(lab, "notebooks_dir", lambda: folder)
    FakePopen.calls = []
    monkeypatch.setattr(lab.subprocess, "Popen", FakePopen)
    return folder


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


def test_notebooks_dir_is_the_checkouts():
    assert lab.notebooks_dir() == ROOT / "notebooks"


def test_main_runs_jupyter_lab_on_the_quickstart(notebooks):
    assert main(["lab"]) == 0
    (call,) = FakePopen.calls
    assert call.cwd == notebooks
    assert call.cmd[1:4] == ["-m", "jupyter", "lab"]
    assert call.cmd[-1] == str(notebooks.resolve() / "01_quickstart.ipynb")
    assert "--no-browser" not in call.cmd
    assert not any(a.startswith("--ServerApp.port") for a in call.cmd)


def test_main_passes_options_and_unknown_args_to_jupyter(notebooks):
    argv = ["lab", "--notebook", "02_other", "--port", "9000", "--no-browser", "--ip", "0.0.0.0"]
    assert main(argv) == 0
    (call,) = FakePopen.calls
    assert call.cmd[-1] == str(notebooks.resolve() / "02_other.ipynb")
    assert "--LabApp.default_url=/lab/tree/02_other.ipynb" in call.cmd
    assert "--ServerApp.port=9000" in call.cmd and "--no-browser" in call.cmd
    assert call.cmd[-3:-1] == ["--ip", "0.0.0.0"]


def test_jupyters_exit_status_is_returned_and_ctrl_c_does_not_kill_it(notebooks, monkeypatch):
    def popen(cmd, cwd=None):
        return FakePopen(cmd, cwd, waits=[KeyboardInterrupt(), 3])

    monkeypatch.setattr(lab.subprocess, "Popen", popen)
    assert main(["lab"]) == 3
    assert not FakePopen.calls[0].killed


def test_other_subcommands_still_reject_unknown_args(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--no-such-option"])
    assert exc.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_missing_jupyterlab_names_the_lab_extra(notebooks, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "jupyterlab", None)  # find_spec answers None
    assert main(["lab"]) == 2
    err = capsys.readouterr().err
    assert "JupyterLab is not installed" in err and 'pip install -e ".[lab]"' in err
    assert not FakePopen.calls


def test_missing_notebooks_folder_asks_for_a_source_checkout(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(lab, "notebooks_dir", lambda: tmp_path / "site-packages" / "notebooks")
    FakePopen.calls = []
    monkeypatch.setattr(lab.subprocess, "Popen", FakePopen)
    assert main(["lab"]) == 2
    err = capsys.readouterr().err
    assert "needs a source checkout" in err and "pip install -e" in err
    assert not FakePopen.calls


def test_unknown_notebook_lists_the_available_ones(notebooks, capsys):
    assert main(["lab", "--notebook", "99_nope"]) == 2
    err = capsys.readouterr().err
    assert "no notebook 99_nope.ipynb" in err
    assert "01_quickstart.ipynb, 02_other.ipynb" in err
    assert not FakePopen.calls
