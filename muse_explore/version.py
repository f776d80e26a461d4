"""The installed package's version (from its metadata), importable without the package's API."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("muse-explore")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"
