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
