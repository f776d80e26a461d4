import pytest

from muse_explore.errors import MuSEFileError
from muse_explore.samples import repository_file, repository_root


def test_the_repository_is_found_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a served copy of the notebooks runs elsewhere
    monkeypatch.delenv("MUSE_EXPLORE_REPO", raising=False)
    path = repository_file("sample_data/data/peptide.extxyz.xz")
    assert path.is_file() and path.is_relative_to(repository_root())


def test_missing_files_and_repositories_are_named(tmp_path, monkeypatch):
    with pytest.raises(MuSEFileError, match="make-data"):
        repository_file("sample_data/data/nope.extxyz.xz")
    monkeypatch.setenv("MUSE_EXPLORE_REPO", str(tmp_path))
    with pytest.raises(MuSEFileError, match="not the wheel"):
        repository_root()
    (tmp_path / "sample_data").mkdir()
    assert repository_root() == tmp_path
