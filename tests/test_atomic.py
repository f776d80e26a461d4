import pytest

from muse_explore.atomic import atomic_open, atomic_path


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "data.json"
    with atomic_open(path) as fh:
        fh.write("old")
    with pytest.raises(RuntimeError), atomic_open(path) as fh:
        fh.write("half of the new")
        raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert sorted(p.name for p in path.parent.iterdir()) == ["data.json"]


def test_the_temporary_keeps_the_suffixes(tmp_path):
    with atomic_path(tmp_path / "x.extxyz.xz") as tmp:
        assert tmp.name.endswith("x.extxyz.xz") and tmp.parent == tmp_path
        tmp.write_bytes(b"1")
    assert (tmp_path / "x.extxyz.xz").read_bytes() == b"1"


def test_stale_temporaries_of_dead_writers_are_removed(tmp_path):
    import os
    import subprocess
    import sys

    from muse_explore.atomic import remove_stale_temporaries

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    stale = tmp_path / f".tmp-{dead.stdout.strip()}-abcd-last.pt"
    stale.write_bytes(b"")  # a kill during a save left it, empty
    live = tmp_path / f".tmp-{os.getppid()}-abcd-last.pt"  # a writer that is still running
    live.write_bytes(b"")
    keep = tmp_path / "last.pt"
    keep.write_bytes(b"x")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, "last.pt"])
