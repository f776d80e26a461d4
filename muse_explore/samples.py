"""Files of the source repository: the sample data (``sample_data/``) and benchmark outputs.

The notebooks read GFN2-xTB data sets and benchmark trajectories that live in the repository,
not in the package. ``muse-explore lab`` serves a *copy* of the notebooks elsewhere, so they
find those files through the installed package: an editable install (the README's setup)
sits in the repository, whose root is the package folder's parent. ``MUSE_EXPLORE_REPO``
points elsewhere when needed.
"""

from __future__ import annotations

import os
from pathlib import Path

from muse_explore.errors import MuSEFileError


def repository_root() -> Path:
    """The source repository's root folder (the one holding ``sample_data/``).

    Raises:
        MuSEFileError: when there is none (a wheel install without ``MUSE_EXPLORE_REPO``).
    """
    env = os.environ.get("MUSE_EXPLORE_REPO")
    root = Path(env) if env else Path(__file__).resolve().parents[1]
    if not (root / "sample_data").is_dir():
        raise MuSEFileError(
            f"no muse_explore repository at {root} (no sample_data/ there): the sample data "
            "ship with the source repository, not the wheel; install it with "
            "`pip install -e .` from a checkout or set MUSE_EXPLORE_REPO to one"
        )
    return root


def repository_file(relative: str) -> Path:
    """``relative`` (e.g. ``"sample_data/data/peptide.extxyz.xz"``) inside the repository.

    Raises:
        MuSEFileError: when the repository or the file is missing (with the command that
            makes it, for the data sets).
    """
    path = repository_root() / relative
    if not path.is_file():
        hint = ""
        if relative.startswith("sample_data/data/"):
            hint = " (`muse-explore make-data` writes the data sets; see docs/training.md)"
        raise MuSEFileError(f"{path} does not exist{hint}")
    return path
